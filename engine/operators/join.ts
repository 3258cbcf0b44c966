import type { RowTest } from '../predicate.js';
import { joinRowKey } from '../row-keys.js';
import type { Record, Row, Value } from '../types.js';
import { getPath, splitPath, valueKey } from '../values.js';
import { type Change, consolidate, type Delta } from '../zset.js';
import type { HeldState, Operator } from './operator.js';

/** Heap per left row held (its bucket slot). */
const ENTRY_BYTES = 100;

/** A table's records by the value of the join field (a shared `EqualityLookup`). */
export interface RightIndex {
  /** The records whose join field has this `valueKey`, as stored before the current change. */
  bucket(joinKey: string): ReadonlyMap<string, Record> | undefined;
}

/**
 * Equi-join of the rows so far (left) with the records of a table (right), nesting the
 * matched record under `as`. Stateful on the left only: an index of left rows by join value.
 * The right side is a shared index of the table by the join field (`RightIndex`), which its
 * owner updates after every view has taken the change; a join's own `where` (`rightTest`)
 * is applied when reading it.
 *
 * Delta rule: Δ(L ⋈ R) = ΔL ⋈ R + L ⋈ ΔR + ΔL ⋈ ΔR = ΔL ⋈ R + (L + ΔL) ⋈ ΔR. The circuit
 * pushes the left input first (read against R, not yet updated), then the right delta
 * (read against the left index, already updated): exactly the three terms.
 *
 * A left join emits `{ ...left, [as]: null }` while a left row has no match; the first
 * match retracts that row and the last match's removal brings it back. A null join value
 * matches nothing. Row keys (DESIGN §3.2): joining on the right's `id` keeps the left key;
 * any other right field may match many records, so the key encodes both (`joinRowKey`).
 */
export class Join implements Operator {
  readonly #leftPath: readonly string[];
  readonly #rightPath: readonly string[];
  readonly #as: string;
  readonly #outer: boolean;
  readonly #keepsLeftKey: boolean;
  readonly #right: RightIndex;
  readonly #rightTest: RowTest | undefined;
  /** join value → left rows by key (unless the left side is a shared index) */
  readonly #left = new Map<string, Map<string, Row>>();
  /** The table the left rows are, by the left path, when they are a table's records passing `leftTest`. */
  readonly #sharedLeft: RightIndex | undefined;
  readonly #leftTest: RowTest | undefined;
  readonly #build: ((key: string, left: Row, right: Record | null) => Row) | undefined;

  constructor(options: {
    leftPath: readonly string[];
    rightField: string;
    as: string;
    outer: boolean;
    right: RightIndex;
    rightTest?: RowTest;
    /**
     * When the left rows are the records of a table passing `leftTest` (the first join of a
     * view without a window, over another table): that table's shared index by the left
     * path, read instead of keeping the left rows. It must not change while this join runs.
     */
    left?: RightIndex;
    leftTest?: RowTest;
    /**
     * Builds each output row from its key, left row and right record, in place of `nest`
     * (when the operators after the join are folded into it: see `View`).
     */
    build?: (key: string, left: Row, right: Record | null) => Row;
  }) {
    this.#leftPath = options.leftPath;
    this.#rightPath = splitPath(options.rightField);
    this.#as = options.as;
    this.#outer = options.outer;
    this.#keepsLeftKey = options.rightField === 'id';
    this.#right = options.right;
    this.#rightTest = options.rightTest;
    this.#sharedLeft = options.left;
    this.#leftTest = options.leftTest;
    this.#build = options.build;
  }

  held(): HeldState {
    let entries = 0;
    for (const bucket of this.#left.values()) entries += bucket.size;
    return { entries, bytes: entries * ENTRY_BYTES };
  }

  /** Pushes a delta of the left input. */
  push(delta: Delta): Delta {
    const out: Change[] = [];
    for (const { key, row, weight } of consolidate(delta)) {
      const value = getPath(row, this.#leftPath);
      const joinKey = value === null ? undefined : valueKey(value);
      if (joinKey !== undefined && this.#sharedLeft === undefined) updateIndex(this.#left, joinKey, key, row, weight);
      let matched = false;
      const matches = joinKey === undefined ? undefined : this.#right.bucket(joinKey);
      if (matches !== undefined) {
        for (const [id, record] of matches) {
          if (this.#rightTest !== undefined && !this.#rightTest(record)) continue;
          matched = true;
          const outKey = this.#key(key, id);
          out.push({
            key: outKey,
            row: this.#row(outKey, row, record),
            weight,
            hash: undefined,
            left: row,
            right: record,
          });
        }
      }
      if (!matched && this.#outer)
        out.push({ key, row: this.#row(key, row, null), weight, hash: undefined, left: row, right: null });
    }
    return out;
  }

  /**
   * Pushes a delta of the right table (keys are record ids; rows already passed `rightTest`),
   * before the right index takes it.
   */
  pushRight(delta: Delta): Delta {
    const out: Change[] = [];
    /** join value → matches added by earlier changes of this delta */
    let moved: Map<string, number> | undefined;
    for (const { key: id, row, weight } of consolidate(delta)) {
      const value = getPath(row, this.#rightPath);
      if (value === null) continue;
      const joinKey = valueKey(value);
      const lefts = this.#lefts(joinKey);
      if (lefts === undefined) continue;
      let before = 0;
      if (this.#outer) {
        before = this.#matches(joinKey) + (moved?.get(joinKey) ?? 0);
        (moved ??= new Map()).set(joinKey, (moved.get(joinKey) ?? 0) + weight);
      }
      const after = before + weight;
      for (const [leftKey, left] of lefts) {
        if (this.#leftTest !== undefined && !this.#leftTest(left)) continue;
        if (weight > 0 && this.#outer && before === 0)
          out.push({
            key: leftKey,
            row: this.#row(leftKey, left, null),
            weight: -1,
            hash: undefined,
            left,
            right: null,
          });
        const right = row as Record;
        const key = this.#key(leftKey, id);
        out.push({ key, row: this.#row(key, left, right), weight, hash: undefined, left, right });
        if (weight < 0 && this.#outer && after === 0)
          out.push({
            key: leftKey,
            row: this.#row(leftKey, left, null),
            weight: 1,
            hash: undefined,
            left,
            right: null,
          });
      }
    }
    return out;
  }

  /** The left rows with this join value (from the shared index: not yet filtered by `leftTest`). */
  #lefts(joinKey: string): ReadonlyMap<string, Row> | undefined {
    return this.#sharedLeft === undefined ? this.#left.get(joinKey) : this.#sharedLeft.bucket(joinKey);
  }

  /** Right records matching `joinKey` in the shared index (as it was before this change). */
  #matches(joinKey: string): number {
    const bucket = this.#right.bucket(joinKey);
    if (bucket === undefined) return 0;
    if (this.#rightTest === undefined) return bucket.size;
    let count = 0;
    for (const record of bucket.values()) if (this.#rightTest(record)) count++;
    return count;
  }

  #key(leftKey: string, rightId: string): string {
    return this.#keepsLeftKey ? leftKey : joinRowKey(leftKey, rightId);
  }

  #row(key: string, left: Row, right: Record | null): Row {
    return this.#build === undefined ? this.nest(left, right) : this.#build(key, left, right);
  }

  /** The row this join builds from a left row and a right record (null: no match). */
  nest(left: Row, right: Record | null): Row {
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
