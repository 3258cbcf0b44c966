import type { OrderKey, Row, Value } from './types.js';
import { compareStrings, compareValues, getPath, splitPath } from './values.js';

/**
 * A row placed in a view order, with its key. The first sort value is kept beside the row:
 * most comparisons end there, without reaching into the row (a cache miss on a large table).
 */
export interface SortEntry {
  readonly key: string;
  readonly first: Value;
  /** Replaced in place by a top-k update that keeps the row's sort values. */
  row: Row;
}

/** A view order (DESIGN §3.2): the orderBy keys, then the row key ascending. */
export class RowOrder {
  readonly compare: (a: SortEntry, b: SortEntry) => number;
  readonly #paths: readonly (readonly string[])[];

  constructor(orderBy: readonly OrderKey[]) {
    const paths = orderBy.map((key) => splitPath(key.field));
    const signs = orderBy.map((key) => (key.direction === 'desc' ? -1 : 1));
    this.#paths = paths;
    const firstSign = signs[0] ?? 1;
    this.compare = (a, b) => {
      if (a === b) return 0;
      const x = a.first;
      const y = b.first;
      const order = typeof x === 'number' && typeof y === 'number' ? x - y : compareValues(x, y);
      if (order !== 0) return order * firstSign;
      for (let i = 1; i < paths.length; i++) {
        const path = paths[i] as string[];
        const next = compareValues(getPath(a.row, path), getPath(b.row, path));
        if (next !== 0) return next * (signs[i] as number);
      }
      return compareStrings(a.key, b.key);
    };
  }

  entry(key: string, row: Row): SortEntry {
    const path = this.#paths[0];
    return { key, first: path === undefined ? null : getPath(row, path), row };
  }

  /** Whether two rows have the same sort values (an update between them keeps its place). */
  sameSortValues(a: Row, b: Row): boolean {
    for (const path of this.#paths) if (compareValues(getPath(a, path), getPath(b, path)) !== 0) return false;
    return true;
  }
}

/** The identity of an order, for sharing: `[{field:'a'}]` and `[{field:'a',direction:'asc'}]` agree. */
export function orderSignature(orderBy: readonly OrderKey[]): string {
  return JSON.stringify(orderBy.map((key) => [key.field, key.direction === 'desc' ? 'desc' : 'asc']));
}
