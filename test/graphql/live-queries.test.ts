import { print } from 'graphql';
import type { Client as WsClient } from 'graphql-ws';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Change } from '../../app/index.js';
import { evaluateView, type Row, type ViewDefinition } from '../../engine/index.js';
import type { RunningServer } from '../../server/app.js';
import {
  PostsByAuthorDocument,
  PostsByAuthorLiveDocument,
  PostsDocument,
  PostsLiveDocument,
  UsersDocument,
  UsersLiveDocument,
} from './generated/graphql.js';
import { createGraphQLWsClient, type Feed, followWs } from './helpers/clients.js';
import {
  type FieldSpec,
  POST_FIELDS,
  POST_SELECTION,
  pick,
  post,
  random,
  randomOrder,
  randomWhere,
  tablesOf,
  USER_FIELDS,
  USER_SELECTION,
} from './helpers/live.js';
import { LocalView, plain, type UpdateEvent } from './helpers/local-view.js';
import { eventually, startTestServer } from './helpers/server.js';

/**
 * Ad-hoc live queries and views with parameters, server open (no rules):
 * - random `where` / `orderBy` / `limit` / `offset` queries return exactly what the plain
 *   evaluator returns for the same definition;
 * - random subscriptions followed through random mutations end with local copies equal to
 *   the evaluator's result (and the server's hash), deltas consecutive;
 * - identical subscriptions written differently share one engine view, and a view outlives
 *   its last subscriber only for the grace period;
 * - `postsByAuthor(authorId)`; `sinceVersion` on views created on demand; the limits.
 */
const SEED = Number(process.env['SEED'] ?? 5_005);
const GRACE_MS = 300;

let server: RunningServer;
let ws: WsClient;

const TABLES = {
  posts: { fields: POST_FIELDS, selection: POST_SELECTION },
  users: { fields: USER_FIELDS, selection: USER_SELECTION },
} as const;
type Table = keyof typeof TABLES;

beforeAll(async () => {
  server = await startTestServer({ liveQueries: { graceMs: GRACE_MS, limits: { maxViewsPerConnection: 40 } } });
  ws = createGraphQLWsClient(server);
  const next = random(SEED);
  const changes: Change[] = [];
  for (let i = 1; i <= 6; i++) {
    changes.push({
      table: 'users',
      op: 'CREATE',
      id: `u${i}`,
      data: {
        name: pick(next, ['Ann', 'Bob', 'ann', 'Al']),
        email: `u${i}@x`,
        role: pick(next, ['admin', 'viewer']),
        active: next() < 0.5,
        age: next() < 0.3 ? null : Math.floor(next() * 40),
      },
    });
  }
  for (let i = 1; i <= 30; i++) changes.push({ table: 'posts', op: 'CREATE', id: `p${i}`, data: randomPost(next) });
  await server.store.apply(changes);
});

afterAll(async () => {
  await ws?.dispose();
  await server?.close();
});

function randomPost(next: () => number): { [field: string]: unknown } {
  return {
    authorId: pick(next, ['u1', 'u2', 'u3', 'u4']),
    title: pick(next, ['alpha', 'beta', 'alphabet', 'gamma', 'b']),
    published: next() < 0.6,
    likes: Math.floor(next() * 9),
  };
}

interface RandomQuery {
  readonly table: Table;
  readonly args: { [name: string]: unknown };
  readonly definition: ViewDefinition;
}

function randomQuery(next: () => number, table: Table, maxLimit = 1000): RandomQuery {
  const fields: readonly FieldSpec[] = TABLES[table].fields;
  const where = next() < 0.85 ? randomWhere(next, fields, 4) : undefined;
  const order = randomOrder(next, fields);
  const limit = next() < 0.5 ? Math.floor(next() * 12) : undefined;
  const offset = next() < 0.3 ? Math.floor(next() * 5) : undefined;
  return {
    table,
    args: {
      ...(where === undefined ? {} : { where: where.input }),
      ...(order.input.length === 0 ? {} : { orderBy: order.input }),
      ...(limit === undefined ? {} : { limit }),
      ...(offset === undefined ? {} : { offset }),
    },
    definition: {
      id: 'oracle',
      from: table,
      ...(where === undefined ? {} : { where: where.predicate }),
      ...(order.keys.length === 0 ? {} : { orderBy: order.keys }),
      limit: limit ?? maxLimit,
      ...(offset === undefined ? {} : { offset }),
    },
  };
}

/** The generated typed documents (test/graphql/operations), as sent over the wire. */
const QUERY = { posts: print(PostsDocument), users: print(UsersDocument) };
const LIVE = { posts: print(PostsLiveDocument), users: print(UsersLiveDocument) };

function subscribe(q: RandomQuery): { feed: Feed<UpdateEvent>; stop: () => void } {
  return followWs(ws, LIVE[q.table], q.args, (data) => data[q.table] as UpdateEvent);
}

test('random ad-hoc queries return what the evaluator returns', async () => {
  const next = random(SEED + 1);
  const tables = tablesOf(server);
  let nonEmpty = 0;
  for (let i = 0; i < 150; i++) {
    const q = randomQuery(next, next() < 0.65 ? 'posts' : 'users');
    const result = await post(server, QUERY[q.table], q.args);
    expect(result.errors, JSON.stringify(q.args)).toBeUndefined();
    const expected = evaluateView(q.definition, tables);
    expect(result.data?.[q.table], JSON.stringify(q.args)).toEqual(expected);
    if (expected.length > 0) nonEmpty++;
  }
  expect(nonEmpty).toBeGreaterThan(50);
});

test('random ad-hoc subscriptions follow random mutations', async () => {
  const next = random(SEED + 2);
  const queries = Array.from({ length: 14 }, () => randomQuery(next, next() < 0.7 ? 'posts' : 'users'));
  const subscriptions = queries.map(subscribe);
  await Promise.all(subscriptions.map(({ feed }) => feed.until((events) => events.length >= 1, 'snapshot')));

  for (let step = 0; step < 120; step++) {
    const id = `p${1 + Math.floor(next() * 36)}`;
    const exists = server.store.record('posts', id) !== undefined;
    const roll = next();
    if (!exists)
      await post(server, 'mutation($input: CreatePostInput!) { createPost(input: $input) { id } }', {
        input: { id, ...randomPost(next) },
      });
    else if (roll < 0.8) {
      const patch = Object.fromEntries(Object.entries(randomPost(next)).filter(() => next() < 0.5));
      await post(server, 'mutation($id: ID!, $patch: PostPatch!) { updatePost(id: $id, patch: $patch) { id } }', {
        id,
        patch,
      });
    } else await post(server, 'mutation($id: ID!) { deletePost(id: $id) { id } }', { id });
    if (next() < 0.15) {
      const user = `u${1 + Math.floor(next() * 6)}`;
      await post(server, 'mutation($id: ID!, $patch: UserPatch!) { updateUser(id: $id, patch: $patch) { id } }', {
        id: user,
        patch: { active: next() < 0.5, age: next() < 0.3 ? null : Math.floor(next() * 40) },
      });
    }
  }

  const tables = tablesOf(server);
  let deltas = 0;
  for (const [i, { feed, stop }] of subscriptions.entries()) {
    const q = queries[i] as RandomQuery;
    const expected = evaluateView(q.definition, tables);
    const local = new LocalView();
    await feed.until(
      (events) => {
        const copy = new LocalView();
        for (const event of events) copy.apply(event);
        return sameRows(
          copy.sorted(
            (q.definition.orderBy ?? []).map((key) => ({ field: key.field, direction: key.direction ?? 'asc' })),
          ),
          expected,
        );
      },
      `subscription ${i} ${JSON.stringify(q.args)} to converge`,
    );
    for (const event of feed.events) local.apply(event);
    expect(local.localHash(), `hash of ${i}`).toBe(local.hash);
    deltas += feed.events.length - 1;
    stop();
  }
  expect(deltas).toBeGreaterThan(30);
});

/** Waits until every view created on demand by earlier tests has gone (after its grace period). */
async function settled(): Promise<void> {
  await eventually(() => server.access.registry.stats().onDemand === 0, 'views created on demand to go', 5_000);
}

function sameRows(actual: readonly Row[], expected: readonly Row[]): boolean {
  return JSON.stringify(actual.map(plain)) === JSON.stringify(expected);
}

test('identical subscriptions share one engine view, however their arguments are written', async () => {
  await settled();
  const before = server.store.engineStats().views;
  const a = followWs(
    ws,
    'subscription { posts(where: { published: { eq: true }, likes: { gte: 3 } }, orderBy: [{ field: likes, direction: DESC }], limit: 5) { view version kind } }',
    {},
    (data) => data['posts'] as { view: string },
  );
  const b = followWs(
    ws,
    'subscription { posts(limit: 5, orderBy: [{ direction: DESC, field: likes }], where: { and: [{ likes: { gte: 3 } }, { published: { eq: true } }] }) { view version kind } }',
    {},
    (data) => data['posts'] as { view: string },
  );
  await Promise.all([a.feed, b.feed].map((feed) => feed.until((events) => events.length === 1, 'snapshot')));
  expect(a.feed.events[0]?.view).toBe(b.feed.events[0]?.view);
  expect(server.store.engineStats().views).toBe(before + 1);
  expect(server.store.listenerCount(a.feed.events[0]?.view)).toBe(2);
  a.stop();
  b.stop();
  await eventually(() => server.store.engineStats().views === before, 'the view to go after the grace period', 5_000);
});

test('a view outlives its last subscriber for the grace period, then goes', async () => {
  await settled();
  const before = server.store.engineStats();
  const query = 'subscription { users(where: { name: { startsWith: "A" } }) { view version kind } }';
  const first = followWs(ws, query, {}, (data) => data['users'] as { view: string });
  await first.feed.until((events) => events.length === 1, 'snapshot');
  first.stop();
  await eventually(() => server.store.listenerCount() === 0, 'unsubscribed');
  const again = followWs(ws, query, {}, (data) => data['users'] as { view: string });
  await again.feed.until((events) => events.length === 1, 'snapshot again');
  expect(again.feed.events[0]?.view).toBe(first.feed.events[0]?.view); // warm: the same view
  again.stop();
  await new Promise((resolve) => setTimeout(resolve, GRACE_MS / 2));
  expect(server.store.engineStats().views).toBe(before.views + 1);
  await eventually(
    () => server.store.engineStats().views === before.views,
    'unregistered after the grace period',
    5_000,
  );
  expect(server.store.engineStats()).toEqual(before);
});

test("postsByAuthor(authorId): that author's posts, newest first by id, as Query and Subscription", async () => {
  for (const author of ['u1', 'u2', 'nobody']) {
    const expected = evaluateView(
      { id: 'x', from: 'posts', where: { authorId: { eq: author } }, orderBy: [{ field: 'id', direction: 'desc' }] },
      tablesOf(server),
    );
    const result = await post(server, print(PostsByAuthorDocument), { authorId: author });
    expect(result.data?.['postsByAuthor']).toEqual(expected);
  }
  const sub = followWs(
    ws,
    print(PostsByAuthorLiveDocument),
    { authorId: 'u9' },
    (data) => data['postsByAuthor'] as UpdateEvent,
  );
  await sub.feed.until((events) => events.length === 1, 'snapshot');
  expect(sub.feed.events[0]).toMatchObject({ kind: 'SNAPSHOT', added: [] });
  await post(
    server,
    'mutation { createPost(input: { id: "pa", authorId: "u9", title: "t", published: true, likes: 1 }) { id } }',
  );
  await post(
    server,
    'mutation { createPost(input: { id: "pb", authorId: "u8", title: "t", published: true, likes: 1 }) { id } }',
  );
  await post(server, 'mutation { updatePost(id: "pb", patch: { authorId: "u9" }) { id } }');
  await sub.feed.until((events) => events.length === 3, 'two deltas');
  const local = new LocalView();
  for (const event of sub.feed.events) local.apply(event);
  expect(local.sorted([{ field: 'id', direction: 'desc' }]).map((row) => row['id'])).toEqual(['pb', 'pa']);
  expect(sub.feed.events[0]?.view).toMatch(/^postsByAuthor~\d+$/);
  sub.stop();
});

test('sinceVersion resumes a view created on demand; a new view for the same query starts above the old one', async () => {
  const query =
    'subscription($since: Int) { posts(where: { authorId: { eq: "u7" } }, sinceVersion: $since) { view version previousVersion kind added { id } removed } }';
  const first = followWs(ws, query, {}, (data) => data['posts'] as UpdateEvent);
  await first.feed.until((events) => events.length === 1, 'snapshot');
  const start = first.feed.events[0] as UpdateEvent;
  await post(
    server,
    'mutation { createPost(input: { id: "s1", authorId: "u7", title: "t", published: true, likes: 1 }) { id } }',
  );
  await first.feed.until((events) => events.length === 2, 'delta');
  const since = start.version; // a copy that missed the delta
  const delta = first.feed.events[1] as UpdateEvent;
  const resumed = followWs(ws, query, { since }, (data) => data['posts'] as UpdateEvent);
  await resumed.feed.until((events) => events.length === 1, 'replayed delta');
  expect(resumed.feed.events[0]).toMatchObject({
    kind: 'DELTA',
    version: delta.version,
    previousVersion: since,
    added: [{ id: 's1' }],
  });
  first.stop();
  resumed.stop();
  await settled();

  // Re-created after other writes: its versions start above every version the old view
  // issued, so the old copy is not resumed against another view's history.
  await post(server, 'mutation { updateUser(id: "u1", patch: { active: true }) { id } }');
  await post(server, 'mutation { updateUser(id: "u1", patch: { active: false }) { id } }');
  const later = followWs(ws, query, { since: delta.version }, (data) => data['posts'] as UpdateEvent);
  await later.feed.until((events) => events.length === 1, 'snapshot of the new view');
  expect(later.feed.events[0]?.kind).toBe('SNAPSHOT');
  expect(later.feed.events[0]?.version).toBeGreaterThan(delta.version);
  expect(later.feed.events[0]?.view).not.toBe(start.view);
  later.stop();
});

test('limits: limit, offset and where depth are BAD_USER_INPUT; views per connection is LIMIT_EXCEEDED', async () => {
  const codes = async (query: string): Promise<unknown[]> =>
    ((await post(server, query)).errors ?? []).map((e) => e.extensions?.code);
  expect(await codes('{ posts(limit: 1001) { id } }')).toEqual(['BAD_USER_INPUT']);
  expect(await codes('{ posts(limit: -1) { id } }')).toEqual(['BAD_USER_INPUT']);
  expect(await codes('{ posts(offset: 10001) { id } }')).toEqual(['BAD_USER_INPUT']);
  expect(await codes('{ posts(where: { likes: { in: null } }) { id } }')).toEqual(['BAD_USER_INPUT']);
  const deep = (n: number): string => (n === 0 ? '{ likes: { gt: 1 } }' : `{ not: ${deep(n - 1)} }`);
  expect(await codes(`{ posts(where: ${deep(5)}) { id } }`)).toEqual([]);
  expect(await codes(`{ posts(where: ${deep(6)}) { id } }`)).toEqual(['BAD_USER_INPUT']);
  expect(await codes('{ posts(where: { title: { lt: 3 } }) { id } }')).toEqual(['BAD_USER_INPUT']); // typed input

  // 40 subscriptions per connection (this server's setting): the 41st is refused.
  const socket = createGraphQLWsClient(server);
  const held = Array.from({ length: 40 }, (_, i) =>
    followWs(socket, `subscription { posts(where: { likes: { eq: ${i} } }) { version } }`, {}, (data) => data['posts']),
  );
  await Promise.all(held.map(({ feed }) => feed.until((events) => events.length === 1, 'snapshot')));
  const refused = followWs(socket, 'subscription { usersCount { version } }', {}, (data) => data['usersCount']);
  await eventually(() => refused.feed.error !== undefined, 'the 41st subscription to be refused');
  expect(JSON.stringify(refused.feed.error)).toContain('LIMIT_EXCEEDED');
  held[0]?.stop();
  await eventually(() => server.store.listenerCount() === 39, 'one subscription to end');
  const admitted = followWs(socket, 'subscription { usersCount { version } }', {}, (data) => data['usersCount']);
  await admitted.feed.until((events) => events.length === 1, 'a subscription once one ended');
  await socket.dispose();
});
