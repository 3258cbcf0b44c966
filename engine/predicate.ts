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
    const field = steps[0] as string;
    for (const [op, operand] of Object.entries(filter as FieldFilter)) {
      const test = compileOp(op, operand as Value, path);
      // Most paths are one field: read it directly (a missing field reads as null).
      tests.push(steps.length === 1 ? (row) => test(row[field] ?? null) : (row) => test(getPath(row, steps)));
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
  const holds = { lt: (o: number) => o < 0, lte: (o: number) => o <= 0, gt: (o: number) => o > 0, gte: (o: number) => o >= 0 }[op];
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
