import { predicatePaths } from './predicate.js';
import { seekOf } from './routes.js';
import type { OrderKey, ViewDefinition } from './types.js';
import { splitPath } from './values.js';

/**
 * How many rows a window may scan, per row it holds, to fill itself at registration. A
 * filter that needs more passes fewer than 1 row in `SCAN_PER_ROW`: each refill would scan
 * that many rows, so the view keeps a private index of its matching rows instead (which is
 * then small: under 1/SCAN_PER_ROW of the table). See docs/semantics.md, "Shared indexes".
 */
const SCAN_PER_ROW = 512;
/** Small tables and partitions are always scanned whole. */
const MIN_SCAN = 4096;

/** A view served by a `Window` over a shared ordered index, and which index. */
export interface WindowPlan {
  readonly orderBy: readonly OrderKey[];
  /** The equality conjunct whose per-value partition it reads, if any. */
  readonly partition?: { readonly path: string; readonly value: string };
  /** Rows the fill may scan before the view falls back to a private index. */
  readonly budget: number;
}

/**
 * A view with a positive limit over one table's own rows reads a shared ordered index of
 * that table: by its orderBy (key order without one), split by the value of its `eq`
 * conjunct on a non-boolean when it has one (the conjunct the router files it under).
 * Its joins, if any, must keep every row, its key and its place: left joins on another
 * table's `id` (at most one match each), with `where` and `orderBy` reading no joined field;
 * the window then sits before them (`topPosts`). No group or distinct. Anything else keeps
 * the private `TopK`.
 */
export function windowPlanOf(definition: ViewDefinition): WindowPlan | undefined {
  const { limit } = definition;
  if (limit === undefined || limit <= 0) return undefined;
  if (definition.groupBy !== undefined || definition.aggregate !== undefined || definition.distinct !== undefined)
    return undefined;
  const joins = definition.join ?? [];
  if (joins.some((join) => join.kind !== 'left' || join.on.right !== 'id' || join.table === definition.from))
    return undefined;
  const aliases = new Set(joins.map((join) => join.as));
  const readsJoin = (path: string) => aliases.has(splitPath(path)[0] as string);
  if ((definition.orderBy ?? []).some((key) => readsJoin(key.field))) return undefined;
  if (definition.where !== undefined && predicatePaths(definition.where).some(readsJoin)) return undefined;
  const budget = Math.max(MIN_SCAN, SCAN_PER_ROW * ((definition.offset ?? 0) + limit));
  const seek = seekOf(definition);
  const value = seek?.values.length === 1 ? seek.values[0] : undefined;
  return {
    orderBy: definition.orderBy ?? [],
    ...(seek !== undefined && value !== undefined ? { partition: { path: seek.path, value } } : {}),
    budget,
  };
}
