import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { VersionClock } from '../../app/version-clock.js';
import { openStore, type Store } from '../../storage/index.js';
import { tempDir } from '../storage/helpers.js';

/**
 * The version clock over a real file: a run starts above every version an earlier run could
 * have issued — whatever that run counted, refused or rolled back, and however it ended — and
 * the store's mark is written once per block of requests, not per request.
 */
let dir: string;
let cleanup: () => void;
const open: Store[] = [];

beforeEach(() => {
  ({ dir, cleanup } = tempDir('version-clock-'));
});
afterEach(() => {
  for (const store of open.splice(0)) store.close();
  cleanup();
});

function openFile(): Store {
  const store = openStore({ file: `${dir}/live.sqlite` });
  open.push(store);
  return store;
}

function close(store: Store): void {
  store.close();
  open.splice(open.indexOf(store), 1);
}

/** One group of requests as the write path runs it: reserve, then each request in its savepoint. */
function group(store: Store, clock: VersionClock, outcomes: readonly ('applied' | 'refused after counting')[]): void {
  store.transaction((tx) => {
    clock.reserve(outcomes.length);
    for (const outcome of outcomes) {
      try {
        tx.savepoint(() => {
          clock.tick();
          if (outcome !== 'applied') throw new Error('refused');
        });
      } catch {
        // the request's caller gets the error; the group goes on
      }
    }
  });
}

test('a new file starts at 0; every run starts above everything the previous one counted', () => {
  let highest = -1;
  const runs: ('applied' | 'refused after counting')[][] = [
    [],
    ['applied', 'refused after counting', 'refused after counting'],
    ['refused after counting'],
    [],
    ['applied', 'applied'],
  ];
  for (const [run, outcomes] of runs.entries()) {
    const store = openFile();
    const clock = new VersionClock(store);
    if (run === 0) expect(clock.base).toBe(0);
    expect(clock.base, `run ${run}`).toBeGreaterThan(highest);
    clock.reserve(0);
    group(store, clock, outcomes);
    // A view registered now would start here: the highest version this run can issue.
    highest = clock.now();
    expect(highest).toBe(clock.base + outcomes.length);
    close(store); // no hook of the clock runs at close: as after kill -9
  }
});

test('the mark is stored once per block of requests, and before any version above it', () => {
  const store = openFile();
  const clock = new VersionClock(store);
  clock.reserve(0);
  const mark = Number(store.getMeta('version_mark'));
  expect(mark).toBeGreaterThanOrEqual(clock.now());
  const setMeta = vi.spyOn(store, 'setMeta');
  const counted = new VersionClock(store);
  counted.reserve(0);
  expect(setMeta).toHaveBeenCalledTimes(1);
  const block = Number(store.getMeta('version_mark')) - counted.now();
  for (let i = 0; i < block * 3; i++) {
    group(store, counted, ['applied']);
    expect(Number(store.getMeta('version_mark'))).toBeGreaterThanOrEqual(counted.now());
  }
  // Three blocks' worth of requests: the block reserved at start, then two more writes.
  expect(setMeta).toHaveBeenCalledTimes(3);
  expect(() => new VersionClock(store).tick()).toThrow(/not reserved/);
});

test('a file written before the mark starts above its request count and epoch', () => {
  let store = openFile();
  store.setMeta('requests', '40');
  close(store);
  store = openFile();
  const clock = new VersionClock(store);
  expect(clock.base).toBe(40 + store.epoch - 1);
  store.setMeta('version_mark', 'x');
  expect(() => new VersionClock(store)).toThrow(/invalid version_mark/);
});
