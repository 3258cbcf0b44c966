/**
 * The view's row order, reproduced for clients: its `orderBy` keys, then the row id ascending
 * (UTF-16 code units). Values compare as the engine compares them: null (or missing) first,
 * then booleans, numbers (numerically), strings (by code units), arrays, objects; values of
 * different types never tie.
 */

export interface OrderKey {
  readonly field: string;
  readonly direction?: 'asc' | 'desc' | 'ASC' | 'DESC' | null | undefined;
}

export type RowComparator = (a: LiveRow, b: LiveRow) => number;

/** What the client keeps of a row: an object with a string `id` (its key in the view). */
export interface LiveRow {
  readonly id: string;
}

function rank(value: unknown): number {
  if (value === null || value === undefined) return 0;
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

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function canonical(value: unknown): string {
  if (value === null || value === undefined || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const object = value as { readonly [key: string]: unknown };
  const keys = Object.keys(object)
    .filter((key) => key !== '__typename' && object[key] !== undefined)
    .sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonical(object[key])}`).join(',')}}`;
}

/** The engine's total order over JSON values. */
export function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  const rankA = rank(a);
  const rankB = rank(b);
  if (rankA !== rankB) return rankA - rankB;
  switch (rankA) {
    case 1:
    case 2:
    case 3:
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    case 4: {
      const left = a as unknown[];
      const right = b as unknown[];
      for (let i = 0; i < Math.min(left.length, right.length); i++) {
        const order = compareValues(left[i], right[i]);
        if (order !== 0) return order;
      }
      return left.length - right.length;
    }
    case 5:
      return compareStrings(canonical(a), canonical(b));
    default:
      return 0;
  }
}

/** Reads a field or a dot path (`author.name`); a missing step reads as null. */
function read(row: unknown, path: readonly string[]): unknown {
  let value = row;
  for (const step of path) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
    value = (value as { readonly [key: string]: unknown })[step];
  }
  return value ?? null;
}

/** Compares rows by `orderBy`, then by id. */
export function makeComparator(orderBy: readonly OrderKey[]): RowComparator {
  const keys = orderBy.map((key) => ({
    path: key.field.split('.'),
    sign: key.direction === 'desc' || key.direction === 'DESC' ? -1 : 1,
  }));
  return (a, b) => {
    for (const key of keys) {
      const order = compareValues(read(a, key.path), read(b, key.path));
      if (order !== 0) return key.sign * order;
    }
    return compareStrings(a.id, b.id);
  };
}
