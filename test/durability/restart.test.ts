import { writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import demo from '../../config/demo.js';
import type { AppConfig } from '../../config/types.js';
import { type Record as EngineRecord, evaluateView, hashRows, type ViewDefinition } from '../../engine/index.js';
import type { RunningServer } from '../../server/app.js';
import { type Transport, urqlOverWs } from '../graphql/helpers/clients.js';
import { DEMO_VIEWS, followView } from '../graphql/helpers/demo.js';
import { LocalView } from '../graphql/helpers/local-view.js';
import { killProcessGroups } from '../process-groups.js';
import {
  allViews,
  gql,
  type LogLine,
  must,
  readStoreFile,
  type ServerProcess,
  spawnServer,
  startServerProcess,
  stopServer,
  tempDir,
} from './helpers.js';

/**
 * Restart: mutations through GraphQL, a graceful stop (SIGTERM), a start on the same file.
 * The restarted server serves the same rows and hashes (queries and subscriptions), every
 * version is above those issued before, and a client resuming with a version from before the
 * restart gets a SNAPSHOT — never a delta of another history. Then the config evolves: a new
 * table and a new nullable field work on the existing file; a new required field is refused
 * with the record at fault named, and the file stays usable.
 */
let dir: string;
let cleanup: () => void;
let file: string;

beforeAll(() => {
  ({ dir, cleanup } = tempDir('durability-restart-'));
  file = `${dir}/live.sqlite`;
});
afterEach(killProcessGroups);
afterAll(() => cleanup());

async function start(args: string[] = []): Promise<{ server: ServerProcess; url: string; ready: LogLine }> {
  return await startServerProcess(['--data', file, ...args]);
}

function transportFor(url: string): Transport {
  return urqlOverWs({ url, wsUrl: url.replace(/^http/, 'ws') } as RunningServer);
}

const CREATE_USER = 'mutation($input: CreateUserInput!) { createUser(input: $input) { id } }';
const CREATE_POST = 'mutation($input: CreatePostInput!) { createPost(input: $input) { id } }';
const UPDATE_POST = 'mutation($id: ID!, $patch: PostPatch!) { updatePost(id: $id, patch: $patch) { id } }';
const DELETE_USER = 'mutation($id: ID!) { deleteUser(id: $id) { id } }';
const BATCH = 'mutation($changes: [ChangeInput!]!) { ingestBatch(changes: $changes) { ids } }';

type Views = Awaited<ReturnType<typeof allViews>>;
const rowsOf = (views: Views, id: string): unknown[] => (views as unknown as { [view: string]: unknown[] })[id] ?? [];
const infoOf = (views: Views, id: string) => views.views.find((view) => view.id === id);

let before: Views;

test('after SIGTERM and a restart: same rows and hashes, versions above the old ones, an old sinceVersion gets a SNAPSHOT', async () => {
  const first = await start();
  expect(first.ready).toMatchObject({ records: 0, versionBase: 0 });
  const transport = transportFor(first.url);
  const copies = new Map(
    DEMO_VIEWS.map((view) => [view, { local: new LocalView(), ...followView(transport.client, view) }]),
  );
  for (const [view, copy] of copies) await copy.feed.until((events) => events.length === 1, `${view} snapshot`);

  for (let i = 0; i < 30; i++) {
    await must(first.url, CREATE_USER, {
      input: {
        id: `u${i}`,
        name: `User ${i % 7}`,
        email: `u${i}@example.com`,
        role: i % 5 === 0 ? 'admin' : 'member',
        active: i % 3 !== 0,
        age: 20 + i,
      },
    });
  }
  for (let i = 0; i < 40; i++) {
    await must(first.url, CREATE_POST, {
      input: { id: `p${i}`, authorId: `u${i % 12}`, title: `Post ${i}`, published: i % 4 !== 0, likes: (i * 37) % 100 },
    });
  }
  for (let i = 0; i < 10; i++) await must(first.url, UPDATE_POST, { id: `p${i * 3}`, patch: { likes: 100 + i } });
  await must(first.url, DELETE_USER, { id: 'u3' });
  await must(first.url, BATCH, {
    changes: [
      {
        table: 'users',
        op: 'CREATE',
        id: 'u100',
        data: { name: 'Batch', email: 'b@example.com', role: 'member', active: true },
      },
      {
        table: 'posts',
        op: 'CREATE',
        id: 'p100',
        data: { authorId: 'u100', title: 'From a batch', published: true, likes: 1000 },
      },
      { table: 'posts', op: 'DELETE', id: 'p1' },
    ],
  });
  const refused = await gql(first.url, CREATE_USER, {
    input: { id: 'u1', name: 'Twice', email: 'x', role: 'member', active: true },
  });
  expect(refused.errors?.[0]?.extensions?.code).toBe('CONFLICT');

  before = await allViews(first.url);
  for (const [view, copy] of copies) {
    const info = infoOf(before, view);
    await copy.feed.until((events) => events.at(-1)?.version === info?.version, `${view} caught up`);
    for (const event of copy.feed.events) copy.local.apply(event);
    expect(copy.local.hash, view).toBe(info?.hash);
    copy.stop();
  }
  await transport.close();
  expect(await stopServer(first.server)).toBe(0);
  expect(first.server.logs.find((log) => log.msg === 'stopped')?.['commits']).toMatchObject({
    committed: 30 + 40 + 10 + 1 + 1,
    rejected: 1,
  });

  // The file holds exactly what the views were computed from.
  const stored = readStoreFile(file);
  const tables = new Map([
    ['users', stored.get('users') ?? new Map<string, EngineRecord>()],
    ['posts', stored.get('posts') ?? new Map<string, EngineRecord>()],
  ]);
  expect(tables.get('users')?.size).toBe(30);
  expect(tables.get('users')?.get('u1')?.['name']).toBe('User 1');
  for (const view of DEMO_VIEWS)
    expect(hashRows(evaluateView(viewDefinition(view), tables)), view).toBe(infoOf(before, view)?.hash);

  const second = await start();
  const base = second.ready['versionBase'] as number;
  expect(second.ready['records']).toBe(30 + 40);
  const highest = Math.max(...before.views.map((view) => view.version));
  expect(base).toBeGreaterThan(highest);

  const after = await allViews(second.url);
  for (const view of DEMO_VIEWS) {
    expect(rowsOf(after, view), view).toEqual(rowsOf(before, view));
    expect(infoOf(after, view), view).toMatchObject({ hash: infoOf(before, view)?.hash, version: base });
  }

  // Resuming with versions from before the restart: a SNAPSHOT of the same rows, then live deltas.
  const resumedTransport = transportFor(second.url);
  const resumed = new Map(
    DEMO_VIEWS.map((view) => [
      view,
      { local: new LocalView(), ...followView(resumedTransport.client, view, infoOf(before, view)?.version ?? 0) },
    ]),
  );
  const fromZero = followView(resumedTransport.client, 'usersCount', 0);
  const fromOlder = followView(resumedTransport.client, 'topPosts', (infoOf(before, 'topPosts')?.version ?? 1) - 1);
  for (const [view, copy] of resumed) {
    await copy.feed.until((events) => events.length === 1, `${view} resumed`);
    expect(copy.feed.events[0], view).toMatchObject({
      kind: 'SNAPSHOT',
      version: base,
      hash: infoOf(before, view)?.hash,
    });
    copy.local.apply(copy.feed.events[0]!);
  }
  for (const feed of [fromZero.feed, fromOlder.feed]) {
    await feed.until((events) => events.length === 1, 'resumed from an older version');
    expect(feed.events[0]).toMatchObject({ kind: 'SNAPSHOT', version: base });
  }

  await must(second.url, CREATE_USER, {
    input: { id: 'u200', name: 'After', email: 'a@example.com', role: 'member', active: true },
  });
  const usersCount = resumed.get('usersCount')!;
  await usersCount.feed.until((events) => events.length === 2, 'a delta after the restart');
  expect(usersCount.feed.events[1]).toMatchObject({ kind: 'DELTA', version: base + 1 });
  usersCount.local.apply(usersCount.feed.events[1]!);
  expect(usersCount.local.rows.get('*')).toEqual({ id: '*', count: 31 });
  // A version issued by this run is served exactly, from the history.
  const exact = followView(resumedTransport.client, 'usersCount', base);
  await exact.feed.until((events) => events.length === 1, 'resume within this run');
  expect(exact.feed.events[0]).toMatchObject({ kind: 'DELTA', version: base + 1 });

  for (const copy of [...resumed.values(), fromZero, fromOlder, exact]) copy.stop();
  await resumedTransport.close();
  expect(await stopServer(second.server)).toBe(0);
});

test('a config that adds a table and a nullable field works on the existing file; a new required field is refused', async () => {
  const evolved: AppConfig = {
    ...demo,
    tables: [
      ...demo.tables.map((table) =>
        table.name === 'users' ? { ...table, fields: { ...table.fields, nickname: 'String' as const } } : table,
      ),
      { name: 'tags', type: 'Tag', fields: { label: 'String!' } },
    ],
  };
  const evolvedFile = `${dir}/evolved.json`;
  writeFileSync(evolvedFile, JSON.stringify(evolved));

  const third = await start(['--config', evolvedFile]);
  expect(third.ready['records']).toBe(31 + 40);
  expect(await must(third.url, '{ user(id: "u1") { id name nickname } }')).toEqual({
    user: { id: 'u1', name: 'User 1', nickname: null },
  });
  await must(third.url, 'mutation { createTag(input: { id: "t1", label: "new" }) { id } }');
  await must(third.url, 'mutation { updateUser(id: "u2", patch: { nickname: "Two" }) { id } }');
  const evolvedViews = await allViews(third.url);
  // Same rows as before the config change, each user row now with `nickname` (null but one).
  expect(rowsOf(evolvedViews, 'usersCount')).toEqual([{ id: '*', count: 31 }]);
  expect(await stopServer(third.server)).toBe(0);

  // Nothing is lost or different on the next start with the same config: the file holds the
  // normalised records (every user has `nickname`), so the hashes are the same.
  const stored = readStoreFile(file);
  expect(stored.get('users')?.get('u1')).toMatchObject({ nickname: null });
  expect(stored.get('tags')?.get('t1')).toEqual({ id: 't1', label: 'new' });
  const fourth = await start(['--config', evolvedFile]);
  expect(fourth.ready['records']).toBe(31 + 40 + 1);
  const again = await allViews(fourth.url);
  for (const view of DEMO_VIEWS) expect(infoOf(again, view)?.hash, view).toBe(infoOf(evolvedViews, view)?.hash);
  expect(await stopServer(fourth.server)).toBe(0);

  // A required field the stored users lack: exit 2 naming a record; the file still serves.
  const required = {
    ...evolved,
    tables: evolved.tables.map((table) =>
      table.name === 'users' ? { ...table, fields: { ...table.fields, score: 'Int!' as const } } : table,
    ),
  };
  const requiredFile = `${dir}/required.json`;
  writeFileSync(requiredFile, JSON.stringify(required));
  const refused = spawnServer(['--port', '0', '--data', file, '--config', requiredFile]);
  expect((await refused.exited).code).toBe(2);
  expect(refused.stderr()).toMatch(/stored record users 'u\d+': field 'score'/);
  const fifth = await start(['--config', evolvedFile]);
  expect(fifth.ready['records']).toBe(31 + 40 + 1);
  expect(await stopServer(fifth.server)).toBe(0);
});

function viewDefinition(id: string): ViewDefinition {
  const view = demo.views.find((v) => v.id === id);
  if (view === undefined) throw new Error(`no view ${id}`);
  return view as ViewDefinition;
}
