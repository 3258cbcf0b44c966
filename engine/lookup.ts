import type { RightIndex } from './operators/join.js';
import type { Record } from './types.js';
import { getPath, splitPath, valueKey } from './values.js';

/**
 * A table's records by the value at one path, kept while views need it: a view filed under
 * `authorId eq 'u7'` is registered from that author's records, not from a table scan, so
 * creating thousands of per-author views on demand costs what their rows cost; and every
 * join on `table.path` reads its right side here (`RightIndex`), instead of an index per view.
 * The circuit updates it after every view has taken a change.
 */
export class EqualityLookup implements RightIndex {
  readonly table: string;
  readonly path: string;
  readonly #steps: string[];
  readonly #byValue = new Map<string, Map<string, Record>>();
  /** Views registered through this lookup and not yet unregistered. */
  users = 0;

  constructor(table: string, path: string, records: Iterable<Record>) {
    this.table = table;
    this.path = path;
    this.#steps = splitPath(path);
    for (const record of records) this.#add(record);
  }

  bucket(value: string): ReadonlyMap<string, Record> | undefined {
    return this.#byValue.get(value);
  }

  *records(values: readonly string[]): Generator<Record> {
    for (const value of values) yield* this.#byValue.get(value)?.values() ?? [];
  }

  /** Follows a stored change. */
  update(before: Record | undefined, after: Record | undefined): void {
    if (before !== undefined) {
      const value = valueKey(getPath(before, this.#steps));
      const bucket = this.#byValue.get(value);
      bucket?.delete(before.id);
      if (bucket?.size === 0) this.#byValue.delete(value);
    }
    if (after !== undefined) this.#add(after);
  }

  #add(record: Record): void {
    const value = valueKey(getPath(record, this.#steps));
    let bucket = this.#byValue.get(value);
    if (bucket === undefined) this.#byValue.set(value, (bucket = new Map()));
    bucket.set(record.id, record);
  }
}
