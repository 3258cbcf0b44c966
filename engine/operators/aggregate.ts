import { groupRowKey } from '../row-keys.js';
import { BTree } from '../sorted-index.js';
import type { AggregateDefinition, Row, Value } from '../types.js';
import { compareValues, equalValues, getPath, setPath, splitPath } from '../values.js';
import type { Change, Delta } from '../zset.js';
import type { HeldState, Operator } from './operator.js';

/** Approximate heap per group: its key, values, accumulators and last emitted row. */
const GROUP_BYTES = 250;

/**
 * Group by + aggregates (and distinct, which is a group without aggregates). Stateful:
 * per group, its row count, one accumulator per aggregate and the row it last emitted.
 *
 * Delta rule: a change of weight w adds w to its group's count and w·value to its
 * accumulators; each touched group then emits `-previous row, +current row` (only when they
 * differ), so the output delta is O(touched groups). Min and max keep a multiset of values
 * in a B+ tree, so retracting the current extreme finds the next one in O(log n).
 * A group whose count drops to 0 disappears, except the single group of an aggregate
 * without groupBy (key `*`), which always exists, as SQL's `SELECT count(*)`.
 */
export class Aggregate implements Operator {
  readonly #groupPaths: readonly (readonly string[])[];
  readonly #aggregates: readonly [alias: string, fn: AggregateDefinition['fn']][];
  readonly #fieldPaths: readonly string[][];
  readonly #groups = new Map<string, Group>();
  readonly #global: boolean;

  constructor(groupBy: readonly string[], aggregates: { [alias: string]: AggregateDefinition }) {
    this.#groupPaths = groupBy.map(splitPath);
    this.#aggregates = Object.entries(aggregates).map(([alias, { fn }]) => [alias, fn]);
    this.#fieldPaths = Object.values(aggregates).map(({ field }) => splitPath(field ?? 'id'));
    this.#global = groupBy.length === 0;
    if (this.#global) this.#groups.set('*', this.#createGroup('*', '*', []));
  }

  held(): HeldState {
    return { entries: this.#groups.size, bytes: this.#groups.size * GROUP_BYTES };
  }

  push(delta: Delta): Delta {
    const touched = new Set<Group>();
    for (const { row, weight } of delta) {
      const values = this.#groupPaths.map((path) => getPath(row, path));
      // the row key is injective, so it also identifies the group
      const groupId = this.#global ? '*' : groupRowKey(values);
      let group = this.#groups.get(groupId);
      if (group === undefined) this.#groups.set(groupId, (group = this.#createGroup(groupId, groupId, values)));
      group.count += weight;
      for (const [i, accumulator] of group.accumulators.entries()) {
        accumulator.add(getPath(row, this.#fieldPaths[i] as string[]), weight);
      }
      touched.add(group);
    }
    if (this.#global) touched.add(this.#groups.get('*') as Group);

    const out: Change[] = [];
    for (const group of touched) {
      const current = group.count > 0 || this.#global ? this.#row(group) : undefined;
      const previous = group.emitted;
      if (previous !== undefined && current !== undefined && equalValues(previous, current)) continue;
      if (previous !== undefined) out.push({ key: group.key, row: previous, weight: -1 });
      if (current !== undefined) out.push({ key: group.key, row: current, weight: 1 });
      group.emitted = current;
      if (group.count === 0 && !this.#global) this.#groups.delete(group.id);
    }
    return out;
  }

  #createGroup(id: string, key: string, values: Value[]): Group {
    return {
      id,
      key,
      values,
      count: 0,
      emitted: undefined,
      accumulators: this.#aggregates.map(([, fn]) => createAccumulator(fn)),
    };
  }

  #row(group: Group): Row {
    const row: { [field: string]: Value } = {};
    for (const [i, path] of this.#groupPaths.entries()) setPath(row, path, group.values[i] as Value);
    row.id = group.key;
    this.#aggregates.forEach(([alias, fn], i) => {
      row[alias] = fn === 'count' ? group.count : (group.accumulators[i] as Accumulator).result();
    });
    return row;
  }
}

interface Group {
  /** Identity in the group map: typed, so 5 and '5' are different groups. */
  readonly id: string;
  /** Row key (DESIGN §3.2). */
  readonly key: string;
  readonly values: Value[];
  count: number;
  emitted: Row | undefined;
  readonly accumulators: Accumulator[];
}

interface Accumulator {
  add(value: Value, weight: number): void;
  result(): Value;
}

function createAccumulator(fn: AggregateDefinition['fn']): Accumulator {
  switch (fn) {
    case 'count':
      return { add() {}, result: () => null };
    case 'sum':
    case 'avg':
      return new NumericAccumulator(fn);
    case 'min':
    case 'max':
      return new ExtremeAccumulator(fn);
  }
}

/** Sum and average over the numeric values; other values are ignored, as SQL ignores NULL. */
class NumericAccumulator implements Accumulator {
  #sum = 0;
  #count = 0;
  readonly #fn: 'sum' | 'avg';

  constructor(fn: 'sum' | 'avg') {
    this.#fn = fn;
  }

  add(value: Value, weight: number): void {
    if (typeof value !== 'number') return;
    this.#sum += value * weight;
    this.#count += weight;
  }

  result(): Value {
    if (this.#fn === 'sum') return this.#count === 0 ? 0 : this.#sum;
    return this.#count === 0 ? null : this.#sum / this.#count;
  }
}

/** Min or max over the non-null values, as a multiset ordered by value. */
class ExtremeAccumulator implements Accumulator {
  readonly #counts = new BTree<Value, number>(undefined, compareValues);
  readonly #fn: 'min' | 'max';

  constructor(fn: 'min' | 'max') {
    this.#fn = fn;
  }

  add(value: Value, weight: number): void {
    if (value === null) return;
    const count = (this.#counts.get(value) ?? 0) + weight;
    if (count === 0) this.#counts.delete(value);
    else this.#counts.set(value, count);
  }

  result(): Value {
    return (this.#fn === 'min' ? this.#counts.minKey() : this.#counts.maxKey()) ?? null;
  }
}
