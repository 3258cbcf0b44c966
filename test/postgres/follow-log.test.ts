import { resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { evaluateView, hashRows, type Record } from '../../engine/index.js';
import type { RunningServer } from '../../server/app.js';
import { createGraphQLWsClient, type Feed, followWs } from '../graphql/helpers/clients.js';
import { post, USER_SELECTION } from '../graphql/helpers/live.js';
import { LocalView, type UpdateEvent } from '../graphql/helpers/local-view.js';
import { eventually, startTestServer } from '../graphql/helpers/server.js';
import { killProcessGroups, spawnProcess } from '../process-groups.js';
import { createDatabase, postgresMissing, type TestDatabase } from './helpers.js';

/**
 * One server over PostgreSQL: it creates the tables and the change capture, loads what is
 * there, and follows the log, so rows written by any SQL client reach its subscribers; its
 * mutations go through PostgreSQL and are answered once its own views include them.
 */
const missing = await postgresMissing();
const root = resolve(import.meta.dirname, '../..');

describe.skipIf(missing !== undefined)('a server over PostgreSQL', () => {
  let db: TestDatabase;
  const servers: RunningServer[] = [];
  const sockets: ReturnType<typeof createGraphQLWsClient>[] = [];

  beforeEach(async () => {
    db = await createDatabase();
  });
  afterEach(async () => {
    await db.admin(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`);
    for (const socket of sockets.splice(0)) await socket.dispose();
    for (const server of servers.splice(0)) await server.close();
    await killProcessGroups();
    await db.drop();
  });

  async function start(): Promise<RunningServer> {
    const server = await startTestServer({ storage: { file: '', database: db.url } });
    servers.push(server);
    return server;
  }

  function subscribe(
    server: RunningServer,
    view: string,
    selection: string,
  ): { feed: Feed<UpdateEvent>; copy: LocalView } {
    const socket = createGraphQLWsClient(server);
    sockets.push(socket);
    const copy = new LocalView();
    const { feed } = followWs<UpdateEvent>(
      socket,
      `subscription { ${view} { view version previousVersion kind hash removed added { ${selection} } updated { ${selection} } } }`,
      {},
      (data) => {
        const event = data[view] as UpdateEvent;
        copy.apply(event);
        return event;
      },
    );
    return { feed, copy };
  }

  async function tables(): Promise<Map<string, Map<string, Record>>> {
    const result = new Map<string, Map<string, Record>>();
    result.set(
      'users',
      new Map(
        (await db.sql<{ row: Record }>('SELECT to_jsonb(u) AS row FROM users u')).map(({ row }) => [row.id, row]),
      ),
    );
    result.set(
      'posts',
      new Map(
        (await db.sql<{ row: Record }>('SELECT to_jsonb(p) AS row FROM posts p')).map(({ row }) => [row.id, row]),
      ),
    );
    return result;
  }

  test('creates the tables and capture objects, and SQL writes in any transaction reach a subscriber', async () => {
    const server = await start();
    const columns = await db.sql<{ table_name: string; column_name: string; data_type: string; is_nullable: string }>(
      `SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name = 'users' ORDER BY ordinal_position`,
    );
    expect(columns.map((c) => [c.column_name, c.data_type, c.is_nullable])).toEqual([
      ['id', 'text', 'NO'],
      ['name', 'text', 'NO'],
      ['email', 'text', 'NO'],
      ['role', 'text', 'NO'],
      ['active', 'boolean', 'NO'],
      ['age', 'integer', 'YES'],
    ]);
    const { feed, copy } = subscribe(server, 'usersList', USER_SELECTION);
    await feed.until((events) => events.length === 1, 'the snapshot');
    expect(copy.rows.size).toBe(0);

    // A psql-style multi-row transaction: one delta with both rows.
    await db.sql(`BEGIN; INSERT INTO users (id, name, email, role, active, age) VALUES
      ('a', 'Ada', 'ada@x', 'admin', true, 36), ('b', 'Bob', 'bob@x', 'viewer', false, NULL); COMMIT`);
    await feed.until((events) => events.length === 2, 'the insert');
    expect(feed.events[1]?.kind).toBe('DELTA');
    expect(copy.sorted().map((row) => row['name'])).toEqual(['Ada', 'Bob']);

    await db.sql(`UPDATE users SET age = 37 WHERE id = 'a'`);
    await db.sql(`DELETE FROM users WHERE id = 'b'`);
    // An id changed by SQL is a delete and a create.
    await db.sql(`UPDATE users SET id = 'c' WHERE id = 'a'`);
    // Inserted then deleted within one transaction: never seen.
    await db.sql(
      `BEGIN; INSERT INTO users VALUES ('tmp', 'T', 't@x', 'viewer', true, 1); DELETE FROM users WHERE id = 'tmp'; COMMIT`,
    );
    await db.sql(`INSERT INTO users VALUES ('d', 'Dee', 'd@x', 'viewer', true, 5)`);
    await eventually(() => copy.rows.has('d'), 'the last insert');
    // Versions are log positions: rising, each delta naming the version it applies to.
    const [first, ...deltas] = feed.events;
    let previous = first?.version ?? 0;
    for (const delta of deltas) {
      expect(delta.previousVersion).toBe(previous);
      expect(delta.version).toBeGreaterThan(previous);
      previous = delta.version;
    }
    const definition = server.store.checked.config.views.find((view) => view.id === 'usersList');
    const expected = evaluateView(definition as never, await tables());
    expect(copy.sorted()).toEqual(expected.map((row) => ({ ...row })));
    expect(copy.hash).toBe(hashRows(expected));
    expect([...copy.rows.keys()].sort()).toEqual(['c', 'd']);

    await db.sql('TRUNCATE users');
    await eventually(() => copy.rows.size === 0, 'the truncate');
    // Readiness and metrics see the follower: following, at the log's last position.
    const [last] = await db.sql<{ position: string }>('SELECT max(position)::text AS position FROM lv_changes');
    await eventually(() => server.store.logStatus()?.position === Number(last?.position), 'the status');
    expect(server.store.logStatus()).toMatchObject({ following: true, head: Number(last?.position), lagSeconds: 0 });
  });

  test('loads what the tables hold, and serves existing compatible tables as they are', async () => {
    await db.sql(`CREATE TABLE users (id text PRIMARY KEY, name text NOT NULL, email text NOT NULL, role text NOT NULL,
      active boolean NOT NULL, age integer, note text)`);
    await db.sql(`INSERT INTO users VALUES ('u1', 'Una', 'u@x', 'viewer', true, 20, 'not served')`);
    const server = await start();
    expect(server.store.record('users', 'u1')).toEqual({
      id: 'u1',
      name: 'Una',
      email: 'u@x',
      role: 'viewer',
      active: true,
      age: 20,
    });
    const { feed, copy } = subscribe(server, 'usersCount', 'id count');
    await feed.until((events) => events.length === 1, 'the snapshot');
    expect([...copy.rows.values()][0]?.['count']).toBe(1);
    await db.sql(`INSERT INTO users (id, name, email, role, active) VALUES ('u2', 'Ute', 'ut@x', 'viewer', false)`);
    await feed.until((events) => events.length === 2, 'the count');
    expect([...copy.rows.values()][0]?.['count']).toBe(2);
  });

  test('an incompatible table stops the start with a clear message and exit 2', async () => {
    await db.sql(`CREATE TABLE posts (id text PRIMARY KEY, title integer)`);
    const child = spawnProcess(
      process.execPath,
      ['--import', 'tsx', 'server/main.ts', '--port', '0', '--database', db.url],
      { cwd: root, env: { ...process.env, AUTH_SECRET: '' } },
    );
    const { code } = await child.exited;
    expect(code).toBe(2);
    expect(child.stderr()).toContain('do not fit the config');
    expect(child.stderr()).toContain('table "posts": column "title" is integer, the config needs text NOT NULL');
    expect(child.stderr()).toContain('table "posts" has no column "authorId"');
    // Nothing was created.
    expect(await db.sql(`SELECT 1 FROM pg_tables WHERE tablename IN ('users', 'lv_changes')`)).toEqual([]);
  });

  test('mutations go through PostgreSQL and are answered with the views that include them', async () => {
    const server = await start();
    const { feed, copy } = subscribe(server, 'usersList', USER_SELECTION);
    await feed.until((events) => events.length === 1, 'the snapshot');
    const created = await post(
      server,
      `mutation { createUser(input: { id: "m1", name: "Mo", email: "m@x", role: "viewer", active: true }) { user { id age } views { view version } } }`,
    );
    expect(created.errors).toBeUndefined();
    const payload = created.data?.['createUser'] as { user: unknown; views: { view: string; version: number }[] };
    expect(payload.user).toEqual({ id: 'm1', age: null });
    const usersList = payload.views.find((view) => view.view === 'usersList');
    // Read your writes: the answer's version is one this server already serves.
    expect(usersList?.version).toBe(server.store.snapshot('usersList').version);
    expect(await db.sql(`SELECT id, name, age FROM users`)).toEqual([{ id: 'm1', name: 'Mo', age: null }]);
    await eventually(() => copy.rows.has('m1'), 'the created user');

    const duplicate = await post(
      server,
      `mutation { createUser(input: { id: "m1", name: "X", email: "x@x", role: "viewer", active: true }) { user { id } } }`,
    );
    expect(duplicate.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    const missingUser = await post(server, `mutation { updateUser(id: "nobody", patch: { age: 3 }) { user { id } } }`);
    expect(missingUser.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    // A patch merges into the row PostgreSQL holds, even one a SQL client just changed.
    await db.sql(`UPDATE users SET name = 'Moe' WHERE id = 'm1'`);
    const patched = await post(
      server,
      `mutation { updateUser(id: "m1", patch: { age: 41 }) { user { id name age } } }`,
    );
    expect(patched.data?.['updateUser']).toEqual({ user: { id: 'm1', name: 'Moe', age: 41 } });
    const bad = await post(
      server,
      `mutation { createUser(input: { id: "nul", name: "a\\u0000b", email: "m@x", role: "viewer", active: true }) { user { id } } }`,
    );
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const batch = await post(
      server,
      `mutation { ingestBatch(changes: [
        { table: users, op: CREATE, id: "m2", data: { name: "Two", email: "t@x", role: "viewer", active: false } },
        { table: users, op: DELETE, id: "m1" }]) { views { view version } } }`,
    );
    expect(batch.errors).toBeUndefined();
    await eventually(() => copy.rows.has('m2') && !copy.rows.has('m1'), 'the batch');
    expect(await db.sql(`SELECT id FROM users`)).toEqual([{ id: 'm2' }]);
  });

  test('a dropped connection: mutations get UNAVAILABLE while the database refuses, then the instance catches up', async () => {
    const server = await start();
    const { feed, copy } = subscribe(server, 'usersList', USER_SELECTION);
    await feed.until((events) => events.length === 1, 'the snapshot');
    // Refuse new connections, then cut the server's: as a PostgreSQL restart does.
    await db.admin(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS false`);
    await db.sql(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
      [db.name],
    );
    await eventually(() => server.store.logStatus()?.following === false, 'the follower to notice');
    const refused = await post(
      server,
      `mutation { createUser(input: { id: "x1", name: "X", email: "x@x", role: "viewer", active: true }) { user { id } } }`,
    );
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAVAILABLE');
    // Written meanwhile by a client that was already connected.
    await db.sql(`INSERT INTO users VALUES ('during', 'D', 'd@x', 'viewer', true, 1)`);
    await db.admin(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`);
    await eventually(() => copy.rows.has('during'), 'the change made during the outage', 20_000);
    const accepted = await post(
      server,
      `mutation { createUser(input: { id: "x1", name: "X", email: "x@x", role: "viewer", active: true }) { user { id } } }`,
    );
    expect(accepted.errors).toBeUndefined();
    await eventually(() => copy.rows.has('x1'), 'the mutation after the outage');
    expect(server.store.logStatus()?.following).toBe(true);
  });
});
