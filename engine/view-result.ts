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
 */
export class ViewResult {
  readonly #id: string;
  readonly #rows = new Map<string, Held>();
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
    return this.#rows.size;
  }

  get hash(): string {
    return this.#hash.toString();
  }

  row(key: string): Row | undefined {
    return this.#rows.get(key)?.row;
  }

  keys(): IterableIterator<string> {
    return this.#rows.keys();
  }

  /** Applies a consolidated delta (retractions first). */
  apply(delta: Delta): void {
    for (const change of delta) {
      const { key } = change;
      const held = this.#rows.get(key);
      if (!this.#before.has(key)) this.#before.set(key, held ?? ABSENT);
      if (change.weight < 0) {
        if (held === undefined) assert(false, `view '${this.#id}' retracts absent key '${key}'`);
        this.#rows.delete(key);
      } else {
        if (held !== undefined) assert(false, `view '${this.#id}' inserts key '${key}' twice`);
        this.#rows.set(key, { row: change.row, hash: (change.hash ??= hashRow(change.row)) });
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
    return { view: this.#id, version: ++this.#version, ...changes, hash: this.#hash.toString() };
  }

  /** Folds the touched keys into the hash and returns the net difference, if any. */
  #flushChanges(): Pick<ViewUpdate, 'added' | 'updated' | 'removed'> | undefined {
    if (this.#before.size === 0) return undefined;
    const added: Row[] = [];
    const updated: Row[] = [];
    const removed: string[] = [];
    for (const [key, before] of this.#before) {
      const after = this.#rows.get(key);
      if (before === ABSENT) {
        if (after === undefined) continue;
        added.push(after.row);
        this.#hash.add(after.hash);
      } else if (after === undefined) {
        removed.push(key);
        this.#hash.remove(before.hash);
      } else if (before.row !== after.row && (before.hash !== after.hash || !equalValues(before.row, after.row))) {
        updated.push(after.row);
        this.#hash.remove(before.hash);
        this.#hash.add(after.hash);
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
