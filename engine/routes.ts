import { isCombinator } from './predicate.js';
import type { Predicate, Record, Value } from './types.js';
import { getPath, splitPath, valueKey } from './values.js';
import type { View, ViewInput } from './view.js';

/** A view reading a table, and where the table's changes enter it. */
export interface Reader {
  readonly view: View;
  readonly inputs: readonly ViewInput[];
  /** The last route that visited this reader, so a change visits it once. */
  stamp: number;
}

/** Where a reader is filed: every row of its view has one of `values` at `path`. */
interface Filing {
  readonly path: string;
  readonly values: readonly string[];
}

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
    return entries;
  }

  add(reader: Reader): void {
    this.#count++;
    const filing = filingOf(reader, this.#table);
    if (filing === undefined) {
      this.#unindexed.push(reader);
      return;
    }
    if (filing.values.length === 0) return; // `in []`: no row can match, no change can concern it
    let index = this.#indexed.get(filing.path);
    if (index === undefined) this.#indexed.set(filing.path, (index = { steps: splitPath(filing.path), byValue: new Map() }));
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
    const filing = filingOf({ view, inputs: [{ kind: 'from' }], stamp: 0 }, this.#table);
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
    if (this.#indexed.size === 0) return;
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
  }
}

/**
 * The conjunct a reader is filed under, if any: only for a view's `from` input, on a path
 * that reads no joined row, and only when the view does not also join its own table (its
 * join input must see every change of the table). An `eq` on a non-boolean value is
 * preferred (most selective), then an `in`, then an `eq` on a boolean.
 */
function filingOf(reader: Reader, table: string): Filing | undefined {
  const { definition } = reader.view;
  if (reader.inputs.length !== 1 || reader.inputs[0]?.kind !== 'from' || definition.from !== table) return undefined;
  if (definition.where === undefined) return undefined;
  const aliases = new Set((definition.join ?? []).map((join) => join.as));
  let best: Filing | undefined;
  let bestRank = 0;
  for (const conjunct of conjuncts(definition.where)) {
    for (const [path, filter] of Object.entries(conjunct)) {
      if (aliases.has(splitPath(path)[0] as string)) continue;
      const { eq, in: members } = filter as { eq?: Value; in?: Value };
      const rank = eq !== undefined ? (typeof eq === 'boolean' ? 1 : 3) : Array.isArray(members) ? 2 : 0;
      if (rank <= bestRank) continue;
      bestRank = rank;
      best = { path, values: eq !== undefined ? [valueKey(eq)] : [...new Set((members as Value[]).map(valueKey))] };
    }
  }
  return best;
}

function conjuncts(p: Predicate): Predicate[] {
  if (isCombinator(p)) return 'and' in p ? p.and.flatMap(conjuncts) : [];
  return [p];
}
