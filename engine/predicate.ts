import { badInput } from './errors.js';
import type { FieldFilter, Predicate, Row, Value } from './types.js';
import { compareValues, equalValues, getPath, splitPath } from './values.js';

/** A compiled predicate: a closure tree built once per view, evaluated per row. */
export type RowTest = (row: Row) => boolean;

const COMBINATORS = new Set(['and', 'or', 'not']);

/** The paths a predicate reads, so the engine can route and push it down. */
export function predicatePaths(predicate: Predicate): string[] {
  const paths: string[] = [];
  const visit = (p: Predicate): void => {
    if (isCombinator(p)) {
      if ('and' in p) p.and.forEach(visit);
      else if ('or' in p) p.or.forEach(visit);
      else visit(p.not);
      return;
    }
    paths.push(...Object.keys(p));
  };
  visit(predicate);
  return paths;
}

export function isCombinator(p: Predicate): p is { and: Predicate[] } | { or: Predicate[] } | { not: Predicate } {
  const keys = Object.keys(p);
  return keys.length === 1 && COMBINATORS.has(keys[0] as string);
}

/** Compiles a predicate whose operands are already bound (no `{ param }` left). */
export function compilePredicate(predicate: Predicate): RowTest {
  if (isCombinator(predicate)) {
    if ('and' in predicate) return all(predicate.and.map(compilePredicate));
    if ('or' in predicate) {
      const tests = predicate.or.map(compilePredicate);
      return (row) => tests.some((test) => test(row));
    }
    const inner = compilePredicate(predicate.not);
    return (row) => !inner(row);
  }
  const tests: RowTest[] = [];
  for (const [path, filter] of Object.entries(predicate)) {
    const steps = splitPath(path);
    for (const [op, operand] of Object.entries(filter as FieldFilter)) {
      const test = compileOp(op, operand as Value, path);
      tests.push((row) => test(getPath(row, steps)));
    }
  }
  return all(tests);
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
  return a !== null && b !== null && type === typeof b && (type === 'number' || type === 'string' || type === 'boolean');
}

function compileOp(op: string, x: Value, path: string): ValueTest {
  switch (op) {
    case 'eq':
      return x === null || typeof x !== 'object' ? (v) => v === x : (v) => equalValues(v, x);
    case 'ne':
      return x === null || typeof x !== 'object' ? (v) => v !== x : (v) => !equalValues(v, x);
    case 'lt':
      return (v) => comparable(v, x) && compareValues(v, x) < 0;
    case 'lte':
      return (v) => comparable(v, x) && compareValues(v, x) <= 0;
    case 'gt':
      return (v) => comparable(v, x) && compareValues(v, x) > 0;
    case 'gte':
      return (v) => comparable(v, x) && compareValues(v, x) >= 0;
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
