import type { Row, Value } from './types.js';

/**
 * JSON value semantics shared by the engine and the plain evaluator (DESIGN §3.1):
 * values of different types never compare equal, numbers compare numerically and
 * `null` (or a missing field) sorts first.
 */

/** Reads a field or a dot path (`author.name`); a missing step reads as `null`. */
export function getPath(row: Row, path: readonly string[]): Value {
  let value: Value | undefined = row;
  for (const step of path) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
    value = value[step];
    if (value === undefined) return null;
  }
  return value;
}

export function splitPath(path: string): string[] {
  return path.split('.');
}

/** Rank of each JSON type in the total order: null < boolean < number < string < array < object. */
function typeRank(value: Value): number {
  if (value === null) return 0;
  switch (typeof value) {
    case 'boolean':
      return 1;
    case 'number':
      return 2;
    case 'string':
      return 3;
    default:
      return Array.isArray(value) ? 4 : 5;
  }
}

/** Total order over JSON values. Strings compare by UTF-16 code units, not by locale. */
export function compareValues(a: Value, b: Value): number {
  if (a === b) return 0;
  const rankA = typeRank(a);
  const rankB = typeRank(b);
  if (rankA !== rankB) return rankA - rankB;
  switch (rankA) {
    case 1:
    case 2:
    case 3:
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    case 4: {
      const left = a as Value[];
      const right = b as Value[];
      const length = Math.min(left.length, right.length);
      for (let i = 0; i < length; i++) {
        const order = compareValues(left[i] as Value, right[i] as Value);
        if (order !== 0) return order;
      }
      return left.length - right.length;
    }
    case 5:
      return compareStrings(canonicalJson(a), canonicalJson(b));
    default:
      return 0;
  }
}

export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Deep equality; object key order does not matter. */
export function equalValues(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!equalValues(a[i] as Value, b[i] as Value)) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  if (keysA.length !== Object.keys(b).length) return false;
  for (const key of keysA) {
    const valueB = b[key];
    if (valueB === undefined || !equalValues(a[key] as Value, valueB)) return false;
  }
  return true;
}

/** JSON with object keys sorted, so equal values have equal text. */
export function canonicalJson(value: Value): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  let text = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const field = value[key] as Value;
    if (i > 0) text += ',';
    text += JSON.stringify(key);
    text += ':';
    text += field === null || typeof field !== 'object' ? JSON.stringify(field) : canonicalJson(field);
  }
  return text + '}';
}

/**
 * A string that is equal for two values iff they are equal, for use as a Map key
 * (join and group indexes). `5` and `'5'` get different keys.
 */
export function valueKey(value: Value): string {
  switch (typeof value) {
    case 'string':
      return `s${value}`;
    case 'number':
      return `n${value}`;
    case 'boolean':
      return value ? 't' : 'f';
    default:
      return value === null ? 'z' : `j${canonicalJson(value)}`;
  }
}

/** Writes `value` at a dot path into `target`, creating nested objects as needed. */
export function setPath(target: { [field: string]: Value }, path: readonly string[], value: Value): void {
  let node = target;
  for (let i = 0; i < path.length - 1; i++) {
    const step = path[i] as string;
    const next = node[step];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) {
      const created: { [field: string]: Value } = {};
      node[step] = created;
      node = created;
    } else {
      node = next;
    }
  }
  node[path[path.length - 1] as string] = value;
}

/**
 * The paths a projection copies: each once, and none below another selected path (selecting
 * `author` already copies `author.age`), so the result does not depend on the paths' order.
 */
export function selectionPaths(paths: readonly string[]): string[][] {
  const unique = [...new Set(paths)].map(splitPath);
  const covers = (prefix: string[], path: string[]): boolean =>
    prefix.length < path.length && prefix.every((step, i) => step === path[i]);
  return unique.filter((path) => !unique.some((other) => covers(other, path)));
}
