import { assert } from './errors.js';
import { hashRow, ResultHash } from './hash.js';
import type { Row, ViewUpdate } from './types.js';
import { equalValues } from './values.js';
import type { Delta } from './zset.js';

interface Held {
  readonly row: Row;
  readonly hash: number;
}

/** Shared by every update for its empty lists: most updates change one row. */
const NONE: readonly never[] = Object.freeze([]);

/** A row's state before the first change of the current ingest touched it. */
const ABSENT = null;

/**
 * The integral of a view's output deltas: its current rows by key, the running hash and
 * the version. During an ingest it remembers each touched key's previous row, so that
 * `flush` can report the net difference once, however many deltas reached it.
 *
 * Rows live in slots: a key maps to a slot, and the slot's row and hash sit in two parallel
 * arrays (hashes unboxed in a Float64Array, exact below 2^53). That is about half the memory
 * of an object per row, which matters since a view holds every row of its result.
 */
export class ViewResult {
  readonly #id: string;
  readonly #slots = new Map<string, number>();
  #rows: (Row | undefined)[] = [];
  #hashes = new Float64Array(16);
  readonly #free: number[] = [];
  readonly #hash = new ResultHash();
  readonly #before = new Map<string, Held | typeof ABSENT>();
  #version = 0;

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

  /** Applies a consolidated delta (retractions first). */
  apply(delta: Delta): void {
    for (const change of delta) {
      const { key } = change;
      const slot = this.#slots.get(key);
      if (!this.#before.has(key)) this.#before.set(key, slot === undefined ? ABSENT : this.#held(slot));
      if (change.weight < 0) {
        if (slot === undefined) assert(false, `view '${this.#id}' retracts absent key '${key}'`);
        this.#slots.delete(key);
        this.#rows[slot] = undefined;
        this.#free.push(slot);
      } else {
        if (slot !== undefined) assert(false, `view '${this.#id}' inserts key '${key}' twice`);
        this.#slots.set(key, this.#store(change.row, (change.hash ??= hashRow(change.row))));
      }
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

  #held(slot: number): Held {
    return { row: this.#rows[slot] as Row, hash: this.#hashes[slot] as number };
  }

  #store(row: Row, hash: number): number {
    let slot = this.#free.pop();
    if (slot === undefined) {
      slot = this.#rows.length;
      this.#rows.push(undefined);
      if (slot >= this.#hashes.length) {
        const grown = new Float64Array(this.#hashes.length * 2);
        grown.set(this.#hashes);
        this.#hashes = grown;
      }
    }
    this.#rows[slot] = row;
    this.#hashes[slot] = hash;
    return slot;
  }

  /** Folds the touched keys into the hash and returns the net difference, if any. */
  #flushChanges(): Pick<ViewUpdate, 'added' | 'updated' | 'removed'> | undefined {
    if (this.#before.size === 0) return undefined;
    const added: Row[] = [];
    const updated: Row[] = [];
    const removed: string[] = [];
    for (const [key, before] of this.#before) {
      const slot = this.#slots.get(key);
      if (before === ABSENT) {
        if (slot === undefined) continue;
        added.push(this.#rows[slot] as Row);
        this.#hash.add(this.#hashes[slot] as number);
        continue;
      }
      if (slot === undefined) {
        removed.push(key);
        this.#hash.remove(before.hash);
        continue;
      }
      const row = this.#rows[slot] as Row;
      const hash = this.#hashes[slot] as number;
      if (before.row !== row && (before.hash !== hash || !equalValues(before.row, row))) {
        updated.push(row);
        this.#hash.remove(before.hash);
        this.#hash.add(hash);
      }
    }
    this.#before.clear();
    if (added.length === 0 && updated.length === 0 && removed.length === 0) return undefined;
    return {
      added: added.length === 0 ? NONE : added,
      updated: updated.length === 0 ? NONE : updated,
      removed: removed.length === 0 ? NONE : removed,
    };
  }
}
