import { type Condition, conditionOf, conjuncts } from './predicate.js';
import type { Predicate, Record, Value, ViewDefinition } from './types.js';
import { getPath, splitPath, valueKey } from './values.js';
import type { View, ViewInput } from './view.js';

/** A view reading a table, and where the table's changes enter it. */
export interface Reader {
  readonly view: View;
  readonly inputs: readonly ViewInput[];
  /** The last route that visited this reader, so a change visits it once. */
  stamp: number;
}

/**
 * Where a reader is filed: every row of its view has one of `values` at `path`, or (for a
 * range) a number within `range` at `path`.
 */
type Filing =
  | { readonly path: string; readonly values: readonly string[]; readonly range?: undefined }
  | { readonly path: string; readonly range: NumberRange; readonly values?: undefined };

interface FieldIndex {
  readonly steps: string[];
  readonly byValue: Map<string, Reader[]>;
}

/**
 * The views that read one table, routed by index. A view whose `where` requires
 * `field eq value` or `field in [values]` (on the table's own fields) is filed under those
 * values, so a change visits only the views filed under the old or the new record's value,
 * plus the views with no such conjunct. With thousands of `postsByAuthor(authorId)` views,
 * a post change then costs about the same as with one.
 */
export class TableRoutes {
  readonly #table: string;
  readonly #unindexed: Reader[] = [];
  /** path → value key → readers */
  readonly #indexed = new Map<string, FieldIndex>();
  /** path → readers whose rows have a number in a range there */
  readonly #ranges = new Map<string, RangeIndex>();
  #count = 0;
  #routes = 0;

  constructor(table: string) {
    this.#table = table;
  }

  get size(): number {
    return this.#count;
  }

  /** Index entries held (one per indexed value in use), for leak checks. */
  get indexEntries(): number {
    let entries = 0;
    for (const { byValue } of this.#indexed.values()) entries += byValue.size;
    for (const ranges of this.#ranges.values()) entries += ranges.size;
    return entries;
  }

  add(reader: Reader): void {
    this.#count++;
    const filing = filingOf(reader.view.definition, reader.inputs, this.#table);
    if (filing === undefined) {
      this.#unindexed.push(reader);
      return;
    }
    if (filing.range !== undefined) {
      let ranges = this.#ranges.get(filing.path);
      if (ranges === undefined) this.#ranges.set(filing.path, (ranges = new RangeIndex(splitPath(filing.path))));
      ranges.add(filing.range, reader);
      return;
    }
    if (filing.values.length === 0) return; // `in []`: no row can match, no change can concern it
    let index = this.#indexed.get(filing.path);
    if (index === undefined)
      this.#indexed.set(filing.path, (index = { steps: splitPath(filing.path), byValue: new Map() }));
    for (const value of filing.values) {
      const readers = index.byValue.get(value);
      if (readers === undefined) index.byValue.set(value, [reader]);
      else readers.push(reader);
    }
  }

  /** Forgets a view that was added. */
  remove(view: View): void {
    this.#count--;
    const reader = this.#unindexed.find((candidate) => candidate.view === view);
    if (reader !== undefined) {
      this.#unindexed.splice(this.#unindexed.indexOf(reader), 1);
      return;
    }
    // A view is filed where its definition says: look there, not everywhere.
    const filing = filingOf(view.definition, [{ kind: 'from' }], this.#table);
    if (filing?.range !== undefined) {
      const ranges = this.#ranges.get(filing.path);
      ranges?.remove(view);
      if (ranges?.size === 0) this.#ranges.delete(filing.path);
      return;
    }
    const index = filing === undefined ? undefined : this.#indexed.get(filing.path);
    if (filing === undefined || index === undefined) return;
    for (const value of filing.values) {
      const readers = index.byValue.get(value);
      const at = readers?.findIndex((candidate) => candidate.view === view) ?? -1;
      if (readers === undefined || at < 0) continue;
      readers.splice(at, 1);
      if (readers.length === 0) index.byValue.delete(value);
    }
    if (index.byValue.size === 0) this.#indexed.delete(filing.path);
  }

  /** Calls `visit` once for every reader a change from `before` to `after` can affect. */
  route(before: Record | undefined, after: Record | undefined, visit: (reader: Reader) => void): void {
    for (const reader of this.#unindexed) visit(reader);
    if (this.#indexed.size === 0 && this.#ranges.size === 0) return;
    const stamp = ++this.#routes;
    const once = (reader: Reader): void => {
      if (reader.stamp === stamp) return;
      reader.stamp = stamp;
      visit(reader);
    };
    for (const { steps, byValue } of this.#indexed.values()) {
      const old = before === undefined ? undefined : valueKey(getPath(before, steps));
      const now = after === undefined ? undefined : valueKey(getPath(after, steps));
      if (old !== undefined) byValue.get(old)?.forEach(once);
      if (now !== undefined && now !== old) byValue.get(now)?.forEach(once);
    }
    for (const ranges of this.#ranges.values()) {
      if (before !== undefined) ranges.visit(before, once);
      if (after !== undefined) ranges.visit(after, once);
    }
  }
}

/**
 * The conjunct a reader is filed under, if any: only for a view's `from` input, on a path
 * that reads no joined row, and only when the view does not also join its own table (its
 * join input must see every change of the table). An `eq` on a non-boolean value is
 * preferred (most selective), then an `in`, then a numeric range, then an `eq` on a boolean.
 */
function filingOf(definition: ViewDefinition, inputs: readonly ViewInput[], table: string): Filing | undefined {
  if (inputs.length !== 1 || inputs[0]?.kind !== 'from' || definition.from !== table) return undefined;
  if (definition.where === undefined) return undefined;
  const aliases = new Set((definition.join ?? []).map((join) => join.as));
  const conditions = baseConditions(definition.where).filter(({ path }) => !aliases.has(splitPath(path)[0] as string));
  let best: Filing | undefined;
  let bestRank = 0;
  for (const { path, op, operand } of conditions) {
    const rank = op === 'eq' ? (typeof operand === 'boolean' ? 1 : 4) : op === 'in' && Array.isArray(operand) ? 3 : 0;
    if (rank <= bestRank) continue;
    bestRank = rank;
    const values = op === 'eq' ? [valueKey(operand as Value)] : [...new Set((operand as Value[]).map(valueKey))];
    best = { path, values };
  }
  if (bestRank >= 2) return best;
  const [first] = numberRanges(conditions);
  return first === undefined ? best : { path: first[0], range: first[1] };
}

/** The field conditions among the top-level conjuncts of `where`. */
function baseConditions(where: Predicate): Condition[] {
  return conjuncts(where).flatMap((conjunct) => conditionOf(conjunct) ?? []);
}

/**
 * The values a view's rows must have at one path, when they are few and selective (an `eq`
 * on a non-boolean, or an `in`): registration then reads just those records through an
 * equality lookup instead of scanning the table.
 */
export function seekOf(definition: ViewDefinition): { path: string; values: readonly string[] } | undefined {
  if ((definition.join ?? []).some((join) => join.table === definition.from)) return undefined;
  const filing = filingOf(definition, [{ kind: 'from' }], definition.from);
  if (filing?.values === undefined) return undefined;
  const isBooleanEq = baseConditions(definition.where as Predicate).some(
    ({ path, op, operand }) => path === filing.path && op === 'eq' && typeof operand === 'boolean',
  );
  return isBooleanEq ? undefined : { path: filing.path, values: filing.values };
}

/** A closed interval of numbers. */
interface NumberRange {
  readonly low: number;
  readonly high: number;
}

/**
 * The numbers each path's order conditions admit, in the order the paths first appear, as a
 * closed interval (open bounds are ignored: a wider range only costs visits). A path with
 * an order condition on a non-number has no range: a non-number row value could satisfy it.
 */
function numberRanges(conditions: readonly Condition[]): Map<string, NumberRange> {
  const ranges = new Map<string, NumberRange | null>();
  for (const { path, op, operand } of conditions) {
    if (op !== 'gt' && op !== 'gte' && op !== 'lt' && op !== 'lte') continue;
    const range = ranges.get(path);
    if (range === null || typeof operand !== 'number') {
      ranges.set(path, null);
      continue;
    }
    const { low, high } = range ?? { low: Number.NEGATIVE_INFINITY, high: Number.POSITIVE_INFINITY };
    ranges.set(
      path,
      op === 'gt' || op === 'gte' ? { low: Math.max(low, operand), high } : { low, high: Math.min(high, operand) },
    );
  }
  return new Map([...ranges].filter((entry): entry is [string, NumberRange] => entry[1] !== null));
}

/**
 * Readers filed by a numeric range on one field: a change visits those whose range holds
 * the old or the new value (a non-number satisfies no order operator). Ranges are kept
 * sorted by lower bound with a running maximum of upper bounds, rebuilt lazily after
 * registrations, so a lookup is a binary search plus the ranges that can hold the value.
 */
class RangeIndex {
  readonly #steps: string[];
  #entries: { range: NumberRange; reader: Reader }[] = [];
  /** `#reach[i]`: the highest upper bound among entries 0..i */
  #reach: number[] = [];
  #sorted = true;

  constructor(steps: string[]) {
    this.#steps = steps;
  }

  get size(): number {
    return this.#entries.length;
  }

  add(range: NumberRange, reader: Reader): void {
    this.#entries.push({ range, reader });
    this.#sorted = false;
  }

  remove(view: View): void {
    this.#entries = this.#entries.filter((entry) => entry.reader.view !== view);
    this.#sorted = false;
  }

  visit(record: Record, visit: (reader: Reader) => void): void {
    const value = getPath(record, this.#steps);
    if (typeof value !== 'number') return;
    if (!this.#sorted) this.#sort();
    // The last entry whose lower bound is <= value; walk down while some range can reach it.
    let lo = 0;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#entries[mid] as { range: NumberRange }).range.low <= value) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo - 1; i >= 0 && (this.#reach[i] as number) >= value; i--) {
      const entry = this.#entries[i] as { range: NumberRange; reader: Reader };
      if (entry.range.high >= value) visit(entry.reader);
    }
  }

  #sort(): void {
    this.#entries.sort((a, b) => a.range.low - b.range.low);
    let reach = Number.NEGATIVE_INFINITY;
    this.#reach = this.#entries.map((entry) => (reach = Math.max(reach, entry.range.high)));
    this.#sorted = true;
  }
}
