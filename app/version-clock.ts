import { type Store, StoreError } from '../storage/index.js';

/** Meta key: the number of requests committed so far. */
const REQUESTS_KEY = 'requests';
/** Versions are GraphQL `Int`s. */
const MAX_VERSION = 2 ** 31 - 1;

/**
 * The one owner of view versions. Each committed request raises a view's version by at
 * most 1, so the clock counts requests (in the store's meta, inside each request's
 * transaction) and tells the version a view registered now must start at:
 *
 *   base = requests stored at start + epoch - 1        now() = base + requests counted since
 *
 * The store's epoch rises by at least 1 per open, so every version issued by an earlier run
 * (at most that run's base plus the requests it committed) is below `base`, and every view
 * created during this run starts at `now()`: above every version an earlier view of the same
 * signature exposed. A client resuming with an old version is therefore never mistaken for
 * one of this run's (see `UpdateHistory`). The first run on a new file (and every in-memory
 * run) starts at 0.
 *
 * Versions are GraphQL `Int`s: this holds for 2^31 - 1 committed requests plus restarts,
 * after which the server refuses to start.
 */
export class VersionClock {
  readonly #store: Store;
  readonly #countAtStart: number;
  #count: number;
  /** The version the config's views start at in this run. */
  readonly base: number;

  constructor(store: Store) {
    this.#store = store;
    const raw = store.getMeta(REQUESTS_KEY) ?? '0';
    const count = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(count)) {
      throw new StoreError('CORRUPT', `the store ${store.file} has an invalid request count ${JSON.stringify(raw)}`, {
        file: store.file,
      });
    }
    this.#count = count;
    this.#countAtStart = count;
    this.base = count + store.epoch - 1;
    if (this.base > MAX_VERSION - 1) {
      throw new Error(
        `the store ${store.file} has issued view versions up to ${this.base}, the limit of a GraphQL Int; ` +
          'copy its records to a new file',
      );
    }
  }

  /** No view's version is above this; a view registered now starts here. */
  now(): number {
    return this.base + this.#count - this.#countAtStart;
  }

  /** Counts one more request; call inside its transaction, before applying it to the engine. */
  tick(): void {
    this.#store.setMeta(REQUESTS_KEY, String(this.#count + 1));
    this.#count++;
  }
}
