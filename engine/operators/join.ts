import { joinRowKey } from '../row-keys.js';
import type { Record, Row, Value } from '../types.js';
import { getPath, valueKey } from '../values.js';
import { type Change, consolidate, type Delta } from '../zset.js';
import type { HeldState, Operator } from './operator.js';

/** Heap per row held on either side (its bucket slot), about half of a joined row's cost. */
const ENTRY_BYTES = 100;

/**
 * Equi-join of the rows so far (left) with the records of a table (right), nesting the
 * matched record under `as`. Stateful: an index per side on the join value.
 *
 * Delta rule: Δ(L ⋈ R) = ΔL ⋈ R + L ⋈ ΔR + ΔL ⋈ ΔR. The circuit pushes the two inputs one
 * after the other (left first); each push reads the other side's index as it is, then
 * updates its own, which adds up to exactly the three terms.
 *
 * A left join emits `{ ...left, [as]: null }` while a left row has no match; the first
 * match retracts that row and the last match's removal brings it back. A null join value
 * matches nothing. Row keys (DESIGN §3.2): joining on the right's `id` keeps the left key;
 * any other right field may match many records, so the key encodes both (`joinRowKey`).
 */
export class Join implements Operator {
  readonly #leftPath: readonly string[];
  readonly #rightField: string;
  readonly #as: string;
  readonly #outer: boolean;
  readonly #keepsLeftKey: boolean;
  /** join value → left rows by key */
  readonly #left = new Map<string, Map<string, Row>>();
  /** join value → right records by id */
  readonly #right = new Map<string, Map<string, Record>>();

  constructor(options: { leftPath: readonly string[]; rightField: string; as: string; outer: boolean }) {
    this.#leftPath = options.leftPath;
    this.#rightField = options.rightField;
    this.#as = options.as;
    this.#outer = options.outer;
    this.#keepsLeftKey = options.rightField === 'id';
  }

  held(): HeldState {
    let entries = 0;
    for (const bucket of this.#left.values()) entries += bucket.size;
    for (const bucket of this.#right.values()) entries += bucket.size;
    return { entries, bytes: entries * ENTRY_BYTES };
  }

  /** Pushes a delta of the left input. */
  push(delta: Delta): Delta {
    const out: Change[] = [];
    for (const { key, row, weight } of consolidate(delta)) {
      const value = getPath(row, this.#leftPath);
      const joinKey = value === null ? undefined : valueKey(value);
      if (joinKey !== undefined) updateIndex(this.#left, joinKey, key, row, weight);
      const matches = joinKey === undefined ? undefined : this.#right.get(joinKey);
      if (matches !== undefined) {
        for (const [id, record] of matches) out.push({ key: this.#key(key, id), row: this.#nest(row, record), weight });
      } else if (this.#outer) {
        out.push({ key, row: this.#nest(row, null), weight });
      }
    }
    return out;
  }

  /** Pushes a delta of the right table (keys are record ids). */
  pushRight(delta: Delta): Delta {
    const out: Change[] = [];
    for (const { key: id, row, weight } of consolidate(delta)) {
      const record = row as Record;
      const value = record[this.#rightField];
      if (value === undefined || value === null) continue;
      const joinKey = valueKey(value);
      const hadMatches = this.#right.has(joinKey);
      updateIndex(this.#right, joinKey, id, record, weight);
      const lefts = this.#left.get(joinKey);
      if (lefts === undefined) continue;
      const hasMatches = this.#right.has(joinKey);
      for (const [leftKey, left] of lefts) {
        if (weight > 0 && this.#outer && !hadMatches)
          out.push({ key: leftKey, row: this.#nest(left, null), weight: -1 });
        out.push({ key: this.#key(leftKey, id), row: this.#nest(left, record), weight });
        if (weight < 0 && this.#outer && !hasMatches)
          out.push({ key: leftKey, row: this.#nest(left, null), weight: 1 });
      }
    }
    return out;
  }

  /** Fills the right index from the table at registration, before any left row arrives. */
  loadRight(records: Iterable<Record>): void {
    for (const record of records) {
      const value = record[this.#rightField];
      if (value !== undefined && value !== null) updateIndex(this.#right, valueKey(value), record.id, record, 1);
    }
  }

  #key(leftKey: string, rightId: string): string {
    return this.#keepsLeftKey ? leftKey : joinRowKey(leftKey, rightId);
  }

  #nest(left: Row, right: Record | null): Row {
    // Object.assign, not `{ ...left, [as]: right }`: V8 builds that spread several times slower.
    const row: { [field: string]: Value } = Object.assign({}, left);
    row[this.#as] = right;
    return row;
  }
}

function updateIndex<T>(
  index: Map<string, Map<string, T>>,
  joinKey: string,
  key: string,
  item: T,
  weight: number,
): void {
  let bucket = index.get(joinKey);
  if (weight > 0) {
    if (bucket === undefined) index.set(joinKey, (bucket = new Map()));
    bucket.set(key, item);
  } else if (bucket !== undefined) {
    bucket.delete(key);
    if (bucket.size === 0) index.delete(joinKey);
  }
}
