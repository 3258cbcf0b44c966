import { conjuncts, isCombinator } from './predicate.js';
import type { Predicate, Value, ViewDefinition, ViewParams } from './types.js';
import { canonicalJson } from './values.js';

/**
 * A string equal for two (definition, params) pairs that define the same view, whatever
 * their ids, key order, `and` order, nesting of `and`s, grouping of fields and operators
 * into leaves, or spelled-out defaults. Live queries with equal signatures share one
 * engine view.
 */
export function viewSignature(definition: ViewDefinition, params: ViewParams = {}): string {
  const { id: _id, ...rest } = definition;
  const normal: { [key: string]: Value } = {};
  if (rest.where !== undefined) {
    const where = normalizePredicate(rest.where);
    if (!(isCombinator(where) && 'and' in where && where.and.length === 0)) normal.where = where as Value;
  }
  normal.from = rest.from;
  if (rest.join !== undefined && rest.join.length > 0) {
    normal.join = rest.join.map((join) => ({ ...join, kind: join.kind ?? 'inner' })) as Value;
  }
  if (rest.select !== undefined) normal.select = [...new Set(rest.select)].sort();
  if (rest.groupBy !== undefined) normal.groupBy = rest.groupBy;
  if (rest.aggregate !== undefined) normal.aggregate = rest.aggregate as unknown as Value;
  if (rest.distinct !== undefined) normal.distinct = rest.distinct;
  if (rest.orderBy !== undefined && rest.orderBy.length > 0) {
    normal.orderBy = rest.orderBy.map((key) => ({ field: key.field, direction: key.direction ?? 'asc' }));
  }
  if (rest.limit !== undefined) normal.limit = rest.limit;
  if ((rest.offset ?? 0) > 0) normal.offset = rest.offset as number;
  const usedParams: { [name: string]: Value } = {};
  for (const name of Object.keys(params).sort()) usedParams[name] = params[name] as Value;
  return canonicalJson({ definition: normal, params: usedParams });
}

/** The sorted list of the conjuncts (see `conjuncts`), each `or`/`not` normalised in turn. */
function normalizePredicate(p: Predicate): Predicate {
  const parts = conjuncts(p).map((q): Predicate => {
    if (!isCombinator(q) || 'and' in q) return q;
    return 'not' in q ? { not: normalizePredicate(q.not) } : { or: sortByJson(q.or.map(normalizePredicate)) };
  });
  return parts.length === 1 ? (parts[0] as Predicate) : { and: sortByJson(parts) };
}

function sortByJson(predicates: Predicate[]): Predicate[] {
  return predicates
    .map((p) => [canonicalJson(p as Value), p] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, p]) => p);
}
