import { type DocumentNode, GraphQLError, parse } from 'graphql';
import { createSchema, createYoga, maskError } from 'graphql-yoga';
import { afterEach, expect, test } from 'vitest';
import { type LiveStore, openLiveStore, ViewStream } from '../../app/index.js';
import { loadConfig } from '../../config/load.js';
import { type ResultWriter, useSharedEventExecution } from '../../graphql/index.js';

/**
 * A pushed subscription (graphql-ws) leaves envelop's chain at `useSharedEventExecution`, so
 * what the plugins after it would do is done there, once per cohort: unexpected errors in an
 * event are masked as yoga masks them (coded errors pass), an event over the response cap
 * becomes LIMIT_EXCEEDED and ends the stream, and an asynchronous result keeps the order.
 */
let store: LiveStore | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

const user = (i: number) => ({
  table: 'users',
  op: 'CREATE' as const,
  id: `u${i}`,
  data: { name: `U${i}`, email: 'e', role: 'r', active: true },
});

/** A writer that records each result's JSON, as graphql-ws's socket writer would send it. */
class RecordingWriter implements ResultWriter {
  readonly written: { json: unknown; skippable: boolean }[] = [];
  write(resultJson: string, skippable: boolean): boolean {
    this.written.push({ json: JSON.parse(resultJson), skippable });
    return true;
  }
  whenDrained(): void {}
}

let secretCalls = 0;
const schema = createSchema({
  typeDefs: /* GraphQL */ `
    type Query { ok: Boolean }
    type Event { kind: String! version: Int! secret: String coded: String later: String big: String }
    type Subscription { users: Event }
  `,
  resolvers: {
    Subscription: {
      users: {
        subscribe: () => new ViewStream((store as LiveStore).views, 'usersCount'),
        resolve: (event: unknown) => event,
      },
    },
    Event: {
      secret: () => {
        secretCalls++;
        throw new Error('the database password is hunter2');
      },
      coded: () => {
        throw new GraphQLError('not yours', { extensions: { code: 'FORBIDDEN' } });
      },
      later: async (event: { kind: string }) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        return event.kind;
      },
      big: (event: { kind: string }) => (event.kind === 'DELTA' ? 'x'.repeat(2000) : 'small'),
    },
  },
});

const MAX_RESPONSE_BYTES = 1000;
const yoga = createYoga({
  schema,
  logging: false,
  plugins: [
    useSharedEventExecution({
      maxResponseBytes: MAX_RESPONSE_BYTES,
      maskError: (error) => maskError(error, 'Unexpected error.') as GraphQLError,
    }),
  ],
});

/** Subscribes as the graphql-ws transport does (a `resultWriter` in the context), or, without one, as SSE does. */
const documents = new Map<string, DocumentNode>();
async function subscribe(query: string, writer?: ResultWriter): Promise<AsyncIterator<unknown>> {
  const { subscribe, contextFactory, schema } = yoga.getEnveloped(writer === undefined ? {} : { resultWriter: writer });
  // One document per text, as yoga's parse cache gives.
  let document = documents.get(query);
  if (document === undefined) documents.set(query, (document = parse(query)));
  const result = await subscribe({
    schema,
    document,
    contextValue: await contextFactory(),
  });
  return (result as AsyncIterable<unknown>)[Symbol.asyncIterator]();
}

async function until(condition: () => boolean, label: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

test('unexpected errors in a pushed event are masked once per cohort; coded errors pass', async () => {
  store = await openLiveStore(await loadConfig());
  secretCalls = 0;
  const writers = [new RecordingWriter(), new RecordingWriter()];
  const iterators = await Promise.all(
    writers.map((writer) => subscribe('subscription { users { kind version secret coded } }', writer)),
  );
  const ends = iterators.map((iterator) => iterator.next());
  await until(() => writers.every((writer) => writer.written.length === 1), 'the SNAPSHOTs');
  // Both joined at one version: one SNAPSHOT event, executed once for both.
  expect(secretCalls).toBe(1);
  secretCalls = 0;
  await store.apply([user(1)]);
  await until(() => writers.every((writer) => writer.written.length === 2), 'the DELTAs');
  for (const writer of writers) {
    const [, delta] = writer.written as [unknown, { json: { data: unknown; errors: { message: string }[] } }];
    expect(delta.json.data).toMatchObject({ users: { kind: 'DELTA', secret: null, coded: null } });
    const messages = delta.json.errors.map((error) => error.message).sort();
    expect(messages).toEqual(['Unexpected error.', 'not yours']);
    expect(JSON.stringify(delta.json)).not.toContain('hunter2');
  }
  // The DELTA was executed once for both subscribers.
  expect(secretCalls).toBe(1);
  await Promise.all(iterators.map((iterator) => iterator.return?.()));
  expect(await Promise.all(ends)).toEqual([
    { done: true, value: undefined },
    { done: true, value: undefined },
  ]);
  expect(store.listenerCount()).toBe(0);
});

test('asynchronous results of a pushed stream are written in version order', async () => {
  store = await openLiveStore(await loadConfig());
  const writer = new RecordingWriter();
  const iterator = await subscribe('subscription { users { kind version later } }', writer);
  const end = iterator.next();
  await until(() => writer.written.length === 1, 'the SNAPSHOT');
  for (let i = 1; i <= 5; i++) await store.apply([user(i)]);
  await until(() => writer.written.length === 6, 'five DELTAs');
  const events = writer.written.map(
    ({ json }) => (json as { data: { users: { kind: string; version: number; later: string } } }).data.users,
  );
  expect(events.map((event) => event.later)).toEqual(['SNAPSHOT', 'DELTA', 'DELTA', 'DELTA', 'DELTA', 'DELTA']);
  const versions = events.map((event) => event.version);
  expect(versions).toEqual([...versions].sort((a, b) => a - b));
  expect(new Set(versions).size).toBe(6);
  await iterator.return?.();
  expect(await end).toEqual({ done: true, value: undefined });
});

test('a pushed event over the response cap becomes LIMIT_EXCEEDED and ends the stream', async () => {
  store = await openLiveStore(await loadConfig());
  const writer = new RecordingWriter();
  const iterator = await subscribe('subscription { users { kind version big } }', writer);
  const end = iterator.next();
  await until(() => writer.written.length === 1, 'the SNAPSHOT');
  await store.apply([user(1)]);
  expect(await end).toEqual({ done: true, value: undefined });
  const last = writer.written[1] as { json: { data: unknown; errors: { extensions: unknown }[] }; skippable: boolean };
  expect(last.json.data).toBeNull();
  expect(last.json.errors[0]?.extensions).toEqual({
    code: 'LIMIT_EXCEEDED',
    limit: 'maxResponseBytes',
    max: MAX_RESPONSE_BYTES,
  });
  expect(last.skippable).toBe(false);
  expect(store.listenerCount()).toBe(0);
});

test('pulled results (SSE) of one cohort are one object that serialises itself once, as yoga asks', async () => {
  store = await openLiveStore(await loadConfig());
  // No resultWriter: the stream is pulled, as yoga's SSE processor reads it.
  const query = 'subscription { users { kind version } }';
  const [a, b] = await Promise.all([subscribe(query), subscribe(query)]);
  await Promise.all([a.next(), b.next()]); // the SNAPSHOTs
  await store.apply([user(1)]);
  const [deltaA, deltaB] = (await Promise.all([a.next(), b.next()])).map(
    (step) => (step as IteratorResult<{ stringify?: () => string }>).value,
  );
  expect(deltaB).toBe(deltaA);
  const stringify = deltaA?.stringify as () => string;
  const json = stringify();
  expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(deltaA)));
  expect(json).toContain('"kind":"DELTA"');
  expect(stringify()).toBe(json);
  await Promise.all([a.return?.(), b.return?.()]);
});
