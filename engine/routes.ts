import { isCombinator } from './predicate.js';
import type { Predicate, Record, Value } from './types.js';
import { getPath, splitPath, valueKey } from './values.js';
import type { View, ViewInput } from './view.js';

/** A view reading a table, and where the table's changes enter it. */
export interface Reader {
  readonly view: View;
  readonly inputs: readonly ViewInput[];
}

/** An equality conjunct `path eq value` that every row of a view must satisfy. */
interface IndexKey {
  readonly path: string;
  readonly value: string;
}

/**
 * The views that read one table, routed by index: a view whose `where` requires
 * `field eq value` (on the table's own fields) is filed under that value, so a change visits
 * only the views whose value equals the old or the new record's field, plus the views
 * without such a conjunct. With thousands of `postsByAuthor(authorId)` views, a post change
 * then costs the same as with one.
 */
export class TableRoutes {
  readonly #unindexed: Reader[] = [];
  /** path → value key → readers */
  readonly #indexed = new Map<string, { steps: string[]; byValue: Map<string, Reader[]> }>();
  #count = 0;

  get size(): number {
    return this.#count;
  }

  /** Index entries held (one per indexed value in use), for leak checks. */
  get indexEntries(): number {
    let entries = 0;
    for (const { byValue } of this.#indexed.values()) entries += byValue.size;
    return entries;
  }

  add(reader: Reader, table: string): void {
    this.#count++;
    const key = indexKeyOf(reader, table);
    if (key === undefined) {
      this.#unindexed.push(reader);
      return;
    }
    let index = this.#indexed.get(key.path);
    if (index === undefined) this.#indexed.set(key.path, (index = { steps: splitPath(key.path), byValue: new Map() }));
    const readers = index.byValue.get(key.value);
    if (readers === undefined) index.byValue.set(key.value, [reader]);
    else readers.push(reader);
  }

  remove(view: View): void {
    const at = this.#unindexed.findIndex((reader) => reader.view === view);
    if (at >= 0) {
      this.#unindexed.splice(at, 1);
      this.#count--;
      return;
    }
    for (const [path, { byValue }] of this.#indexed) {
      for (const [value, readers] of byValue) {
        const i = readers.findIndex((reader) => reader.view === view);
        if (i < 0) continue;
        readers.splice(i, 1);
        this.#count--;
        if (readers.length === 0) byValue.delete(value);
        if (byValue.size === 0) this.#indexed.delete(path);
        return;
      }
    }
  }

  /** Calls `visit` once for every reader a change from `before` to `after` can affect. */
  route(before: Record | undefined, after: Record | undefined, visit: (reader: Reader) => void): void {
    for (const reader of this.#unindexed) visit(reader);
    for (const { steps, byValue } of this.#indexed.values()) {
      const old = before === undefined ? undefined : valueKey(getPath(before, steps));
      const now = after === undefined ? undefined : valueKey(getPath(after, steps));
      if (old !== undefined) byValue.get(old)?.forEach(visit);
      if (now !== undefined && now !== old) byValue.get(now)?.forEach(visit);
    }
  }
}

/**
 * The equality conjunct a reader is filed under, if any: only for a view's `from` input, on
 * a path that reads no joined row, and only when the view does not also join its own table
 * (its join input must see every change of the table).
 */
function indexKeyOf(reader: Reader, table: string): IndexKey | undefined {
  const { definition } = reader.view;
  if (reader.inputs.length !== 1 || reader.inputs[0]?.kind !== 'from' || definition.from !== table) return undefined;
  if (definition.where === undefined) return undefined;
  const aliases = new Set((definition.join ?? []).map((join) => join.as));
  for (const conjunct of conjuncts(definition.where)) {
    for (const [path, filter] of Object.entries(conjunct)) {
      const value = (filter as { eq?: Value }).eq;
      if (value === undefined || aliases.has(splitPath(path)[0] as string)) continue;
      return { path, value: valueKey(value) };
    }
  }
  return undefined;
}

function conjuncts(p: Predicate): Predicate[] {
  if (isCombinator(p)) return 'and' in p ? p.and.flatMap(conjuncts) : [];
  return [p];
}

