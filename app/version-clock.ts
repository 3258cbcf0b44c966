import { type Store, StoreError } from '../storage/index.js';

/** Meta key: no run has issued, nor will issue, a view version above this (the high-water mark). */
const MARK_KEY = 'version_mark';
/** Meta key of files written before the mark: the number of requests committed (read, no longer written). */
const LEGACY_REQUESTS_KEY = 'requests';
/** Versions reserved per write of the mark: one small write per this many requests, this many skipped per restart. */
const BLOCK = 1000;
/** Versions are GraphQL `Int`s. */
const MAX_VERSION = 2 ** 31 - 1;

/**
 * The one owner of view versions. Each committed request raises a view's version by at most 1,
 * so `now()` — the run's `base` plus the requests it applied — is at least every view's
 * version; a view registered now starts at or below it (`StartVersions` says where).
 *
 * Across runs, versions are never issued twice: the store keeps a high-water mark, and no
 * version above the stored mark is ever issued. `reserve(n)` raises the mark by a block ahead
 * of need, in the caller's transaction but outside any request's savepoint, so a refused
 * request (its savepoint rolled back) cannot take back a reservation the clock counts on. A run
 * starts at the stored mark + 1: above everything an earlier run could have issued, whatever it
 * counted, however it ended (kill -9 included). Files written before the mark start above
 * their request count + epoch - 1, the rule they were written under. A new file (and every
 * in-memory run) starts at 0.
 *
 * Versions are GraphQL `Int`s: about 2^31 requests and restarts (each skips up to a block)
 * fit, after which the server refuses to start.
 */
export class VersionClock {
  readonly #store: Store;
  /** Requests applied this run. */
  #count = 0;
  /** The highest version this run may issue: what the store's mark says once reserved. */
  #reserved: number;
  /** The version the config's views start at in this run. */
  readonly base: number;

  constructor(store: Store) {
    this.#store = store;
    const mark = readCount(store, MARK_KEY);
    const requests = readCount(store, LEGACY_REQUESTS_KEY) ?? 0;
    this.base = Math.max(mark === undefined ? 0 : mark + 1, requests + store.epoch - 1);
    if (this.base > MAX_VERSION - 1) {
      throw new StoreError(
        'CORRUPT',
        `the store ${store.file} has issued view versions up to ${this.base}, the limit of a GraphQL Int; ` +
          'copy its records to a new file',
        { file: store.file },
      );
    }
    this.#reserved = this.base - 1;
  }

  /** No view's version is above this. */
  now(): number {
    return this.base + this.#count;
  }

  /**
   * Makes sure `requests` more requests can be counted: stores a new mark (a block ahead) when
   * the reserved versions run out. Call before issuing any version — at start-up with 0, and for
   * each group of requests inside its transaction, before any request's savepoint (a failed
   * transaction stops the server, so nothing is issued under a mark that was not stored).
   */
  reserve(requests: number): void {
    const needed = this.now() + requests;
    if (needed <= this.#reserved) return;
    if (needed > MAX_VERSION) {
      throw new StoreError('CORRUPT', `view versions would exceed ${MAX_VERSION}, the limit of a GraphQL Int`, {
        file: this.#store.file,
      });
    }
    const mark = Math.min(needed + BLOCK, MAX_VERSION);
    this.#store.setMeta(MARK_KEY, String(mark));
    this.#reserved = mark;
  }

  /** Counts one applied request (memory only: `reserve` covered it). */
  tick(): void {
    if (this.now() + 1 > this.#reserved) {
      throw new Error(`version ${this.now() + 1} was not reserved (the stored mark is ${this.#reserved})`);
    }
    this.#count++;
  }
}

function readCount(store: Store, key: string): number | undefined {
  const raw = store.getMeta(key);
  if (raw === undefined) return undefined;
  const count = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(count)) {
    throw new StoreError('CORRUPT', `the store ${store.file} has an invalid ${key} ${JSON.stringify(raw)}`, {
      file: store.file,
    });
  }
  return count;
}
