import type { Record, Row, Value } from '../types.js';
import { selectionPaths } from '../values.js';
import type { Change, Delta } from '../zset.js';
import type { Operator } from './operator.js';

/**
 * The last operator: gives each row its key as `id` and keeps only the selected paths
 * (always `id` and the orderBy fields). Stateless. Without `select`, a row whose `id`
 * already is its key passes as the same object, so views reference records, not copies.
 */
export class Project implements Operator {
  readonly #paths: readonly (readonly string[])[] | undefined;

  constructor(select: readonly string[] | undefined, orderFields: readonly string[]) {
    this.#paths =
      select === undefined ? undefined : selectionPaths([...orderFields, ...select].filter((path) => path !== 'id'));
  }

  push(delta: Delta): Delta {
    const paths = this.#paths;
    if (paths === undefined) {
      for (const change of delta) if (change.row.id !== change.key) return delta.map(withKeyAsId);
      return delta;
    }
    return delta.map((change) => {
      const { key, row, weight, left } = change;
      const projected = projectRow(row, key, paths);
      return left === undefined
        ? { key, row: projected, weight }
        : { key, row: projected, weight, hash: undefined, left, right: change.right as Record | null };
    });
  }

  /**
   * The output row for the row a join would build from `left` and `right` (nested as `as`),
   * without building that row when there is a selection: the paths read through `as` read
   * `right`, the others `left`.
   */
  joinedRow(
    key: string,
    left: Row,
    as: string,
    right: Record | null,
    nest: (left: Row, right: Record | null) => Row,
  ): Row {
    const paths = this.#paths;
    return paths === undefined ? this.row(key, nest(left, right)) : projectRow(left, key, paths, as, right);
  }

  /** The output row for an input row under `key`. */
  row(key: string, row: Row): Row {
    const paths = this.#paths;
    if (paths !== undefined) return projectRow(row, key, paths);
    if (row.id === key) return row;
    const keyed: { [field: string]: Value } = Object.assign({}, row);
    keyed.id = key;
    return keyed;
  }
}

function withKeyAsId(change: Change): Change {
  const { key, row, weight, left } = change;
  if (row.id === key) return change;
  const keyed: { [field: string]: Value } = Object.assign({}, row); // faster than `{ ...row, id: key }` in V8
  keyed.id = key;
  return left === undefined
    ? { key, row: keyed, weight }
    : { key, row: keyed, weight, left, right: change.right as Record | null };
}

/**
 * Copies the given paths of `row`, keeping their nesting; a path through a null or
 * non-object parent yields `parent: null` (an unmatched left join shows as `author: null`).
 */
function projectRow(
  row: Row,
  key: string,
  paths: readonly (readonly string[])[],
  as?: string,
  right?: Record | null,
): Row {
  const out: { [field: string]: Value } = { id: key };
  for (const path of paths) {
    let source: Row = row;
    let target = out;
    for (let i = 0; i < path.length; i++) {
      const step = path[i] as string;
      // `row` with `right` nested as `as` (see `joinedRow`)
      const value = i === 0 && step === as ? (right as Record | null) : source[step];
      if (i === path.length - 1) {
        target[step] = value === undefined ? null : value;
        break;
      }
      if (value === null || value === undefined || typeof value !== 'object' || Array.isArray(value)) {
        if (target[step] === undefined) target[step] = null;
        break;
      }
      let next = target[step];
      if (next === null || next === undefined || typeof next !== 'object' || Array.isArray(next))
        target[step] = next = {};
      // Copied whole by an earlier path: never write into a record.
      else if (next === value) target[step] = next = { ...value };
      source = value;
      target = next;
    }
  }
  return out;
}
