import { afterEach, beforeAll, beforeEach, expect, test } from 'vitest';
import { type Change, type LiveStore, openLiveStore, type ViewEvent, ViewStream } from '../../app/index.js';
import { loadConfig } from '../../config/load.js';
import type { CheckedConfig } from '../../config/validate.js';
import { readStoreFile, tempDir } from './helpers.js';

/**
 * The write path in process, on a real file: concurrent requests share a transaction (group
 * commit), a request the engine refuses is neither stored nor applied while the rest of its
 * group is, an ingestBatch is all or nothing in the file and the engine, updates are
 * published in version order, and versions keep rising over restarts.
 */
let checked: CheckedConfig;
let dir: string;
let cleanup: () => void;
const opened: LiveStore[] = [];

beforeAll(async () => {
  checked = await loadConfig();
});
beforeEach(() => {
  ({ dir, cleanup } = tempDir('durability-write-path-'));
});
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  cleanup();
});

async function open(file: string): Promise<LiveStore> {
  const store = await openLiveStore(checked, { storage: { file } });
  opened.push(store);
  return store;
}

const createUser = (id: string, name = `User ${id}`): Change => ({
  table: 'users',
  op: 'CREATE',
  id,
  data: { name, email: `${id}@example.com`, role: 'member', active: true },
});

test('requests of one event-loop turn share a transaction; a refused one is neither stored nor applied, the others are', async () => {
  const file = `${dir}/live.sqlite`;
  const store = await open(file);
  const requests: Change[][] = [
    ...Array.from({ length: 18 }, (_, i) => [createUser(`u${i}`)]),
    [createUser('u0', 'Twice')], // CONFLICT
    [{ table: 'users', op: 'UPDATE', id: 'nobody', data: { age: 3 } }], // NOT_FOUND
    [
      createUser('b1'),
      { table: 'posts', op: 'CREATE', id: 'p1', data: { authorId: 'b1', title: 't', published: true, likes: 1 } },
      createUser('u1'),
    ], // CONFLICT at the end
    [
      createUser('b2'),
      { table: 'posts', op: 'CREATE', id: 'p2', data: { authorId: 'b2', title: 't', published: true, likes: 2 } },
    ],
  ];
  const results = await Promise.allSettled(requests.map((changes) => store.apply(changes)));
  expect(results.map((result) => result.status)).toEqual([
    ...Array<string>(18).fill('fulfilled'),
    'rejected',
    'rejected',
    'rejected',
    'fulfilled',
  ]);
  expect(results.slice(18, 21).map((result) => (result as PromiseRejectedResult).reason.code)).toEqual([
    'CONFLICT',
    'NOT_FOUND',
    'CONFLICT',
  ]);
  expect(store.commitStats()).toEqual({ groups: 1, committed: 19, rejected: 3, largestGroup: 22 });

  expect(store.record('users', 'u0')?.['name']).toBe('User u0');
  expect(store.record('users', 'b1')).toBeUndefined();
  expect(store.record('posts', 'p1')).toBeUndefined();
  expect(store.record('posts', 'p2')).toMatchObject({ likes: 2 });
  expect(store.snapshot('usersCount').rows).toEqual([{ id: '*', count: 19 }]);
  await store.close();

  const tables = readStoreFile(file);
  expect([...(tables.get('users')?.keys() ?? [])].sort()).toEqual(
    [...Array.from({ length: 18 }, (_, i) => `u${i}`), 'b2'].sort(),
  );
  expect(tables.get('users')?.get('u0')).toEqual({
    id: 'u0',
    name: 'User u0',
    email: 'u0@example.com',
    role: 'member',
    active: true,
    age: null,
  });
  expect([...(tables.get('posts')?.keys() ?? [])]).toEqual(['p2']);
});

test('updates are published in version order, and a request resolves after its updates were published', async () => {
  const store = await open(`${dir}/live.sqlite`);
  const stream = new ViewStream(store.views, 'usersCount');
  const events: ViewEvent[] = [];
  const reading = (async () => {
    for await (const event of stream) {
      events.push(event);
      if (event.version === 200) break;
    }
  })();
  // Several turns of 20 concurrent requests each.
  for (let turn = 0; turn < 10; turn++) {
    const applied = await Promise.all(Array.from({ length: 20 }, (_, i) => store.apply([createUser(`u${turn}-${i}`)])));
    const versions = applied.map((result) => result.updates.find((update) => update.view === 'usersCount')?.version);
    expect(versions).toEqual(Array.from({ length: 20 }, (_, i) => turn * 20 + i + 1));
    // Each was published before its promise resolved: the history already holds it.
    expect(store.history('usersCount')?.since(turn * 20, turn * 20 + 20)).toHaveLength(20);
  }
  await reading;
  expect(events.map((event) => `${event.kind}${event.version}`)).toEqual([
    'SNAPSHOT0',
    ...Array.from({ length: 200 }, (_, i) => `DELTA${i + 1}`),
  ]);
  expect(store.commitStats().groups).toBeLessThanOrEqual(10 * 2);
});

test('versions keep rising over restarts, however many requests each run committed', async () => {
  const file = `${dir}/live.sqlite`;
  let highest = -1;
  const counts = [0, 5, 1, 0, 12, 3];
  let users = 0;
  const views = checked.config.views.filter((view) => (view as { params?: unknown }).params === undefined); // not the on-demand ones
  for (const [run, count] of counts.entries()) {
    const store = await open(file);
    const base = store.storage.versionBase;
    expect(base, `run ${run}`).toBeGreaterThan(highest);
    for (const view of views) expect(store.snapshot(view.id).version).toBe(base);
    expect(store.snapshot('usersCount').rows).toEqual([{ id: '*', count: users }]);
    for (let i = 0; i < count; i++) await store.apply([createUser(`r${run}-${i}`)]); // each raises usersCount by one
    users += count;
    highest = Math.max(...views.map((view) => store.snapshot(view.id).version));
    expect(store.snapshot('usersCount').version).toBe(base + count);
    // A version from before this run is never served from the history.
    if (base > 0)
      expect(store.history('usersCount')?.since(base - 1, store.snapshot('usersCount').version)).toBeUndefined();
    await store.close();
    opened.splice(opened.indexOf(store), 1);
  }
});
