import { createClient, type Client as WsClient } from 'graphql-ws';
import { afterEach, expect, test } from 'vitest';
import WebSocket from 'ws';
import { type Feed, followWs } from '../graphql/helpers/clients.js';
import { LocalView, type UpdateEvent } from '../graphql/helpers/local-view.js';
import { killProcessGroups } from '../process-groups.js';
import { gql, must, type ServerProcess, startServerProcess, stopServer } from './helpers.js';
import { createTestStore, STORE_KINDS, type TestStore } from './stores.js';

/**
 * A version is never issued twice for one file (one PostgreSQL database). Requests are refused (CONFLICT, NOT_FOUND,
 * bad input) before and after views are created on demand (an ad-hoc live query and a config
 * view with params); the server then dies (kill -9) or stops (SIGTERM), and the next run
 * changes the data. A client resuming with the versions it held gets a SNAPSHOT or the deltas
 * that bring its copy to the current result — never nothing while its copy is wrong — and
 * every version of the new run is above every version of the old one.
 *
 * On PostgreSQL versions are log positions, the same on every instance and every run: the
 * restarted server starts at the position it loaded (at or above every held version).
 */
const servers: ServerProcess[] = [];
const sockets: WsClient[] = [];
const stores: TestStore[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) await socket.dispose();
  servers.splice(0);
  await killProcessGroups();
  for (const store of stores.splice(0)) await store.drop();
});

const WAIT_MS = 120_000; // readiness is awaited by event; this only bounds a hang
const USER_FIELDS = 'id name email role active age';
const POST_FIELDS = 'id authorId title published likes';
const ACTIVE_USERS = `subscription($since: Int) { users(where: { active: { eq: true } }, sinceVersion: $since) {
  view version kind hash removed added { ${USER_FIELDS} } updated { ${USER_FIELDS} } } }`;
const POSTS_BY_AUTHOR = `subscription($since: Int) { postsByAuthor(authorId: "u1", sinceVersion: $since) {
  view version kind hash removed added { ${POST_FIELDS} } updated { ${POST_FIELDS} } } }`;
const FOLLOWED = [
  { name: 'users(where: active)', query: ACTIVE_USERS, pick: (data: Record<string, unknown>) => data['users'] },
  { name: 'postsByAuthor(u1)', query: POSTS_BY_AUTHOR, pick: (data: Record<string, unknown>) => data['postsByAuthor'] },
] as const;

const CREATE_USER = 'mutation($input: CreateUserInput!) { createUser(input: $input) { id } }';
const UPDATE_USER = 'mutation($id: ID!, $patch: UserPatch!) { updateUser(id: $id, patch: $patch) { id } }';
const DELETE_USER = 'mutation($id: ID!) { deleteUser(id: $id) { id } }';
const CREATE_POST = 'mutation($input: CreatePostInput!) { createPost(input: $input) { id } }';
const UPDATE_POST = 'mutation($id: ID!, $patch: PostPatch!) { updatePost(id: $id, patch: $patch) { id } }';

const user = (id: string, active = true) => ({
  id,
  name: `User ${id}`,
  email: `${id}@example.com`,
  role: 'dev',
  active,
});
const post = (id: string, likes: number) => ({ id, authorId: 'u1', title: `Post ${id}`, published: true, likes });

/** Mutations that are each refused, with the code they get. */
async function refuse(url: string): Promise<string[]> {
  const outcomes = [
    await gql(url, CREATE_USER, { input: user('u1') }),
    await gql(url, CREATE_USER, { input: user('u1') }),
    await gql(url, UPDATE_USER, { id: 'nobody', patch: { name: 'x' } }),
    await gql(url, CREATE_POST, { input: { ...post('p-bad', 1), likes: 2 ** 40 } }),
    await gql(url, CREATE_POST, { input: post('p1', 1) }),
  ];
  return outcomes.map((outcome) => outcome.errors?.[0]?.extensions?.code ?? 'accepted');
}

function connect(url: string): WsClient {
  const socket = createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
  sockets.push(socket);
  return socket;
}

/** Follows a view into a local copy. */
function follow(socket: WsClient, view: (typeof FOLLOWED)[number], since?: number) {
  const local = new LocalView();
  const { feed } = followWs(socket, view.query, since === undefined ? {} : { since }, (data) => {
    const event = view.pick(data) as UpdateEvent;
    local.apply(event);
    return event;
  });
  return { local, feed: feed as Feed<UpdateEvent> };
}

const reaches = (version: number) => (events: readonly UpdateEvent[]) =>
  events.some((event) => event.version >= version);

for (const { kind, skip } of STORE_KINDS)
  for (const ending of ['SIGKILL', 'SIGTERM'] as const) {
    test.skipIf(skip !== undefined)(
      `${kind}: refused requests, views created on demand, ${ending}, restart: resuming never keeps a wrong copy`,
      async () => {
        const store = await createTestStore(kind, ['users', 'posts']);
        stores.push(store);
        const first = await startServerProcess(store.args);
        servers.push(first.server);
        await must(first.url, CREATE_USER, { input: user('u1') });
        await must(first.url, CREATE_POST, { input: post('p1', 1) });
        expect(await refuse(first.url)).toEqual(['CONFLICT', 'CONFLICT', 'NOT_FOUND', 'BAD_USER_INPUT', 'CONFLICT']);
        await must(first.url, UPDATE_POST, { id: 'p1', patch: { likes: 10 } });

        await must(first.url, CREATE_USER, { input: user('u2') });
        await must(first.url, CREATE_POST, { input: post('p2', 2) });
        // The last requests of the run are refused; the views are created after them.
        expect(await refuse(first.url)).toEqual(['CONFLICT', 'CONFLICT', 'NOT_FOUND', 'BAD_USER_INPUT', 'CONFLICT']);
        const socket = connect(first.url);
        const copies = FOLLOWED.map((view) => follow(socket, view));
        for (const [i, copy] of copies.entries()) {
          await copy.feed.until((events) => events.length > 0, `${FOLLOWED[i]?.name} snapshot`, WAIT_MS);
        }
        const held = copies.map((copy) => ({ version: copy.local.version, rows: new Map(copy.local.rows) }));

        if (ending === 'SIGKILL') {
          first.server.child.kill('SIGKILL');
          expect((await first.server.exited).signal).toBe('SIGKILL');
        } else {
          expect(await stopServer(first.server)).toBe(0);
        }

        const second = await startServerProcess(store.args);
        servers.push(second.server);
        const heldMax = Math.max(...held.map((copy) => copy.version));
        if (kind === 'sqlite') expect(second.ready['versionBase'] as number).toBeGreaterThan(heldMax);
        else expect(second.ready['versionBase'] as number).toBeGreaterThanOrEqual(heldMax);
        // Other contents than the held copies, after fewer requests than were refused at the end of
        // the first run: a run that started above the stored request count alone would now be at
        // the held versions again.
        await must(second.url, DELETE_USER, { id: 'u2' });
        await must(second.url, UPDATE_POST, { id: 'p2', patch: { likes: 20 } });

        const resumedSocket = connect(second.url);
        for (const [i, view] of FOLLOWED.entries()) {
          const copy = held[i] as (typeof held)[number];
          // The held copy, resumed: a SNAPSHOT replaces it, deltas must follow its version.
          const resumed = follow(resumedSocket, view, copy.version);
          resumed.local.version = copy.version;
          for (const [id, row] of copy.rows) resumed.local.rows.set(id, row);
          // A fresh follower on the same connection: once it has its SNAPSHOT, both are live.
          const fresh = follow(resumedSocket, view);
          await fresh.feed.until((events) => events.length > 0, `${view.name} fresh snapshot`, WAIT_MS);
          const current = fresh.local.version;
          // One more change to the view, so that even a resumed stream that got nothing moves on.
          if (i === 0) await must(second.url, CREATE_USER, { input: user('u4') });
          else await must(second.url, CREATE_POST, { input: post('p4', 4) });
          await fresh.feed.until(reaches(current + 1), `${view.name} fresh delta`, WAIT_MS);
          await resumed.feed.until(reaches(current + 1), `${view.name} resumed`, WAIT_MS);
          // SQLite: the held version is another run's, a SNAPSHOT must replace the copy. PostgreSQL:
          // versions are log positions, so deltas would do, but a view created on demand in this run
          // holds no history from before its creation; either way the copy must end right.
          if (kind === 'sqlite') expect(resumed.feed.events[0]?.kind, view.name).toBe('SNAPSHOT');
          expect(resumed.local.version).toBe(fresh.local.version);
          expect(resumed.local.sorted()).toEqual(fresh.local.sorted());
          expect(resumed.local.localHash()).toBe(fresh.local.hash);
          expect(fresh.local.localHash()).toBe(fresh.local.hash);
        }
      },
    );
  }
