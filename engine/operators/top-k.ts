import { OrderedSet } from 'js-sdsl';
import type { OrderKey, Row, Value } from '../types.js';
import { compareStrings, compareValues, getPath, splitPath } from '../values.js';
import { consolidate, type Change, type Delta } from '../zset.js';
import { assert } from '../errors.js';
import type { Operator } from './operator.js';

interface Entry {
  readonly key: string;
  readonly sort: readonly Value[];
  /** Replaced in place by an update that keeps the sort values. */
  row: Row;
}

/**
 * orderBy + offset/limit. Stateful: an ordered index (js-sdsl's red-black tree) of every
 * candidate row, plus the two rows that bound the window: `#first` (rank = offset) and
 * `#after` (rank = offset + limit, the first row past the window).
 *
 * Each inserted or retracted row is compared with those bounds, and the bounds move one step
 * (O(log n)), so a row leaving the window is replaced by its successor without a rescan.
 * The output delta holds only rows entering or leaving the window. Without a limit the
 * window is everything from `offset` on; the index still gives the snapshot its order.
 */
export class TopK implements Operator {
  readonly #set: OrderedSet<Entry>;
  /** View order: the orderBy keys, then the row key. */
  readonly #compare: (a: Entry, b: Entry) => number;
  readonly #byKey = new Map<string, Entry>();
  readonly #sortPaths: readonly (readonly string[])[];
  readonly #offset: number;
  readonly #limit: number;
  #first: Entry | undefined;
  #after: Entry | undefined;

  constructor(orderBy: readonly OrderKey[], offset: number, limit: number | undefined) {
    this.#sortPaths = orderBy.map((key) => splitPath(key.field));
    const signs = orderBy.map((key) => (key.direction === 'desc' ? -1 : 1));
    this.#offset = offset;
    this.#limit = limit ?? Number.POSITIVE_INFINITY;
    this.#compare = (a, b) => {
      for (let i = 0; i < signs.length; i++) {
        const order = compareValues(a.sort[i] as Value, b.sort[i] as Value);
        if (order !== 0) return order * (signs[i] as number);
      }
      return compareStrings(a.key, b.key);
    };
    this.#set = new OrderedSet<Entry>([], this.#compare);
  }

  push(delta: Delta): Delta {
    const out: Change[] = [];
    delta = consolidate(delta);
    if (delta.length === 2 && this.#replaceInPlace(delta[0] as Change, delta[1] as Change, out)) return out;
    for (const change of delta) {
      if (change.weight < 0) this.#retract(change.key, out);
      else this.#insert(change, out);
    }
    return out;
  }

  /** The keys in the window, in view order. */
  *windowKeys(): Generator<string> {
    if (this.#first === undefined) return;
    let taken = 0;
    for (const it = this.#set.find(this.#first); !it.equals(this.#set.end()) && taken < this.#limit; it.next(), taken++) {
      yield it.pointer.key;
    }
  }

  /**
   * An update that keeps the row's sort values keeps its place: swap the row in the
   * entry without touching the tree (the common case: a change to another field).
   */
  #replaceInPlace(retraction: Change, insertion: Change, out: Change[]): boolean {
    if (retraction.key !== insertion.key || retraction.weight >= 0 || insertion.weight <= 0) return false;
    const entry = this.#byKey.get(retraction.key);
    assert(entry !== undefined, `top-k retracts unknown key '${retraction.key}'`);
    for (let i = 0; i < this.#sortPaths.length; i++) {
      if (compareValues(entry.sort[i] as Value, getPath(insertion.row, this.#sortPaths[i] as string[])) !== 0) return false;
    }
    const inWindow =
      this.#first !== undefined &&
      this.#limit !== 0 &&
      this.#compare(entry, this.#first) >= 0 &&
      (this.#after === undefined || this.#compare(entry, this.#after) < 0);
    if (inWindow) out.push({ key: entry.key, row: entry.row, weight: -1 }, insertion);
    entry.row = insertion.row;
    return true;
  }

  #insert({ key, row }: Change, out: Change[]): void {
    const entry: Entry = { key, row, sort: this.#sortPaths.map((path) => getPath(row, path)) };
    assert(!this.#byKey.has(key), `top-k already holds key '${key}'`);
    this.#byKey.set(key, entry);
    this.#set.insert(entry);
    if (this.#limit === 0) return;
    if (this.#first === undefined) {
      // The window was empty: the table had at most `offset` rows.
      if (this.#set.size() === this.#offset + 1) this.#enter((this.#first = this.#last()), out);
      return;
    }
    if (this.#compare(entry, this.#first) < 0) this.#enter((this.#first = this.#before(this.#first)), out);
    else if (this.#after === undefined || this.#compare(entry, this.#after) < 0) this.#enter(entry, out);
    else return;
    // One row entered, so the window's last row (if the window was full) is pushed out.
    if (this.#after !== undefined) this.#leave((this.#after = this.#before(this.#after)), out);
    else if (this.#set.size() > this.#offset + this.#limit) this.#leave((this.#after = this.#last()), out);
  }

  #retract(key: string, out: Change[]): void {
    const entry = this.#byKey.get(key);
    assert(entry !== undefined, `top-k retracts unknown key '${key}'`);
    if (this.#limit !== 0 && this.#first !== undefined) {
      const order = this.#compare(entry, this.#first);
      const inWindow = order >= 0 && (this.#after === undefined || this.#compare(entry, this.#after) < 0);
      if (order < 0 || inWindow) {
        // One row leaves (the first, if the removed row precedes the window); `#after` enters.
        this.#leave(order < 0 ? this.#first : entry, out);
        if (order <= 0) this.#first = this.#next(this.#first);
        if (this.#after !== undefined) {
          this.#enter(this.#after, out);
          this.#after = this.#next(this.#after);
        }
      } else if (this.#after === entry) {
        this.#after = this.#next(entry);
      }
    }
    this.#set.eraseElementByKey(entry);
    this.#byKey.delete(key);
  }


  #enter(entry: Entry, out: Change[]): void {
    out.push({ key: entry.key, row: entry.row, weight: 1 });
  }

  #leave(entry: Entry, out: Change[]): void {
    out.push({ key: entry.key, row: entry.row, weight: -1 });
  }

  #last(): Entry {
    return this.#set.back() as Entry;
  }

  #before(entry: Entry): Entry {
    const it = this.#set.find(entry);
    assert(!it.equals(this.#set.begin()), 'top-k window bound has no predecessor');
    return it.pre().pointer;
  }

  #next(entry: Entry): Entry | undefined {
    const it = this.#set.find(entry).next();
    return it.equals(this.#set.end()) ? undefined : it.pointer;
  }
}
