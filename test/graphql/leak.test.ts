import { print } from 'graphql';
import { createClient as createSseClient } from 'graphql-sse';
import type { Client as WsClient } from 'graphql-ws';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { RunningServer } from '../../server/app.js';
import { CreateUserDocument, UsersCountDocument, UsersListDocument } from './generated/graphql.js';
import { createGraphQLWsClient, type Feed, followWs } from './helpers/clients.js';
import { eventually, startTestServer } from './helpers/server.js';

/**
 * Unsubscribing releases the subscriber: after 10,000 subscribe → SNAPSHOT → complete
 * cycles the view topics have no listener left, and closing a socket or an SSE stream
 * releases its subscriptions too. Checked with listener counts, not timing.
 */
const CYCLES = 10_000;
const CONCURRENCY = 50;

let server: RunningServer;
let ws: WsClient;
const warnings: string[] = [];
const onWarning = (warning: Error): void => void warnings.push(`${warning.name}: ${warning.message}`);

beforeAll(async () => {
  server = await startTestServer();
  ws = createGraphQLWsClient(server);
  process.on('warning', onWarning);
});

afterAll(async () => {
  process.off('warning', onWarning);
  await ws?.dispose();
  await server?.close();
});

test(`${CYCLES} subscribe/unsubscribe cycles leave no listener behind`, async () => {
  const query = print(UsersCountDocument);
  let done = 0;
  let peak = 0;
  const loop = async (): Promise<void> => {
    while (done < CYCLES) {
      done++;
      const { feed, stop } = followWs(ws, query, {}, (data) => data['usersCount']);
      await feed.until((events) => events.length === 1, 'snapshot');
      peak = Math.max(peak, server.store.listenerCount());
      stop();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  expect(done).toBe(CYCLES);
  expect(peak).toBeLessThanOrEqual(CONCURRENCY);
  await eventually(() => server.store.listenerCount() === 0, 'every listener to be released');
  expect(warnings).toEqual([]);
});

test('an idle subscription is released at once, without waiting for an event', async () => {
  const { feed, stop } = followWs(ws, print(UsersListDocument), {}, (data) => data['usersList']);
  await feed.until((events) => events.length === 1, 'snapshot');
  expect(server.store.listenerCount('usersList')).toBe(1);
  stop();
  await eventually(() => server.store.listenerCount('usersList') === 0, 'release');
});

test('closing sockets releases all of their subscriptions', async () => {
  const sockets = Array.from({ length: 5 }, () => createGraphQLWsClient(server));
  const feeds: Feed<unknown>[] = [];
  for (const socket of sockets) {
    for (let i = 0; i < 20; i++)
      feeds.push(followWs(socket, print(UsersListDocument), {}, (data) => data['usersList']).feed);
  }
  await Promise.all(feeds.map((feed) => feed.until((events) => events.length === 1, 'snapshot')));
  expect(server.store.listenerCount('usersList')).toBe(100);
  await Promise.all(sockets.map((socket) => socket.dispose()));
  await eventually(() => server.store.listenerCount() === 0, 'release on close');
});

test('ending SSE streams releases their subscriptions', async () => {
  const sse = createSseClient({ url: server.url, retryAttempts: 0 });
  const stops: (() => void)[] = [];
  let snapshots = 0;
  for (let i = 0; i < 20; i++) {
    stops.push(
      sse.subscribe(
        { query: print(UsersCountDocument) },
        { next: () => void snapshots++, error: () => undefined, complete: () => undefined },
      ),
    );
  }
  await eventually(() => snapshots === 20, 'SSE snapshots');
  expect(server.store.listenerCount('usersCount')).toBe(20);
  for (const stop of stops) stop();
  await eventually(() => server.store.listenerCount() === 0, 'release on SSE abort');
  sse.dispose();
});

test('listeners are per subscriber, and publishing still reaches the live ones', async () => {
  const a = followWs(ws, print(UsersCountDocument), {}, (data) => data['usersCount']);
  const b = followWs(ws, print(UsersCountDocument), {}, (data) => data['usersCount']);
  await Promise.all([a.feed, b.feed].map((feed) => feed.until((events) => events.length === 1, 'snapshot')));
  a.stop();
  await eventually(() => server.store.listenerCount('usersCount') === 1, 'one listener left');
  const created = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: print(CreateUserDocument),
      variables: { input: { id: 'l1', name: 'L', email: 'l@example.com', role: 'viewer', active: true } },
    }),
  });
  expect(created.status).toBe(200);
  await b.feed.until((events) => events.length === 2, 'delta');
  expect(a.feed.events).toHaveLength(1);
  b.stop();
  await eventually(() => server.store.listenerCount() === 0, 'release');
});
