/**
 * The last `capacity` updates of one view, for subscribers resuming with `sinceVersion`.
 * Versions are consecutive, so a ring buffer indexed by version needs no search.
 *
 * `start` is the version the view started at in this run of the server. A version below it
 * was issued by an earlier run (versions rise across restarts, see `VersionClock`): its
 * deltas are not here, so `since` never serves it and the subscriber gets a SNAPSHOT.
 */
export class UpdateHistory<T extends { readonly version: number }> {
  readonly #capacity: number;
  readonly #ring: (T | undefined)[];
  /** Version of the newest update held; 0 when none is. */
  #newest = 0;
  #size = 0;
  readonly #start: number;

  constructor(capacity: number, start = 0) {
    if (!Number.isInteger(capacity) || capacity < 0)
      throw new RangeError(`history capacity must be an integer >= 0, got ${capacity}`);
    this.#capacity = capacity;
    this.#start = start;
    this.#ring = new Array<T | undefined>(capacity);
  }

  /** Appends the view's next update; its version must follow the previous one. */
  push(update: T): void {
    if (this.#size > 0 && update.version !== this.#newest + 1) {
      throw new Error(`history: version ${update.version} does not follow ${this.#newest}`);
    }
    this.#newest = update.version;
    if (this.#capacity === 0) return;
    this.#ring[update.version % this.#capacity] = update;
    this.#size = Math.min(this.#size + 1, this.#capacity);
  }

  /**
   * The updates after `version` up to `current` (the view's version now), oldest first;
   * undefined — the caller sends a SNAPSHOT — whenever they cannot be served exactly: some are
   * no longer held, or `version` is not one this run issued (below `start`, above `current`).
   */
  since(version: number, current: number): T[] | undefined {
    if (!Number.isInteger(version) || version < this.#start || version > current) return undefined;
    if (version === current) return [];
    if (this.#size === 0 || this.#newest !== current) return undefined;
    const oldest = this.#newest - this.#size + 1;
    if (version + 1 < oldest) return undefined;
    const updates: T[] = [];
    for (let v = version + 1; v <= current; v++) updates.push(this.#ring[v % this.#capacity] as T);
    return updates;
  }
}
