import { assert } from '../errors.js';
import { RowOrder, type SortEntry } from '../row-order.js';
import { BTree } from '../sorted-index.js';
import type { OrderKey, Row } from '../types.js';
import { type Change, consolidate, type Delta } from '../zset.js';
import type { HeldState, Operator } from './operator.js';

/** Heap per candidate entry (the entry object and its B+ tree slot), measured by bench:memory. */
const ENTRY_BYTES = 72;

type Entry = SortEntry;

/**
 * orderBy + offset/limit. Stateful: an ordered index (sorted-btree's B+ tree, a few bytes
 * per row) of every candidate row, plus the two entries bounding the window: `#first`
 * (rank = offset) and `#after` (rank = offset + limit, the first entry past the window).
 *
 * Each inserted or retracted row is compared with those bounds and the bounds move one step
 * (O(log n)), so a row leaving the window is replaced by its successor without a rescan.
 * The output delta holds only rows entering or leaving the window. Without a limit the
 * window is everything from `offset` on; the index still gives the snapshot its order.
 * Views over one table's own rows with a limit use `Window` over a shared index instead;
 * this private index serves the rest (rows of joins and groups, no limit, selective filters).
 */
export class TopK implements Operator {
  readonly #index: BTree<Entry, undefined>;
  /** View order: the orderBy keys, then the row key. */
  readonly #compare: (a: Entry, b: Entry) => number;
  readonly #order: RowOrder;
  readonly #offset: number;
  readonly #limit: number;
  #first: Entry | undefined;
  #after: Entry | undefined;

  constructor(orderBy: readonly OrderKey[], offset: number, limit: number | undefined) {
    this.#order = new RowOrder(orderBy);
    this.#offset = offset;
    this.#limit = limit ?? Number.POSITIVE_INFINITY;
    this.#compare = this.#order.compare;
    this.#index = new BTree<Entry, undefined>(undefined, this.#compare);
  }

  held(): HeldState {
    return { entries: this.#index.size, bytes: this.#index.size * ENTRY_BYTES };
  }

  push(delta: Delta): Delta {
    const out: Change[] = [];
    delta = consolidate(delta);
    if (delta.length === 2 && this.#replaceInPlace(delta[0] as Change, delta[1] as Change, out)) return out;
    if (this.#index.size === 0 && delta.length > 1 && delta.every((change) => change.weight > 0))
      return this.#fill(delta);
    for (const change of delta) {
      if (change.weight < 0) this.#retract(change, out);
      else this.#insert(change, out);
    }
    return out;
  }

  /**
   * Fills the empty index with many rows at once (a registration): one sort, then
   * insertions in order, and the window read off the sorted rows.
   */
  #fill(delta: Delta): Delta {
    const entries = delta.map(({ key, row }) => this.#entry(key, row)).sort(this.#compare);
    for (const entry of entries) this.#index.set(entry, undefined);
    const end = Math.min(entries.length, this.#offset + this.#limit);
    this.#first = this.#limit === 0 ? undefined : entries[this.#offset];
    this.#after = this.#limit === 0 ? undefined : entries[end];
    const out: Change[] = [];
    for (let i = this.#offset; i < end; i++) this.#enter(entries[i] as Entry, out);
    return out;
  }

  /** The keys in the window, in view order. */
  *windowKeys(): Generator<string> {
    if (this.#first === undefined) return;
    let taken = 0;
    for (const entry of this.#index.keys(this.#first)) {
      if (taken++ >= this.#limit) return;
      yield entry.key;
    }
  }

  /**
   * An update that keeps the row's sort values keeps its place: swap the row in the
   * entry without touching the index (the common case: a change to another field).
   */
  #replaceInPlace(retraction: Change, insertion: Change, out: Change[]): boolean {
    if (retraction.key !== insertion.key || retraction.weight >= 0 || insertion.weight <= 0) return false;
    if (!this.#order.sameSortValues(retraction.row, insertion.row)) return false;
    const entry = this.#find(retraction);
    if (this.#inWindow(entry)) out.push({ key: entry.key, row: entry.row, weight: -1 }, insertion);
    entry.row = insertion.row;
    return true;
  }

  #insert({ key, row }: Change, out: Change[]): void {
    const entry = this.#entry(key, row);
    if (!this.#index.set(entry, undefined, false)) assert(false, `top-k already holds key '${key}'`);
    if (this.#limit === 0) return;
    if (this.#first === undefined) {
      // The window was empty: there were at most `offset` rows.
      if (this.#index.size === this.#offset + 1) this.#enter((this.#first = this.#last()), out);
      return;
    }
    if (this.#compare(entry, this.#first) < 0) this.#enter((this.#first = this.#before(this.#first)), out);
    else if (this.#after === undefined || this.#compare(entry, this.#after) < 0) this.#enter(entry, out);
    else return;
    // One row entered, so the window's last row (if the window was full) is pushed out.
    if (this.#after !== undefined) this.#leave((this.#after = this.#before(this.#after)), out);
    else if (this.#index.size > this.#offset + this.#limit) this.#leave((this.#after = this.#last()), out);
  }

  #retract(change: Change, out: Change[]): void {
    // The retraction carries the row as stored, so a probe built from it compares equal to the
    // stored entry: no lookup descent before the delete descent.
    const entry = this.#entry(change.key, change.row);
    if (this.#limit !== 0 && this.#first !== undefined) {
      const order = this.#compare(entry, this.#first);
      if (order < 0 || this.#inWindow(entry)) {
        // One row leaves (the first, if the removed row precedes the window); `#after` enters.
        this.#leave(order < 0 ? this.#first : entry, out);
        if (order <= 0) this.#first = this.#next(this.#first);
        if (this.#after !== undefined) {
          this.#enter(this.#after, out);
          this.#after = this.#next(this.#after);
        }
      } else if (this.#after !== undefined && this.#after.key === entry.key) {
        this.#after = this.#next(entry);
      }
    }
    if (!this.#index.delete(entry)) assert(false, `top-k retracts unknown key '${entry.key}'`);
  }

  /** The stored entry of a row (a retraction carries the row as it was inserted). */
  #find({ key, row }: Change): Entry {
    const entry = this.#index.getPairOrNextHigher(this.#entry(key, row))?.[0];
    if (entry === undefined || entry.key !== key) assert(false, `top-k retracts unknown key '${key}'`);
    return entry;
  }

  #entry(key: string, row: Row): Entry {
    return this.#order.entry(key, row);
  }

  #inWindow(entry: Entry): boolean {
    return (
      this.#limit !== 0 &&
      this.#first !== undefined &&
      this.#compare(entry, this.#first) >= 0 &&
      (this.#after === undefined || this.#compare(entry, this.#after) < 0)
    );
  }

  #enter(entry: Entry, out: Change[]): void {
    out.push({ key: entry.key, row: entry.row, weight: 1 });
  }

  #leave(entry: Entry, out: Change[]): void {
    out.push({ key: entry.key, row: entry.row, weight: -1 });
  }

  #last(): Entry {
    return this.#index.maxKey() as Entry;
  }

  #before(entry: Entry): Entry {
    const before = this.#index.nextLowerKey(entry);
    assert(before !== undefined, 'top-k window bound has no predecessor');
    return before;
  }

  #next(entry: Entry): Entry | undefined {
    return this.#index.nextHigherKey(entry);
  }
}
