import { parse } from 'graphql';
import { liveRootField, responseKey, withLiveFieldsText } from './document.js';
import { type LiveEvent, type LiveState, LiveView, type LiveViewOptions } from './live-view.js';
import type { LiveRow } from './order.js';

/** A sink as graphql-ws and graphql-sse call it. */
export interface Sink<T> {
  next(value: T): void;
  error(error: unknown): void;
  complete(): void;
}

/** What `followView` needs of a transport: graphql-ws's and graphql-sse's `Client` fit. */
export interface SubscribeClient {
  subscribe(
    payload: { query: string; variables?: Record<string, unknown> | null },
    sink: Sink<{ data?: unknown; errors?: readonly unknown[] }>,
  ): () => void;
}

export type FollowStatus = 'connecting' | 'live' | 'reconnecting' | 'failed' | 'stopped';

export interface FollowOptions extends LiveViewOptions {
  readonly variables?: Record<string, unknown>;
  /** Called on every status change; `error` says why on `reconnecting` and `failed`. */
  readonly onStatus?: (status: FollowStatus, error?: unknown) => void;
  /** Delay before the n-th reconnect in a row (default 100 ms doubling to 5 s). */
  readonly retryDelayMs?: (attempt: number) => number;
}

export interface Following<Row extends LiveRow> {
  readonly view: LiveView<Row>;
  /** The current result; undefined until the first SNAPSHOT. */
  readonly state: LiveState<Row> | undefined;
  readonly status: FollowStatus;
  stop(): void;
}

const defaultDelay = (attempt: number): number => Math.min(5000, 100 * 2 ** Math.max(0, attempt - 1));

/** GraphQL errors (an array) end a subscription for good; anything else is the connection. */
function isGraphQLErrors(error: unknown): boolean {
  return Array.isArray(error) && error.length > 0;
}

/**
 * Follows one view subscription into a `LiveView` over any graphql-ws or graphql-sse client,
 * and keeps following it: when the stream ends (server restart: graphql-ws `complete`), the
 * connection drops, an event skips a version, or the hash does not match, it subscribes again
 * with `sinceVersion` set to the copy's version (after a mismatch, without, for a SNAPSHOT).
 * GraphQL errors (a bad query or arguments, FORBIDDEN) stop it with status `failed`.
 */
export function followView<Row extends LiveRow = LiveRow>(
  client: SubscribeClient,
  query: string,
  options: FollowOptions = {},
): Following<Row> {
  const found = liveRootField(parse(query));
  if (found === null) throw new TypeError('followView: the document must be a subscription with one root field');
  const key = responseKey(found.root);
  const text = withLiveFieldsText(query);
  const view = new LiveView<Row>(options);
  const delay = options.retryDelayMs ?? defaultDelay;
  let status: FollowStatus = 'connecting';
  let dispose: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let attempt = 0;
  let generation = 0;

  const setStatus = (next: FollowStatus, error?: unknown): void => {
    status = next;
    options.onStatus?.(next, error);
  };

  const restart = (error: unknown): void => {
    dispose?.();
    dispose = undefined;
    generation++;
    if (status === 'stopped' || status === 'failed') return;
    attempt++;
    setStatus('reconnecting', error);
    timer = setTimeout(start, delay(attempt));
  };

  function start(): void {
    timer = undefined;
    const mine = ++generation;
    const since = view.version;
    const variables = { ...options.variables, ...(since === undefined ? {} : { sinceVersion: since }) };
    const live = (): boolean => mine === generation;
    dispose = client.subscribe(
      { query: text, variables },
      {
        next: (result) => {
          if (!live()) return;
          if (result.errors !== undefined && result.errors.length > 0) {
            dispose?.();
            generation++;
            setStatus('failed', result.errors);
            return;
          }
          const event = (result.data as { [key: string]: unknown } | null | undefined)?.[key] as LiveEvent<Row>;
          let outcome: ReturnType<LiveView<Row>['apply']>;
          try {
            outcome = view.apply(event);
          } catch (error) {
            dispose?.();
            generation++;
            setStatus('failed', error);
            return;
          }
          if (outcome === 'gap' || outcome === 'mismatch') return restart(new Error(`${outcome} at ${event.version}`));
          attempt = 0;
          if (status !== 'live') setStatus('live');
        },
        error: (error) => {
          if (!live()) return;
          if (isGraphQLErrors(error)) {
            generation++;
            setStatus('failed', error);
          } else restart(error);
        },
        complete: () => {
          if (live()) restart(new Error('the server ended the subscription'));
        },
      },
    );
  }

  setStatus('connecting');
  start();
  return {
    view,
    get state() {
      return view.state;
    },
    get status() {
      return status;
    },
    stop() {
      if (timer !== undefined) clearTimeout(timer);
      generation++;
      const release = dispose;
      dispose = undefined;
      if (status !== 'failed') setStatus('stopped');
      release?.();
    },
  };
}
