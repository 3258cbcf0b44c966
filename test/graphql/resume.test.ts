import { afterAll, beforeAll, expect, test } from 'vitest';
import type { RunningServer } from '../../server/app.js';
import { CreateUserDocument, UpdateUserDocument, ViewsDocument } from './generated/graphql.js';
import { must, type Transport, urqlOverWs } from './helpers/clients.js';
import { followView } from './helpers/demo.js';
import { LocalView } from './helpers/local-view.js';
import { eventually, startTestServer } from './helpers/server.js';

/**
 * `sinceVersion`: a subscriber resuming gets exactly the deltas it missed while the server
 * still holds them (history of 5 here), else a SNAPSHOT; then live deltas with no gap.
 */
const HISTORY = 5;
let server: RunningServer;
let transport: Transport;
let created = 0;

beforeAll(async () => {
  server = await startTestServer({ historySize: HISTORY });
  transport = urqlOverWs(server);
});

afterAll(async () => {
  await transport?.close();
  await server?.close();
});

async function createUsers(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    created++;
    await must(transport.client, CreateUserDocument, {
      input: {
        id: `r${created}`,
        name: `User ${created}`,
        email: `u${created}@example.com`,
        role: 'viewer',
        active: created % 2 === 0,
      },
    });
  }
}

async function usersCountVersion(): Promise<number> {
  const { views } = await must(transport.client, ViewsDocument, {});
  return views.find((view) => view.id === 'usersCount')?.version ?? NaN;
}

test('resuming within the history replays exactly the missed deltas, then goes live', async () => {
  const first = followView(transport.client, 'usersCount');
  await first.feed.until((events) => events.length === 1, 'snapshot');
  const snapshot = first.feed.events[0];
  first.stop();
  expect(snapshot?.kind).toBe('SNAPSHOT');
  const since = snapshot?.version ?? NaN;
  const count = created;

  await createUsers(3);
  const resumed = followView(transport.client, 'usersCount', since);
  await resumed.feed.until((events) => events.length === 3, 'missed deltas');
  expect(
    resumed.feed.events.map((e) => [e.kind, e.version, (e.updated[0] as { count?: number } | undefined)?.count]),
  ).toEqual([
    ['DELTA', since + 1, count + 1],
    ['DELTA', since + 2, count + 2],
    ['DELTA', since + 3, count + 3],
  ]);

  await createUsers(1);
  await resumed.feed.until((events) => events.length === 4, 'live delta');
  expect(resumed.feed.events[3]).toMatchObject({ kind: 'DELTA', version: since + 4 });
  resumed.stop();

  // Exactly HISTORY missed: still held.
  const edge = await usersCountVersion();
  await createUsers(HISTORY);
  const atEdge = followView(transport.client, 'usersCount', edge);
  await atEdge.feed.until((events) => events.length === HISTORY, 'deltas at the edge of the history');
  expect(atEdge.feed.events.map((e) => `${e.kind}${e.version}`)).toEqual(
    Array.from({ length: HISTORY }, (_, i) => `DELTA${edge + 1 + i}`),
  );
  atEdge.stop();
});

test('resuming from a version older than the history gets a SNAPSHOT', async () => {
  const old = await usersCountVersion();
  await createUsers(HISTORY + 2);
  const now = await usersCountVersion();
  const resumed = followView(transport.client, 'usersCount', old);
  await resumed.feed.until((events) => events.length === 1, 'snapshot');
  expect(resumed.feed.events[0]).toMatchObject({
    kind: 'SNAPSHOT',
    version: now,
    added: [{ id: '*', count: created }],
  });
  resumed.stop();
});

test('resuming at the current version sends nothing until the next change', async () => {
  const now = await usersCountVersion();
  await eventually(() => server.store.listenerCount('usersCount') === 0, 'earlier subscriptions to end');
  const resumed = followView(transport.client, 'usersCount', now);
  await eventually(() => server.store.listenerCount('usersCount') === 1, 'the subscription to be live');
  expect(resumed.feed.events).toEqual([]);
  await createUsers(1);
  await resumed.feed.until((events) => events.length === 1, 'the next delta');
  expect(resumed.feed.events[0]).toMatchObject({ kind: 'DELTA', version: now + 1 });
  resumed.stop();
});

test('a version the server never had (ahead, negative) gets a SNAPSHOT', async () => {
  const now = await usersCountVersion();
  for (const since of [now + 100, -1]) {
    const resumed = followView(transport.client, 'usersCount', since);
    await resumed.feed.until((events) => events.length === 1, `snapshot for ${since}`);
    expect(resumed.feed.events[0]).toMatchObject({ kind: 'SNAPSHOT', version: now });
    resumed.stop();
  }
});

test('a local copy resumed with the missed deltas matches the server hash', async () => {
  const local = new LocalView();
  const first = followView(transport.client, 'usersList');
  await first.feed.until((events) => events.length === 1, 'snapshot');
  for (const event of first.feed.events) local.apply(event);
  first.stop();

  await createUsers(2);
  await must(transport.client, UpdateUserDocument, { id: 'r1', patch: { name: 'Renamed', active: false } });
  const resumed = followView(transport.client, 'usersList', local.version);
  await resumed.feed.until((events) => events.length === 3, 'missed deltas');
  for (const event of resumed.feed.events) local.apply(event);
  resumed.stop();

  const { views } = await must(transport.client, ViewsDocument, {});
  const usersList = views.find((view) => view.id === 'usersList');
  expect(local.version).toBe(usersList?.version);
  expect(local.localHash()).toBe(usersList?.hash);
  expect(local.kinds).toEqual(['SNAPSHOT', 'DELTA', 'DELTA', 'DELTA']);
});
