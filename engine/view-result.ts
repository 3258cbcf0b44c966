import { assert } from './errors.js';
import { hashRow, ResultHash } from './hash.js';
import type { Record, Row, ViewUpdate } from './types.js';
import { equalValues } from './values.js';
import type { Change, Delta } from './zset.js';

/** Shared by every update for its empty lists: most updates change one row. */
const NONE: readonly never[] = Object.freeze([]);

/**
 * The integral of a view's output deltas: its current rows by key, the running hash and
 * the version. During an ingest it remembers each touched key's previous row, so that
 * `flush` can report the net difference once, however many deltas reached it.
 *
 * Rows live in slots: a key maps to a slot, and the slot's row and hash sit in parallel
 * arrays (hashes unboxed in a Float64Array, exact below 2^53): about half the memory of an
 * object per row. The keys touched by the current ingest are listed in parallel arrays too,
 * with a per-slot stamp saying "already listed", so an ingest that changes a hundred rows
 * allocates almost nothing per row.
 *
 * With `compose`, a result of joined rows keeps no row objects: each slot holds the left row
 * and the right record a join built its row from (`Change.left`/`right`, both shared with
 * the tables), and `compose` builds the row again when an update or a snapshot needs it.
 * A joined row is a copy of its left row plus a field, about 100 B: this halves what a join
 * view holds per row. The hash is taken once, from the row the change carried.
 */
export type ComposeRow = (key: string, left: Row, right: Record | null) => Row;

export class ViewResult {
  readonly #id: string;
  readonly #slots = new Map<string, number>();
  /** Each slot's row, or with `compose` its left row */
  #rows: (Row | undefined)[] = [];
  /** With `compose`: each slot's right record */
  readonly #rights: (Record | null | undefined)[] | undefined;
  readonly #compose: ComposeRow | undefined;
  /** With `compose`, after settling: the rows inserted by this ingest, as their changes carried them (for `flush`) */
  #built: Map<string, Row> | undefined;
  #settled = false;
  #hashes = new Float64Array(16);
  /** The ingest that last listed each slot's key in `#touched` */
  #stamps = new Uint32Array(16);
  readonly #free: number[] = [];
  readonly #hash = new ResultHash();
  #version = 0;
  /** Ingests since creation; stamps equal to it mean "touched now". */
  #ingest = 1;
  /**
   * The keys touched by this ingest, with their row and hash before it (row undefined: absent);
   * with `compose`, their right record too.
   */
  readonly #touched: string[] = [];
  readonly #touchedRows: (Row | undefined)[] = [];
  readonly #touchedRights: (Record | null | undefined)[] = [];
  readonly #touchedHashes: number[] = [];
  /** Keys of this ingest whose slot was freed (already listed in `#touched`). */
  readonly #freed = new Set<string>();

  constructor(id: string, version: number, compose?: ComposeRow) {
    this.#id = id;
    this.#version = version;
    this.#compose = compose;
    if (compose !== undefined) this.#rights = [];
  }

  get version(): number {
    return this.#version;
  }

  get size(): number {
    return this.#slots.size;
  }

  get hash(): string {
    return this.#hash.toString();
  }

  row(key: string): Row | undefined {
    const slot = this.#slots.get(key);
    return slot === undefined ? undefined : this.#rowAt(key, slot);
  }

  keys(): IterableIterator<string> {
    return this.#slots.keys();
  }

  /**
   * Applies a consolidated delta (retractions first). A retracted key keeps its slot until
   * the end of the delta, so an update (`-old +new` under one key) rewrites the slot in place
   * instead of deleting and re-adding a key of a large map (which makes V8 rehash it).
   */
  apply(delta: Delta): void {
    let vacated: string[] | undefined;
    for (const change of delta) {
      const { key } = change;
      const slot = this.#slots.get(key);
      if (change.weight < 0) {
        if (slot === undefined || this.#rows[slot] === undefined)
          assert(false, `view '${this.#id}' retracts absent key '${key}'`);
        this.#listBefore(key, slot);
        this.#rows[slot] = undefined;
        if (this.#rights !== undefined) this.#rights[slot] = undefined;
        (vacated ??= []).push(key);
      } else if (slot !== undefined) {
        if (this.#rows[slot] !== undefined) assert(false, `view '${this.#id}' inserts key '${key}' twice`);
        this.#put(slot, change); // refills a slot this delta vacated (listed then)
        this.#hashes[slot] = change.hash ??= hashRow(change.row);
      } else {
        const fresh = this.#store(change, (change.hash ??= hashRow(change.row)));
        this.#slots.set(key, fresh);
        if (!this.#freed.has(key)) this.#listAbsent(key);
        this.#stamps[fresh] = this.#ingest;
      }
    }
    if (vacated === undefined) return;
    for (const key of vacated) {
      const slot = this.#slots.get(key) as number;
      if (this.#rows[slot] !== undefined) continue; // refilled by an insertion
      this.#slots.delete(key);
      this.#stamps[slot] = 0;
      this.#free.push(slot);
      this.#freed.add(key);
    }
  }

  /** Ends the registration: the initial result is version 0, however many rows it has. */
  settle(): void {
    this.#flushChanges(false);
    this.#settled = true;
  }

  /** Ends an ingest: the update since the last flush, or undefined when nothing changed. */
  flush(): ViewUpdate | undefined {
    const changes = this.#flushChanges(true);
    if (changes === undefined) return undefined;
    const { added, updated, removed } = changes;
    return { view: this.#id, version: ++this.#version, added, updated, removed, hash: this.#hash.toString() };
  }

  /** Lists a present key's row before this ingest, unless already listed. */
  #listBefore(key: string, slot: number): void {
    if (this.#stamps[slot] === this.#ingest) return;
    this.#stamps[slot] = this.#ingest;
    this.#touched.push(key);
    this.#touchedRows.push(this.#rows[slot]);
    if (this.#rights !== undefined) this.#touchedRights.push(this.#rights[slot]);
    this.#touchedHashes.push(this.#hashes[slot] as number);
  }

  #listAbsent(key: string): void {
    this.#touched.push(key);
    this.#touchedRows.push(undefined);
    if (this.#rights !== undefined) this.#touchedRights.push(undefined);
    this.#touchedHashes.push(0);
  }

  /** Puts a change's row (with `compose`, its parts) in a slot. */
  #put(slot: number, change: Change): void {
    const rights = this.#rights;
    if (rights === undefined) {
      this.#rows[slot] = change.row;
      return;
    }
    if (change.left === undefined || change.right === undefined)
      assert(false, `view '${this.#id}' got a row no join built for key '${change.key}'`);
    this.#rows[slot] = change.left;
    rights[slot] = change.right;
    if (this.#settled) (this.#built ??= new Map()).set(change.key, change.row);
  }

  /** The row in a slot (built again with `compose`). */
  #rowAt(key: string, slot: number): Row {
    const row = this.#rows[slot] as Row;
    const compose = this.#compose;
    return compose === undefined ? row : compose(key, row, (this.#rights as (Record | null)[])[slot] as Record | null);
  }

  #store(change: Change, hash: number): number {
    let slot = this.#free.pop();
    if (slot === undefined) {
      slot = this.#rows.length;
      this.#rows.push(undefined);
      this.#rights?.push(undefined);
      if (slot >= this.#hashes.length) {
        const hashes = new Float64Array(this.#hashes.length * 2);
        hashes.set(this.#hashes);
        this.#hashes = hashes;
        const stamps = new Uint32Array(this.#stamps.length * 2);
        stamps.set(this.#stamps);
        this.#stamps = stamps;
      }
    }
    this.#put(slot, change);
    this.#hashes[slot] = hash;
    return slot;
  }

  /** Folds the touched keys into the hash and returns the net difference, if any. */
  #flushChanges(report: boolean): Pick<ViewUpdate, 'added' | 'updated' | 'removed'> | undefined {
    const touched = this.#touched;
    if (touched.length === 0) return undefined;
    const added: Row[] = [];
    const updated: Row[] = [];
    const removed: string[] = [];
    for (let i = 0; i < touched.length; i++) {
      const key = touched[i] as string;
      const before = this.#touchedRows[i];
      const beforeHash = this.#touchedHashes[i] as number;
      const slot = this.#slots.get(key);
      if (before === undefined) {
        if (slot === undefined) continue;
        if (report) added.push(this.#built?.get(key) ?? this.#rowAt(key, slot));
        this.#hash.add(this.#hashes[slot] as number);
        continue;
      }
      if (slot === undefined) {
        removed.push(key);
        this.#hash.remove(beforeHash);
        continue;
      }
      const hash = this.#hashes[slot] as number;
      if (this.#changed(key, slot, i, before, beforeHash)) {
        if (report) updated.push(this.#built?.get(key) ?? this.#rowAt(key, slot));
        this.#hash.remove(beforeHash);
        this.#hash.add(hash);
      }
    }
    touched.length = 0;
    this.#touchedRows.length = 0;
    this.#touchedRights.length = 0;
    this.#touchedHashes.length = 0;
    this.#freed.clear();
    this.#built?.clear();
    this.#ingest = this.#ingest === 0xffffffff ? 1 : this.#ingest + 1;
    if (added.length === 0 && updated.length === 0 && removed.length === 0) return undefined;
    return {
      added: added.length === 0 ? NONE : added,
      updated: updated.length === 0 ? NONE : updated,
      removed: removed.length === 0 ? NONE : removed,
    };
  }

  /** Whether a present key's row differs from the one listed before this ingest (`touched[i]`). */
  #changed(key: string, slot: number, i: number, before: Row, beforeHash: number): boolean {
    const row = this.#rows[slot] as Row;
    const compose = this.#compose;
    if (compose === undefined)
      return before !== row && (beforeHash !== this.#hashes[slot] || !equalValues(before, row));
    const right = (this.#rights as (Record | null)[])[slot] as Record | null;
    const beforeRight = this.#touchedRights[i] as Record | null;
    if (before === row && beforeRight === right) return false;
    return (
      beforeHash !== this.#hashes[slot] || !equalValues(compose(key, before, beforeRight), compose(key, row, right))
    );
  }
}
