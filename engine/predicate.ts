import { badInput } from './errors.js';
import type { FieldFilter, Operand, Predicate, Row, Value } from './types.js';
import { compareValues, equalValues, getPath, splitPath } from './values.js';

/**
 * Walking predicates (DESIGN §3.2). `foldPredicate` is the one recursion over `and`/`or`/
 * `not`; everything else that walks a predicate (compiling, binding parameters, collecting
 * paths, normalising) is written with it or with `conjuncts`.
 */

/** A combinator node: `{ and: [...] }`, `{ or: [...] }` or `{ not: p }`. */
export type Combinator = { and: Predicate[] } | { or: Predicate[] } | { not: Predicate };

/** The operators of a field filter. */
export type FilterOperator = keyof FieldFilter;

/** One operator of one field: the unit `conjuncts` splits a predicate into. */
export interface Condition {
  readonly path: string;
  readonly op: FilterOperator;
  readonly operand: Operand;
}

/**
 * How to fold a predicate into a `T`, bottom-up: `and`/`or`/`not` combine the folded parts;
 * `field` folds one field filter of a leaf (`{ path: { op: operand, ... } }`), all its
 * operators at once. A leaf is the conjunction of its fields: `fields` combines their
 * results (default: the only result as it is, else `and`). `T` can be a new predicate,
 * a closure, a list of names, or `Predicate | boolean` for a predicate that simplifies.
 */
export interface PredicateFold<T> {
  and(parts: T[]): T;
  or(parts: T[]): T;
  not(part: T): T;
  field(path: string, filter: FieldFilter): T;
  fields?(parts: T[]): T;
}

const COMBINATORS = new Set(['and', 'or', 'not']);

/** Whether `p` is an `and`/`or`/`not` node rather than a leaf of field filters. */
export function isCombinator(p: Predicate): p is Combinator {
  const keys = Object.keys(p);
  return keys.length === 1 && COMBINATORS.has(keys[0] as string);
}

/** Folds `p` bottom-up; children are folded in order, before their parent. */
export function foldPredicate<T>(p: Predicate, fold: PredicateFold<T>): T {
  const visit = (q: Predicate): T => {
    if (isCombinator(q)) {
      if ('and' in q) return fold.and(q.and.map(visit));
      if ('or' in q) return fold.or(q.or.map(visit));
      return fold.not(visit(q.not));
    }
    const parts = Object.entries(q).map(([path, filter]) => fold.field(path, filter as FieldFilter));
    if (fold.fields !== undefined) return fold.fields(parts);
    return parts.length === 1 ? (parts[0] as T) : fold.and(parts);
  };
  return visit(p);
}

/**
 * Rewrites every field filter with `filter` and keeps the rest of the predicate's shape
 * (a leaf with several fields stays one leaf).
 */
export function mapFilters(p: Predicate, rewrite: (path: string, filter: FieldFilter) => FieldFilter): Predicate {
  return foldPredicate<Predicate>(p, {
    and: (parts) => ({ and: parts }),
    or: (parts) => ({ or: parts }),
    not: (part) => ({ not: part }),
    field: (path, filter) => ({ [path]: rewrite(path, filter) }),
    fields: (parts) => Object.assign({}, ...parts) as Predicate,
  });
}

/**
 * The top-level conjuncts of `p`: nested `and`s are flattened and a leaf is split into one
 * `{ path: { op: operand } }` per field and operator, so `p` holds iff every conjunct does.
 * `or` and `not` nodes are conjuncts as they are. An empty list means `p` always holds.
 */
export function conjuncts(p: Predicate): Predicate[] {
  if (isCombinator(p)) return 'and' in p ? p.and.flatMap(conjuncts) : [p];
  return Object.entries(p).flatMap(([path, filter]) =>
    Object.entries(filter as FieldFilter).map(([op, operand]) => ({ [path]: { [op]: operand } }) as Predicate),
  );
}

/** The condition of a single-field, single-operator leaf (as `conjuncts` returns them). */
export function conditionOf(p: Predicate): Condition | undefined {
  if (isCombinator(p)) return undefined;
  const fields = Object.entries(p);
  const [path, filter] = fields[0] ?? [];
  if (fields.length !== 1 || path === undefined || filter === undefined) return undefined;
  const ops = Object.entries(filter);
  const [op, operand] = ops[0] ?? [];
  if (ops.length !== 1 || op === undefined) return undefined;
  return { path, op: op as FilterOperator, operand: operand as Operand };
}

/** The paths a predicate reads, in order, with repeats. */
export function predicatePaths(predicate: Predicate): string[] {
  return foldPredicate<string[]>(predicate, {
    and: (parts) => parts.flat(),
    or: (parts) => parts.flat(),
    not: (part) => part,
    field: (path) => [path],
  });
}

/** Whether an operand is a parameter reference, `{ param: name }`, rather than a literal. */
export function isParam(operand: Operand | undefined): operand is { param: Value } {
  if (operand === null || typeof operand !== 'object' || Array.isArray(operand)) return false;
  const keys = Object.keys(operand);
  return keys.length === 1 && keys[0] === 'param';
}

/** Whether an operand is a tagged literal, `{ literal: value }`. */
export function isTaggedLiteral(operand: Operand | undefined): operand is { literal: Value } {
  if (operand === null || typeof operand !== 'object' || Array.isArray(operand)) return false;
  const keys = Object.keys(operand);
  return keys.length === 1 && keys[0] === 'literal';
}

/**
 * A value from outside (a client's filter operand) as an operand that stands for itself,
 * whatever its shape: an object is tagged `{ literal: value }`, so `{ param: 'x' }` or any
 * syntax added later is compared as data. Other values cannot be read as syntax and stay
 * as they are (so equal requests keep equal definitions).
 */
export function literalOperand(value: Value): Operand {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? { literal: value } : value;
}

/** The names of the `{ param: name }` operands of a predicate. */
export function paramsIn(predicate: Predicate): Set<string> {
  const names = foldPredicate<string[]>(predicate, {
    and: (parts) => parts.flat(),
    or: (parts) => parts.flat(),
    not: (part) => part,
    field: (_path, filter) =>
      (Object.values(filter) as Operand[]).flatMap((operand) =>
        isParam(operand) && typeof operand.param === 'string' ? [operand.param] : [],
      ),
  });
  return new Set(names);
}

// ---- compiling ----

/** A compiled predicate: a closure tree built once per view, evaluated per row. */
export type RowTest = (row: Row) => boolean;

/** Compiles a predicate whose operands are already bound (no `{ param }` left). */
export function compilePredicate(predicate: Predicate): RowTest {
  return foldPredicate<RowTest>(predicate, {
    and: all,
    or: (tests) => (row) => tests.some((test) => test(row)),
    not: (test) => (row) => !test(row),
    field: (path, filter) => {
      const steps = splitPath(path);
      const field = steps[0] as string;
      return all(
        Object.entries(filter).map(([op, operand]): RowTest => {
          const test = compileOp(op, operand as Value, path);
          // Most paths are one field: read it directly (a missing field reads as null).
          return steps.length === 1 ? (row) => test(row[field] ?? null) : (row) => test(getPath(row, steps));
        }),
      );
    },
  });
}

function all(tests: RowTest[]): RowTest {
  if (tests.length === 1) return tests[0] as RowTest;
  return (row) => {
    for (const test of tests) if (!test(row)) return false;
    return true;
  };
}

type ValueTest = (value: Value) => boolean;

/** Order operators compare only values of one primitive type; `null` never compares. */
function comparable(a: Value, b: Value): boolean {
  const type = typeof a;
  return (
    a !== null && b !== null && type === typeof b && (type === 'number' || type === 'string' || type === 'boolean')
  );
}

/**
 * An order test. Numbers and strings (the common operands) compare natively with a type
 * check, which is what `comparable` + `compareValues` amount to for them.
 */
function compileOrder(op: 'lt' | 'lte' | 'gt' | 'gte', x: Value): ValueTest {
  if (typeof x === 'number' || typeof x === 'string') {
    // Strings compare by UTF-16 code units with `<` too; the casts only quiet the checker.
    const type = typeof x;
    const y = x as number;
    switch (op) {
      case 'lt':
        return (v) => typeof v === type && (v as number) < y;
      case 'lte':
        return (v) => typeof v === type && (v as number) <= y;
      case 'gt':
        return (v) => typeof v === type && (v as number) > y;
      case 'gte':
        return (v) => typeof v === type && (v as number) >= y;
    }
  }
  const holds = {
    lt: (o: number) => o < 0,
    lte: (o: number) => o <= 0,
    gt: (o: number) => o > 0,
    gte: (o: number) => o >= 0,
  }[op];
  return (v) => comparable(v, x) && holds(compareValues(v, x));
}

function compileOp(op: string, x: Value, path: string): ValueTest {
  switch (op) {
    case 'eq':
      return x === null || typeof x !== 'object' ? (v) => v === x : (v) => equalValues(v, x);
    case 'ne':
      return x === null || typeof x !== 'object' ? (v) => v !== x : (v) => !equalValues(v, x);
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
      return compileOrder(op, x);
    case 'in':
    case 'nin': {
      if (!Array.isArray(x)) throw badInput(`operator '${op}' on '${path}' needs an array`, { field: path });
      const list = x;
      const member = (v: Value): boolean => list.some((item) => equalValues(v, item));
      return op === 'in' ? member : (v) => !member(v);
    }
    case 'contains':
      return (v) =>
        typeof v === 'string'
          ? typeof x === 'string' && v.includes(x)
          : Array.isArray(v) && v.some((item) => equalValues(item, x));
    case 'startsWith':
      return (v) => typeof v === 'string' && typeof x === 'string' && v.startsWith(x);
    case 'isNull':
      if (typeof x !== 'boolean') throw badInput(`operator 'isNull' on '${path}' needs true or false`, { field: path });
      return x ? (v) => v === null : (v) => v !== null;
    default:
      throw badInput(`unknown operator '${op}' on '${path}'`, { field: path });
  }
}
