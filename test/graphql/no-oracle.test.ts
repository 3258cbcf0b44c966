import { createClient, type Client as WsClient } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import type { RunningServer } from '../../server/app.js';
import { mintToken } from '../../server/auth.js';
import { followWs } from './helpers/clients.js';
import { post } from './helpers/live.js';
import { eventually, startTestServer } from './helpers/server.js';
import { testStore } from './helpers/test-store.js';

/**
 * No existence or activity oracle, with a real server and the demo's rules (a post is readable
 * when published or the viewer's own):
 * - writes by a viewer to a post it may not read answer exactly as for a missing id (update:
 *   NOT_FOUND; a bad batch patch: the same error either way; delete: success) and change
 *   nothing; creating its id is still CONFLICT;
 * - the version a freshly created view starts at does not depend on how many rows another
 *   viewer wrote that this one cannot see (SQLite only: over PostgreSQL versions are change-log
 *   positions, which count every transaction — docs/postgres.md states that price); a view
 *   dropped and created again starts above the versions it issued, and resuming from them
 *   gives a SNAPSHOT.
 */
const SECRET = 'no-oracle-test-secret-0123456789abcdefgh';
let server: RunningServer;
let u1: string;
let u2: string;
let admin: string;
const sockets: WsClient[] = [];

beforeAll(async () => {
  server = await startTestServer({ authSecret: SECRET, liveQueries: { graceMs: 20 } });
  u1 = await mintToken(SECRET, { sub: 'u1', role: 'viewer' });
  u2 = await mintToken(SECRET, { sub: 'u2', role: 'viewer' });
  admin = await mintToken(SECRET, { sub: 'boss', role: 'admin' });
  const created = await post(
    server,
    'mutation { createPost(input: { id: "hidden", authorId: "u1", title: "draft", published: false, likes: 1 }) { id } }',
    {},
    u1,
  );
  expect(created.errors).toBeUndefined();
});
afterEach(async () => {
  for (const socket of sockets.splice(0)) await socket.dispose();
});
afterAll(async () => {
  await server?.close();
});

/** The errors of an answer with the id named in them made neutral, and its data. */
async function answer(query: string, id: string, token: string): Promise<unknown> {
  const result = await post(server, query.replaceAll('$ID', id), {}, token);
  return JSON.parse(JSON.stringify({ data: result.data ?? null, errors: result.errors ?? [] }).replaceAll(id, '<id>'));
}

const hiddenPost = () => JSON.stringify(server.store.record('posts', 'hidden'));

test('writes to a post the viewer may not read answer as for a missing id and change nothing', async () => {
  const stored = hiddenPost();
  const writes: [string, string][] = [
    ['update', 'mutation { updatePost(id: "$ID", patch: { likes: 9 }) { id post { id } views { view } } }'],
    ['delete', 'mutation { deletePost(id: "$ID") { id post { id } views { view } } }'],
    [
      'batch update',
      'mutation { ingestBatch(changes: [{ table: "posts", op: UPDATE, id: "$ID", data: { likes: 2 } }]) { ids views { view } } }',
    ],
    [
      'batch bad patch',
      'mutation { ingestBatch(changes: [{ table: "posts", op: UPDATE, id: "$ID", data: { likes: "many" } }]) { ids views { view } } }',
    ],
    [
      'batch delete',
      'mutation { ingestBatch(changes: [{ table: "posts", op: DELETE, id: "$ID" }]) { ids views { view } } }',
    ],
  ];
  for (const [label, query] of writes) {
    for (const token of [u2, admin]) {
      const hidden = await answer(query, 'hidden', token);
      const missing = await answer(query, 'missing', token);
      expect(hidden, label).toEqual(missing);
      expect(hiddenPost(), `${label} changed the hidden post`).toBe(stored);
    }
  }
  const update = (await answer(writes[0]?.[1] as string, 'hidden', u2)) as {
    errors: { extensions: { code: string } }[];
  };
  expect(update.errors.map((e) => e.extensions.code)).toEqual(['NOT_FOUND']);

  // A client-chosen id that exists is CONFLICT, readable or not (use ids made by the server).
  const create = await post(
    server,
    'mutation { createPost(input: { id: "hidden", authorId: "u2", title: "t", published: true, likes: 0 }) { id } }',
    {},
    u2,
  );
  expect(create.errors?.map((e) => e.extensions?.code)).toEqual(['CONFLICT']);
  expect(hiddenPost()).toBe(stored);

  // Its author still reads and writes it.
  const own = await post(
    server,
    'mutation { updatePost(id: "hidden", patch: { likes: 3 }) { post { likes } } }',
    {},
    u1,
  );
  expect(own.errors).toBeUndefined();
  expect(own.data?.['updatePost']).toEqual({ post: { likes: 3 } });
});

function socket(token: string): WsClient {
  const ws = createClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    connectionParams: { authorization: `Bearer ${token}` },
  });
  sockets.push(ws);
  return ws;
}

interface Event {
  readonly kind: string;
  readonly version: number;
  readonly previousVersion: number | null;
}

/** The first event of a subscription of `u2` to `field(args)` (with `since`), then stops. */
async function first(ws: WsClient, field: string, args: string, since?: number): Promise<Event> {
  const query = `subscription($since: Int) { ${field}(${args}, sinceVersion: $since) { kind version previousVersion } }`;
  const { feed, stop } = followWs(ws, query, since === undefined ? {} : { since }, (data) => data[field] as Event);
  try {
    await feed.until((events) => events.length > 0, `${field}(${args})`);
    return feed.events[0] as Event;
  } finally {
    stop();
  }
}

/** u1 writes `n` unpublished posts: rows u2 may not read. */
async function hiddenWrites(n: number, tag: string): Promise<void> {
  for (let i = 0; i < n; i++) {
    const result = await post(
      server,
      `mutation { createPost(input: { id: "${tag}-${i}", authorId: "u1", title: "draft", published: false, likes: ${i} }) { id } }`,
      {},
      u1,
    );
    expect(result.errors).toBeUndefined();
  }
}

// Over PostgreSQL a version is the log position, shared by every instance: it counts every
// transaction by design (docs/postgres.md, "Versions"), so there is nothing to check there.
test.skipIf(testStore === 'postgres')(
  "a new view's version does not count other viewers' writes it cannot see",
  async () => {
    const ws = socket(u2);
    const starts: number[] = [];
    for (const [round, n] of [0, 7, 25].entries()) {
      await hiddenWrites(n, `round${round}`);
      // Views no one has opened before: an ad-hoc live query and a view with a parameter.
      starts.push((await first(ws, 'posts', `where: { likes: { ne: ${1000 + round} } }`)).version);
      starts.push((await first(ws, 'postsByAuthor', `authorId: "nobody-${round}"`)).version);
    }
    expect(new Set(starts).size, `starts ${JSON.stringify(starts)}`).toBe(1);
  },
);

test('a view dropped and created again starts above its old versions; resuming from them gets a SNAPSHOT', async () => {
  const ws = socket(u2);
  const args = 'where: { published: { eq: true } }';
  const query = `subscription { posts(${args}) { kind version previousVersion } }`;
  const { feed, stop } = followWs(ws, query, {}, (data) => data['posts'] as Event);
  await feed.until((events) => events.length > 0, 'the SNAPSHOT');
  for (let i = 0; i < 3; i++) {
    const result = await post(
      server,
      `mutation { createPost(input: { id: "pub-${i}", authorId: "u2", title: "t", published: true, likes: 0 }) { id } }`,
      {},
      u2,
    );
    expect(result.errors).toBeUndefined();
  }
  await feed.until((events) => events.length === 4, 'three DELTAs');
  const versions = feed.events.map((event) => event.version);
  const last = versions[3] as number;
  // Each DELTA applies to the version before it (consecutive with SQLite; log positions over PostgreSQL).
  expect(feed.events.slice(1).map((event) => event.previousVersion)).toEqual(versions.slice(0, 3));
  expect([...versions].sort((a, b) => a - b)).toEqual(versions);
  expect(new Set(versions).size).toBe(4);
  stop();
  // The grace period ends and the view is dropped; more writes (some hidden from u2) follow.
  await eventually(() => server.access.registry.stats().onDemand === 0, 'the view dropped', 5_000);
  await hiddenWrites(4, 'between');
  await post(server, 'mutation { updatePost(id: "pub-0", patch: { likes: 5 }) { id } }', {}, u2);
  for (const since of versions) {
    const event = await first(ws, 'posts', args, since);
    expect(event.kind, `since ${since}`).toBe('SNAPSHOT');
    expect(event.version).toBeGreaterThan(last);
  }
});
