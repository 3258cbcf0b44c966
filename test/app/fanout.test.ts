import { afterEach, expect, test } from 'vitest';
import { type EventSink, type LiveStore, openLiveStore, type ViewEvent, ViewStream } from '../../app/index.js';
import { loadConfig } from '../../config/load.js';

/**
 * Delivery behind the write (see `Fanout`) and pushed streams (`ViewStream.push`): a write is
 * answered before any subscriber gets its event; a subscriber leaving in the middle of a
 * sliced delivery gets nothing more and the others get everything; a sink too far behind drops
 * DELTAs and gets a fresh SNAPSHOT once drained, then consecutive DELTAs.
 */
const user = (i: number, name = `U${i}`) => ({
  table: 'users',
  op: 'CREATE' as const,
  id: `u${i}`,
  data: { name, email: 'e', role: 'r', active: true },
});
const rename = (i: number, name: string) => ({ ...user(i, name), op: 'UPDATE' as const });

let store: LiveStore | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

/** A sink that records what it is given; `refuse` makes it turn DELTAs down, `drain` calls its waiters. */
class RecordingSink implements EventSink {
  readonly events: ViewEvent[] = [];
  ended = false;
  refuse = false;
  onWrite: ((event: ViewEvent) => void) | undefined;
  readonly #waiting: (() => void)[] = [];

  write(event: ViewEvent): boolean {
    if (this.refuse && event.kind === 'DELTA') return false;
    this.events.push(event);
    this.onWrite?.(event);
    return true;
  }

  whenDrained(callback: () => void): void {
    this.#waiting.push(callback);
  }

  end(): void {
    this.ended = true;
  }

  drain(): void {
    this.refuse = false;
    for (const callback of this.#waiting.splice(0)) callback();
  }
}

/** Resolves once `condition` holds (delivery runs in slices; a loaded machine makes them late). */
async function until(condition: () => boolean, label: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Waits for delivery slices (setImmediate) to run. */
const turns = async (n = 5): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

/** Each event follows the one before: a SNAPSHOT replaces the copy, a DELTA applies to its version. */
function expectConsecutive(events: readonly ViewEvent[]): void {
  expect(events[0]?.kind).toBe('SNAPSHOT');
  for (let i = 1; i < events.length; i++) {
    const event = events[i] as ViewEvent;
    const before = (events[i - 1] as ViewEvent).version;
    if (event.kind === 'SNAPSHOT') expect(event.version).toBeGreaterThanOrEqual(before);
    else expect(event.previousVersion).toBe(before);
  }
}

test('a write is answered before its event is delivered; delivery follows', async () => {
  store = await openLiveStore(await loadConfig());
  const sink = new RecordingSink();
  const stream = new ViewStream(store.views, 'usersCount');
  stream.push(sink);
  await turns(1);
  expect(sink.events.map((event) => event.kind)).toEqual(['SNAPSHOT']);
  await store.apply([user(1)]);
  expect(sink.events).toHaveLength(1); // answered, not delivered yet
  await turns();
  expect(sink.events.map((event) => event.kind)).toEqual(['SNAPSHOT', 'DELTA']);
  expectConsecutive(sink.events);
  await stream.return();
  expect(sink.ended).toBe(true);
});

test('subscribers leaving in the middle of a sliced delivery get nothing more; the others get every event', async () => {
  store = await openLiveStore(await loadConfig());
  const views = store.views;
  const COUNT = 300;
  const sinks = Array.from({ length: COUNT }, () => new RecordingSink());
  const streams = sinks.map((sink) => {
    const stream = new ViewStream(views, 'usersCount');
    stream.push(sink);
    return stream;
  });
  await turns(1);
  // Each write of the DELTA takes ~0.1 ms: the delivery to 300 spans several 4 ms slices.
  for (const sink of sinks) {
    sink.onWrite = (event) => {
      if (event.kind !== 'DELTA') return;
      const until = performance.now() + 0.1;
      while (performance.now() < until);
    };
  }
  // Between the first slice and the next, the second half unsubscribes.
  let first = true;
  sinks[0]!.onWrite = (event) => {
    if (!first || event.kind !== 'DELTA') return;
    first = false;
    setImmediate(() => {
      for (const stream of streams.slice(COUNT / 2)) void stream.return();
    });
  };
  await store.apply([user(1)]);
  await until(() => sinks.slice(0, COUNT / 2).every((sink) => sink.events.length === 2), 'the first half');
  await turns();
  const delivered = sinks.map((sink) => sink.events.length - 1);
  expect(delivered.slice(0, COUNT / 2)).toEqual(Array(COUNT / 2).fill(1));
  // Those that left after their turn got it, those that left before did not; none got it twice.
  const late = delivered.slice(COUNT / 2);
  expect(late.some((n) => n === 0)).toBe(true);
  expect(late.every((n) => n <= 1)).toBe(true);
  expect(store.listenerCount('usersCount')).toBe(COUNT / 2);

  // The remaining ones still get the next event.
  await store.apply([user(2)]);
  await until(() => sinks.slice(0, COUNT / 2).every((sink) => sink.events.length === 3), 'the next event');
  for (const sink of sinks.slice(0, COUNT / 2)) expectConsecutive(sink.events);
  await Promise.all(streams.map((stream) => stream.return()));
  expect(store.listenerCount()).toBe(0);
});

test('a sink too far behind drops DELTAs, then gets a fresh SNAPSHOT and consecutive DELTAs', async () => {
  store = await openLiveStore(await loadConfig());
  await store.apply([user(1), user(2)]);
  const sink = new RecordingSink();
  const stream = new ViewStream(store.views, 'usersList');
  stream.push(sink);
  await store.apply([rename(1, 'A')]);
  await turns();
  sink.refuse = true;
  for (let i = 0; i < 5; i++) await store.apply([rename(2, `B${i}`)]);
  await turns();
  expect(sink.events.map((event) => event.kind)).toEqual(['SNAPSHOT', 'DELTA']);
  sink.drain();
  expect(sink.events.map((event) => event.kind)).toEqual(['SNAPSHOT', 'DELTA', 'SNAPSHOT']);
  expect(sink.events.at(-1)).toMatchObject({
    version: store.snapshot('usersList').version,
    added: [
      { id: 'u1', name: 'A' },
      { id: 'u2', name: 'B4' },
    ],
  });
  await store.apply([rename(1, 'C')]);
  await store.apply([rename(2, 'D')]);
  await turns();
  expect(sink.events.map((event) => event.kind)).toEqual(['SNAPSHOT', 'DELTA', 'SNAPSHOT', 'DELTA', 'DELTA']);
  expectConsecutive(sink.events);
  await stream.return();
});

test('events delivered before the push are written first, in order, without the ones the snapshot holds', async () => {
  store = await openLiveStore(await loadConfig());
  const stream = new ViewStream(store.views, 'usersCount');
  for (let i = 0; i < 3; i++) await store.apply([user(i)]);
  await turns();
  const sink = new RecordingSink();
  stream.push(sink);
  await turns(1);
  expect(sink.events.map((event) => event.kind)).toEqual(['SNAPSHOT', 'DELTA', 'DELTA', 'DELTA']);
  expectConsecutive(sink.events);
  expect(sink.events.at(-1)).toMatchObject({ added: [], updated: [{ id: '*', count: 3 }] });
  await stream.return();
});

test('streams joining a view at one version share one SNAPSHOT event; after a change, a fresh one', async () => {
  store = await openLiveStore(await loadConfig());
  await store.apply([user(1)]);
  const first = new ViewStream(store.views, 'usersList');
  const second = new ViewStream(store.views, 'usersList');
  const [a, b] = [(await first.next()).value as ViewEvent, (await second.next()).value as ViewEvent];
  expect(a.kind).toBe('SNAPSHOT');
  expect(b).toBe(a);
  await store.apply([user(2)]);
  const third = new ViewStream(store.views, 'usersList');
  const c = (await third.next()).value as ViewEvent;
  expect(c).not.toBe(a);
  expect(c.version).toBeGreaterThan(a.version);
  expect(c.added.map((row) => row['id'])).toEqual(['u1', 'u2']);
  await Promise.all([first.return(), second.return(), third.return()]);
});
