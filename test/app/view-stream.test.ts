import { expect, test } from 'vitest';
import { openLiveStore, type ViewEvent, ViewStream } from '../../app/index.js';
import { loadConfig } from '../../config/load.js';

/**
 * A view stream without a server: snapshot then deltas in order; a subscriber too slow to
 * read (more than 1,024 events queued) gets a fresh SNAPSHOT instead of a gap; closing the
 * store completes every stream and releases its listener.
 */
const user = (i: number) => ({
  table: 'users',
  op: 'CREATE' as const,
  id: `u${i}`,
  data: { name: `U${i}`, email: 'e', role: 'r', active: true },
});

test('a slow subscriber that loses updates gets a fresh SNAPSHOT, never a gap', async () => {
  const warnings: string[] = [];
  const store = await openLiveStore(await loadConfig(), { logger: { warn: (message) => void warnings.push(message) } });
  const stream = new ViewStream(store.views, 'usersCount');
  for (let i = 0; i < 1100; i++) await store.apply([user(i)]);
  expect(warnings).toHaveLength(1); // once per episode, not per lost update

  const events: ViewEvent[] = [];
  for (;;) {
    const next = await Promise.race([stream.next(), new Promise<undefined>((resolve) => setTimeout(resolve, 50))]);
    if (next === undefined || next.done === true) break;
    events.push(next.value);
  }
  const kinds = events.map((event) => event.kind);
  expect(kinds[0]).toBe('SNAPSHOT');
  expect(kinds.at(-1)).toBe('SNAPSHOT');
  expect(events.at(-1)).toMatchObject({
    version: store.snapshot('usersCount').version,
    added: [{ id: '*', count: 1100 }],
  });
  for (let i = 1; i < events.length; i++) {
    const event = events[i]!;
    if (event.kind === 'DELTA') expect(event.version).toBe(events[i - 1]!.version + 1);
  }
  await stream.return();
  expect(store.listenerCount()).toBe(0);
});

test('closing the store completes the streams and releases their listeners', async () => {
  const store = await openLiveStore(await loadConfig());
  const streams = [new ViewStream(store.views, 'usersList'), new ViewStream(store.views, 'topPosts', 0)];
  expect(store.listenerCount()).toBe(2);
  expect((await streams[0]!.next()).value).toMatchObject({ kind: 'SNAPSHOT' });
  const pending = streams[0]!.next();
  await store.close();
  expect(await pending).toEqual({ done: true, value: undefined });
  expect(await streams[1]!.next()).toEqual({ done: true, value: undefined });
  expect(store.listenerCount()).toBe(0);
  await expect(store.apply([user(1)])).rejects.toMatchObject({ code: 'UNAVAILABLE' }); // retryable: nothing applied
});
