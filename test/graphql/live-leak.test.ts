import type { Client as WsClient } from 'graphql-ws';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import type { RunningServer } from '../../server/app.js';
import { mintToken } from '../../server/auth.js';
import { followWs } from './helpers/clients.js';
import { POST_FIELDS, pick, post, random, randomOrder, randomWhere, USER_FIELDS } from './helpers/live.js';
import { eventually, startTestServer } from './helpers/server.js';

/**
 * Views created on demand do not leak: 10,000 subscribe → SNAPSHOT → unsubscribe cycles over
 * random arguments (ad-hoc queries on both tables, `postsByAuthor`, per-viewer config views),
 * by three viewers with rules enforced, with writes in between, end with the engine holding
 * exactly what it held before: the config's views, their routes and index entries, nothing
 * else — and no listener, lease or idle view left in the registry.
 */
const CYCLES = 10_000;
const CONCURRENCY = 48;
const SECRET = 'leak-test-secret-0123456789abcdef0123';

let server: RunningServer;
const clients: WsClient[] = [];

beforeAll(async () => {
  server = await startTestServer({ authSecret: SECRET, liveQueries: { graceMs: 15 } });
  for (const [sub, role] of [
    ['u1', 'viewer'],
    ['u2', 'viewer'],
    ['boss', 'admin'],
  ] as const) {
    const token = await mintToken(SECRET, { sub, role });
    clients.push(
      createClient({
        url: server.wsUrl,
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: true,
        connectionParams: { authorization: `Bearer ${token}` },
      }),
    );
  }
});

afterAll(async () => {
  await Promise.all(clients.map((client) => client.dispose()));
  await server?.close();
});

test(`${CYCLES} subscribe/unsubscribe cycles over random arguments leave only the configured views`, async () => {
  const baseline = server.store.engineStats();
  expect(baseline.views).toBe(5); // the config's views without parameters
  const admin = await mintToken(SECRET, { sub: 'boss', role: 'admin' });
  const next = random(4242);
  let done = 0;
  let peakViews = 0;
  const subscription = (): { field: string; query: string; variables: { [name: string]: unknown } } => {
    const roll = next();
    if (roll < 0.45) {
      const where = randomWhere(next, POST_FIELDS, 3).input;
      const order = randomOrder(next, POST_FIELDS).input;
      return {
        field: 'posts',
        query:
          'subscription($w: PostWhere, $o: [PostOrderBy!], $l: Int) { posts(where: $w, orderBy: $o, limit: $l) { version } }',
        variables: { w: where, o: order, l: 1 + Math.floor(next() * 20) },
      };
    }
    if (roll < 0.65) {
      return {
        field: 'users',
        query: 'subscription($w: UserWhere) { users(where: $w) { version } }',
        variables: { w: randomWhere(next, USER_FIELDS, 3).input },
      };
    }
    if (roll < 0.85) {
      return {
        field: 'postsByAuthor',
        query: 'subscription($a: ID!) { postsByAuthor(authorId: $a) { version } }',
        variables: { a: `u${Math.floor(next() * 30)}` },
      };
    }
    const view = pick(next, ['topPosts', 'postsPerAuthor', 'usersCount', 'usersList']);
    return { field: view, query: `subscription { ${view} { version } }`, variables: {} };
  };
  const loop = async (): Promise<void> => {
    while (done < CYCLES) {
      done++;
      if (done % 500 === 0) {
        await post(
          server,
          'mutation($i: CreatePostInput!) { createPost(input: $i) { id } }',
          { i: { id: `leak${done}`, authorId: `u${done % 30}`, title: 't', published: done % 1000 === 0, likes: 1 } },
          admin,
        );
      }
      const { field, query, variables } = subscription();
      const { feed, stop } = followWs(pick(next, clients), query, variables, (data) => data[field]);
      await feed.until((events) => events.length === 1, `snapshot of ${field}`);
      peakViews = Math.max(peakViews, server.store.engineStats().views);
      stop();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, loop));
  expect(done).toBeGreaterThanOrEqual(CYCLES);
  expect(peakViews).toBeGreaterThan(baseline.views + 10);

  await eventually(() => server.store.listenerCount() === 0, 'every listener to be released');
  await eventually(() => server.access.registry.stats().onDemand === 0, 'every view created on demand to go', 10_000);
  expect(server.access.registry.stats()).toEqual({ pinned: 5, onDemand: 0, idle: 0, leases: 0, viewBytes: 0 });
  const after = server.store.engineStats();
  // records grow by the posts created, and so does a shared ordered index over posts, if any
  // (none while topPosts is the only view of its order: the first of an order is private)
  expect({ ...after, records: baseline.records, orderedEntries: baseline.orderedEntries }).toEqual(baseline);
  expect(after.records).toBe(baseline.records + CYCLES / 500);
  expect(after.orderedEntries - baseline.orderedEntries).toBe(baseline.orderedIndexes > 0 ? CYCLES / 500 : 0);
});
