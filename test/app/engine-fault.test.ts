import { afterEach, expect, test, vi } from 'vitest';
import { openLiveStore, ViewStream } from '../../app/index.js';
import { loadConfig } from '../../config/load.js';
import { type EngineFault, isEngineFault } from '../../engine/index.js';
import { Aggregate } from '../../engine/operators/aggregate.js';

/**
 * The service layer after an engine fault (a bug while a change is applied): the failing
 * request is refused and not applied in the store, `onEngineFault` runs once with the view and
 * change, live streams end, and every later read or write is refused with UNAVAILABLE instead
 * of being served from views that may be half-updated.
 */
afterEach(() => void vi.restoreAllMocks());

const ann = {
  table: 'users',
  op: 'CREATE' as const,
  id: 'u1',
  data: { name: 'Ann', email: 'a@x', role: 'r', active: true },
};
const post = (id: string, title: string) => ({
  table: 'posts',
  op: 'CREATE' as const,
  id,
  data: { authorId: 'u1', title, published: true, likes: 1 },
});

test('a fault refuses its request, stops reads and writes, and reports once', async () => {
  const faults: EngineFault[] = [];
  const store = await openLiveStore(await loadConfig(), {
    storage: { file: ':memory:', onEngineFault: (fault) => void faults.push(fault) },
  });
  await store.apply([ann, post('p1', 'fine')]);
  const stream = new ViewStream(store.views, 'usersList');
  expect((await stream.next()).value).toMatchObject({ kind: 'SNAPSHOT' });

  const push = Aggregate.prototype.push;
  vi.spyOn(Aggregate.prototype, 'push').mockImplementation(function (this: Aggregate, delta) {
    const out = push.call(this, delta);
    if (delta.some(({ key }) => key === 'p2')) throw new Error('accumulator bug');
    return out;
  });
  const refused = await store.apply([post('p2', 'boom')]).catch((error: unknown) => error);
  expect(isEngineFault(refused)).toBe(true);
  expect(faults).toHaveLength(1);
  expect(faults[0]).toMatchObject({ view: 'postsPerAuthor', table: 'posts', id: 'p2' });

  expect(await stream.next()).toEqual({ done: true, value: undefined });
  expect(() => store.snapshot('topPosts')).toThrow(expect.objectContaining({ code: 'UNAVAILABLE' }));
  await expect(store.apply([post('p3', 'later')])).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  expect(faults).toHaveLength(1);
  await store.close();
});
