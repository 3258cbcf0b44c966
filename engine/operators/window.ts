import { assert } from '../errors.js';
import type { RowTest } from '../predicate.js';
import type { RowOrder, SortEntry } from '../row-order.js';
import { type Change, consolidate, type Delta, EMPTY_DELTA } from '../zset.js';
import type { HeldState, Operator } from './operator.js';

/** Heap per window entry: its array slot and the entry object (when not the index's own). */
const ENTRY_BYTES = 56;
/** The operator object, its array and its closure, measured by bench:memory. */
const FIXED_BYTES = 400;

/** The shared rows a window reads, in the window's order (a partition of an `OrderedIndex`). */
export interface WindowSource {
  readonly order: RowOrder;
  /** Calls `take` on the rows after `after` (from the first when undefined) in order until it returns true. */
  scan(after: SortEntry | undefined, take: (entry: SortEntry) => boolean): void;
}

/**
 * orderBy + limit over a table's own rows, holding only its window: the first
 * `offset + limit` rows passing the view's filter, in order. Stateful, and small: the other
 * rows stay in the shared index the window reads (`WindowSource`), which already holds the
 * new state when a delta arrives.
 *
 * Invariant: `#rows` holds every passing row up to its last one (the bound); `#complete`
 * says no passing row follows. A delta only touches rows at or before the bound; a window
 * left short refills by scanning the source after the old bound, skipping rows that fail
 * the filter. The output delta holds the rows entering and leaving `#rows[offset..]`.
 */
export class Window implements Operator {
  readonly #source: WindowSource;
  readonly #test: RowTest | undefined;
  readonly #offset: number;
  /** offset + limit */
  readonly #size: number;
  #rows: SortEntry[] = [];
  #complete = true;

  constructor(source: WindowSource, test: RowTest | undefined, offset: number, limit: number) {
    assert(limit > 0, 'a window needs a positive limit');
    this.#source = source;
    this.#test = test;
    this.#offset = offset;
    this.#size = offset + limit;
  }

  /** The last row of a full window, which no later row can enter before; undefined when complete. */
  get bound(): SortEntry | undefined {
    return this.#complete ? undefined : this.#rows[this.#rows.length - 1];
  }

  held(): HeldState {
    return { entries: this.#rows.length, bytes: FIXED_BYTES + this.#rows.length * ENTRY_BYTES };
  }

  /**
   * Fills the empty window from the source, scanning at most `budget` rows. Returns the
   * initial output, or undefined when the budget ran out first (a filter too selective to
   * refill by scanning: the caller keeps a private index instead).
   */
  fill(budget: number): Delta | undefined {
    let scanned = 0;
    let exhausted = true;
    this.#source.scan(undefined, (entry) => {
      if (++scanned > budget) {
        exhausted = false;
        return true;
      }
      if (this.#test === undefined || this.#test(entry.row)) this.#rows.push(entry);
      if (this.#rows.length < this.#size) return false;
      exhausted = false;
      return true;
    });
    if (!exhausted && this.#rows.length < this.#size) return undefined;
    this.#complete = exhausted;
    const out: Change[] = [];
    for (let i = this.#offset; i < this.#rows.length; i++) {
      const entry = this.#rows[i] as SortEntry;
      out.push({ key: entry.key, row: entry.row, weight: 1 });
    }
    return out;
  }

  /** The keys in the window, in view order. */
  *windowKeys(): Generator<string> {
    for (let i = this.#offset; i < this.#rows.length; i++) yield (this.#rows[i] as SortEntry).key;
  }

  push(delta: Delta): Delta {
    if (delta.length === 0) return EMPTY_DELTA;
    const shown = this.#rows.slice(this.#offset);
    const bound = this.bound;
    const { compare } = this.#source.order;
    for (const { key, row, weight } of consolidate(delta)) {
      const probe = this.#source.order.entry(key, row);
      const order = bound === undefined ? -1 : compare(probe, bound);
      if (weight < 0) {
        if (order > 0) continue;
        const at = this.#position(probe);
        if (this.#rows[at]?.key !== key) assert(false, `window retracts unknown key '${key}'`);
        this.#rows.splice(at, 1);
      } else if (order <= 0) {
        // At the bound only when the bound's own row came back unchanged in place.
        this.#rows.splice(this.#position(probe), 0, probe);
      }
    }
    if (this.#rows.length > this.#size) {
      this.#rows.length = this.#size;
      this.#complete = false;
    } else if (!this.#complete && this.#rows.length < this.#size) {
      this.#refill(bound as SortEntry);
    }
    return this.#difference(shown);
  }

  /** Takes passing rows after the old bound until the window is full or the source ends. */
  #refill(after: SortEntry): void {
    let ended = true;
    this.#source.scan(after, (entry) => {
      if (this.#test !== undefined && !this.#test(entry.row)) return false;
      this.#rows.push(entry);
      if (this.#rows.length < this.#size) return false;
      ended = false;
      return true;
    });
    this.#complete = ended;
  }

  /** Where `probe` is or would go in `#rows` (binary search). */
  #position(probe: SortEntry): number {
    const { compare } = this.#source.order;
    let low = 0;
    let high = this.#rows.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compare(this.#rows[mid] as SortEntry, probe) < 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /**
   * Rows that left the shown part, then rows that entered it. Both lists are in view order
   * and an entry is never reused for another row, so one merge walk finds them without
   * building sets (what a change allocates here is what its GC pauses cost).
   */
  #difference(shown: readonly SortEntry[]): Delta {
    const rows = this.#rows;
    const { compare } = this.#source.order;
    const left: Change[] = [];
    const entered: Change[] = [];
    let i = 0;
    let j = this.#offset;
    while (i < shown.length || j < rows.length) {
      const before = shown[i];
      const now = rows[j];
      if (before !== undefined && before === now) {
        i++;
        j++;
      } else if (now === undefined || (before !== undefined && compare(before, now) <= 0)) {
        left.push({ key: (before as SortEntry).key, row: (before as SortEntry).row, weight: -1 });
        i++;
      } else {
        entered.push({ key: now.key, row: now.row, weight: 1 });
        j++;
      }
    }
    if (entered.length === 0) return left;
    for (const change of entered) left.push(change);
    return left;
  }
}
