import { assert } from './errors.js';
import { hashRow, ResultHash } from './hash.js';
import type { Row, ViewUpdate } from './types.js';
import { equalValues } from './values.js';
import type { Delta } from './zset.js';

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
 */
export class ViewResult {
  readonly #id: string;
  readonly #slots = new Map<string, number>();
  #rows: (Row | undefined)[] = [];
  #hashes = new Float64Array(16);
  /** The ingest that last listed each slot's key in `#touched` */
  #stamps = new Uint32Array(16);
  readonly #free: number[] = [];
  readonly #hash = new ResultHash();
  #version = 0;
  /** Ingests since creation; stamps equal to it mean "touched now". */
  #ingest = 1;
  /** The keys touched by this ingest, with their row and hash before it (row undefined: absent). */
  readonly #touched: string[] = [];
  readonly #touchedRows: (Row | undefined)[] = [];
  readonly #touchedHashes: number[] = [];
  /** Keys of this ingest whose slot was freed (already listed in `#touched`). */
  readonly #freed = new Set<string>();

  constructor(id: string, version: number) {
    this.#id = id;
    this.#version = version;
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
    return slot === undefined ? undefined : this.#rows[slot];
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
        (vacated ??= []).push(key);
      } else if (slot !== undefined) {
        if (this.#rows[slot] !== undefined) assert(false, `view '${this.#id}' inserts key '${key}' twice`);
        this.#rows[slot] = change.row; // refills a slot this delta vacated (listed then)
        this.#hashes[slot] = change.hash ??= hashRow(change.row);
      } else {
        const fresh = this.#store(change.row, (change.hash ??= hashRow(change.row)));
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
    this.#flushChanges();
  }

  /** Ends an ingest: the update since the last flush, or undefined when nothing changed. */
  flush(): ViewUpdate | undefined {
    const changes = this.#flushChanges();
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
    this.#touchedHashes.push(this.#hashes[slot] as number);
  }

  #listAbsent(key: string): void {
    this.#touched.push(key);
    this.#touchedRows.push(undefined);
    this.#touchedHashes.push(0);
  }

  #store(row: Row, hash: number): number {
    let slot = this.#free.pop();
    if (slot === undefined) {
      slot = this.#rows.length;
      this.#rows.push(undefined);
      if (slot >= this.#hashes.length) {
        const hashes = new Float64Array(this.#hashes.length * 2);
        hashes.set(this.#hashes);
        this.#hashes = hashes;
        const stamps = new Uint32Array(this.#stamps.length * 2);
        stamps.set(this.#stamps);
        this.#stamps = stamps;
      }
    }
    this.#rows[slot] = row;
    this.#hashes[slot] = hash;
    return slot;
  }

  /** Folds the touched keys into the hash and returns the net difference, if any. */
  #flushChanges(): Pick<ViewUpdate, 'added' | 'updated' | 'removed'> | undefined {
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
        added.push(this.#rows[slot] as Row);
        this.#hash.add(this.#hashes[slot] as number);
        continue;
      }
      if (slot === undefined) {
        removed.push(key);
        this.#hash.remove(beforeHash);
        continue;
      }
      const row = this.#rows[slot] as Row;
      const hash = this.#hashes[slot] as number;
      if (before !== row && (beforeHash !== hash || !equalValues(before, row))) {
        updated.push(row);
        this.#hash.remove(beforeHash);
        this.#hash.add(hash);
      }
    }
    touched.length = 0;
    this.#touchedRows.length = 0;
    this.#touchedHashes.length = 0;
    this.#freed.clear();
    this.#ingest = this.#ingest === 0xffffffff ? 1 : this.#ingest + 1;
    if (added.length === 0 && updated.length === 0 && removed.length === 0) return undefined;
    return {
      added: added.length === 0 ? NONE : added,
      updated: updated.length === 0 ? NONE : updated,
      removed: removed.length === 0 ? NONE : removed,
    };
  }
}
