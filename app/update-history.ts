/**
 * The last `capacity` updates of one view, for subscribers resuming with `sinceVersion`.
 * Each update names the version it applies to (`previousVersion`; `version - 1` when absent,
 * as on SQLite, where versions are consecutive): over PostgreSQL a view's versions are log
 * positions, so they rise with gaps, and an update applies to any copy whose version is at
 * least its `previousVersion` and below its `version` (the view did not change in between).
 *
 * `start` is the version the view started at in this run of the server. A version below it
 * was issued by an earlier run (or another instance before this one loaded): its deltas are
 * not here, so `since` never serves it and the subscriber gets a SNAPSHOT.
 */
export class UpdateHistory<T extends { readonly version: number; readonly previousVersion?: number | null }> {
  readonly #capacity: number;
  readonly #ring: (T | undefined)[];
  /** Index in `#ring` of the oldest update held. */
  #first = 0;
  #size = 0;
  /** Version of the newest update pushed, or `start` while none was. */
  #newest: number;
  #pushed = false;
  readonly #start: number;

  constructor(capacity: number, start = 0) {
    if (!Number.isInteger(capacity) || capacity < 0)
      throw new RangeError(`history capacity must be an integer >= 0, got ${capacity}`);
    this.#capacity = capacity;
    this.#start = start;
    this.#newest = start;
    this.#ring = new Array<T | undefined>(capacity);
  }

  /** Appends the view's next update; it must apply to the previous one's version. */
  push(update: T): void {
    if (this.#pushed && previousOf(update) !== this.#newest) {
      throw new Error(`history: version ${update.version} does not follow ${this.#newest}`);
    }
    this.#pushed = true;
    this.#newest = update.version;
    if (this.#capacity === 0) return;
    if (this.#size === this.#capacity) {
      this.#ring[this.#first] = update;
      this.#first = (this.#first + 1) % this.#capacity;
    } else {
      this.#ring[(this.#first + this.#size) % this.#capacity] = update;
      this.#size++;
    }
  }

  /**
   * The updates after `version` up to `current` (the view's version now), oldest first;
   * undefined — the caller sends a SNAPSHOT — whenever they cannot be served exactly: some are
   * no longer held, or `version` is not one this run can vouch for (below `start`, above `current`).
   */
  since(version: number, current: number): T[] | undefined {
    if (!Number.isInteger(version) || version < this.#start || version > current) return undefined;
    if (this.#newest <= version) return [];
    // The first held update above `version` (versions rise along the ring).
    let low = 0;
    let high = this.#size;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.#at(middle).version <= version) low = middle + 1;
      else high = middle;
    }
    if (low === this.#size || previousOf(this.#at(low)) > version) return undefined;
    const updates: T[] = [];
    for (let index = low; index < this.#size; index++) updates.push(this.#at(index));
    return updates;
  }

  #at(index: number): T {
    return this.#ring[(this.#first + index) % this.#capacity] as T;
  }
}

function previousOf(update: { readonly version: number; readonly previousVersion?: number | null }): number {
  return update.previousVersion ?? update.version - 1;
}
