import {
  type AnyVariables,
  Client,
  fetchExchange,
  type OperationResult,
  subscriptionExchange,
  type TypedDocumentNode,
} from '@urql/core';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { RunningServer } from '../../../server/app.js';

/** A urql client and how to close its transport. */
export interface Transport {
  readonly name: string;
  readonly client: Client;
  close(): Promise<void>;
}

interface SinkLike {
  next(value: unknown): void;
  error(error: unknown): void;
  complete(): void;
}
interface SubscribeLike {
  subscribe(payload: { query: string; variables?: Record<string, unknown> | null }, sink: SinkLike): () => void;
}

function forward(transport: SubscribeLike) {
  return (request: { query?: string | undefined; variables?: unknown }) => ({
    subscribe: (sink: SinkLike) => ({
      unsubscribe: transport.subscribe(
        { query: request.query ?? '', variables: (request.variables ?? null) as Record<string, unknown> | null },
        sink,
      ),
    }),
  });
}

export function createGraphQLWsClient(server: RunningServer): WsClient {
  return createWsClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
}

/** urql with every operation over graphql-ws. */
export function urqlOverWs(server: RunningServer): Transport {
  const ws = createGraphQLWsClient(server);
  const client = new Client({
    url: server.url,
    exchanges: [subscriptionExchange({ enableAllOperations: true, forwardSubscription: forward(ws as SubscribeLike) })],
  });
  return { name: 'graphql-ws', client, close: async () => ws.dispose() };
}

/** urql with subscriptions over SSE (graphql-sse client, distinct connections) and the rest over fetch. */
export function urqlOverSse(server: RunningServer): Transport {
  const sse = createSseClient({ url: server.url, retryAttempts: 0 });
  const client = new Client({
    url: server.url,
    preferGetMethod: false,
    exchanges: [subscriptionExchange({ forwardSubscription: forward(sse as SubscribeLike) }), fetchExchange],
  });
  return { name: 'sse', client, close: async () => sse.dispose() };
}

/** The events of one subscription, with a way to wait for a condition on them. */
export class Feed<T> {
  readonly events: T[] = [];
  error: unknown = undefined;
  completed = false;
  readonly #wakers = new Set<() => void>();

  push(event: T): void {
    this.events.push(event);
    this.#wake();
  }

  fail(error: unknown): void {
    this.error = error;
    this.#wake();
  }

  complete(): void {
    this.completed = true;
    this.#wake();
  }

  /** Waits until `condition(events)` holds; rejects on a subscription error or after `timeoutMs`. */
  until(condition: (events: readonly T[]) => boolean, label: string, timeoutMs = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (this.error !== undefined) {
          finish();
          reject(new Error(`${label}: subscription failed: ${JSON.stringify(this.error)}`));
          return true;
        }
        if (condition(this.events)) {
          finish();
          resolve();
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out waiting for ${label} (${this.events.length} events)`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.#wakers.delete(waker);
      };
      const waker = (): void => void check();
      if (!check()) this.#wakers.add(waker);
    });
  }

  #wake(): void {
    for (const waker of [...this.#wakers]) waker();
  }
}

/** Subscribes through urql; `pick` takes the update out of the result data. */
export function follow<Data, Variables extends AnyVariables, T>(
  client: Client,
  document: TypedDocumentNode<Data, Variables>,
  variables: Variables,
  pick: (data: Data) => T,
): { feed: Feed<T>; stop: () => void } {
  const feed = new Feed<T>();
  const { unsubscribe } = client
    .subscription(document, variables)
    .subscribe((result: OperationResult<Data, Variables>) => {
      if (result.error !== undefined)
        feed.fail(result.error.graphQLErrors.length > 0 ? result.error.graphQLErrors : result.error.message);
      else if (result.data !== undefined && result.data !== null) feed.push(pick(result.data));
    });
  return { feed, stop: unsubscribe };
}

/** Subscribes through a raw graphql-ws client. */
export function followWs<T>(
  ws: WsClient,
  query: string,
  variables: Record<string, unknown>,
  pick: (data: Record<string, unknown>) => T,
): { feed: Feed<T>; stop: () => void } {
  const feed = new Feed<T>();
  const stop = ws.subscribe<Record<string, unknown>>(
    { query, variables },
    {
      next: (result) => {
        if (result.errors !== undefined) feed.fail(result.errors);
        else if (result.data != null) feed.push(pick(result.data));
      },
      error: (error) => feed.fail(error instanceof Error ? error.message : error),
      complete: () => feed.complete(),
    },
  );
  return { feed, stop };
}

/** A query or mutation's data, or the `extensions.code` of each of its errors. */
export type Outcome<Data> = { ok: true; data: Data } | { ok: false; codes: string[]; messages: string[] };

export async function run<Data, Variables extends AnyVariables>(
  client: Client,
  document: TypedDocumentNode<Data, Variables>,
  variables: Variables,
): Promise<Outcome<Data>> {
  const isMutation = document.definitions.some((d) => d.kind === 'OperationDefinition' && d.operation === 'mutation');
  const result = isMutation
    ? await client.mutation(document, variables).toPromise()
    : await client.query(document, variables, { requestPolicy: 'network-only' }).toPromise();
  if (result.error !== undefined) {
    if (result.error.networkError !== undefined) throw result.error.networkError;
    return {
      ok: false,
      codes: result.error.graphQLErrors.map((error) => String(error.extensions['code'])),
      messages: result.error.graphQLErrors.map((error) => error.message),
    };
  }
  if (result.data === undefined || result.data === null) throw new Error('no data and no error');
  return { ok: true, data: result.data };
}

export async function must<Data, Variables extends AnyVariables>(
  client: Client,
  document: TypedDocumentNode<Data, Variables>,
  variables: Variables,
): Promise<Data> {
  const outcome = await run(client, document, variables);
  if (!outcome.ok) throw new Error(`unexpected errors: ${outcome.codes.join(', ')}: ${outcome.messages.join('; ')}`);
  return outcome.data;
}
