import { badInput } from './errors.js';
import { foldPredicate, isParam, isTaggedLiteral } from './predicate.js';
import { groupRowKey, joinRowKey } from './row-keys.js';
import type { Operand, Predicate, Record, Row, Value, ViewDefinition, ViewParams } from './types.js';
import {
  compareStrings,
  compareValues,
  equalValues,
  getPath,
  selectionPaths,
  setPath,
  splitPath,
  valueKey,
} from './values.js';

/**
 * The plain evaluator (DESIGN §3.4): recomputes a view from scratch by interpreting its
 * definition over whole tables. It is the oracle of the property tests and the "naive
 * recompute" baseline of the benchmarks, so it is written for obviousness, not speed:
 * no compilation, no indexes, one pass per stage in the order of DESIGN §3.2.
 */

export type Tables = ReadonlyMap<string, ReadonlyMap<string, Record>>;

type JsonObject = { [field: string]: Value };

/** An intermediate row with its key beside it. */
interface Keyed {
  key: string;
  row: Row;
}

/** The rows of `definition` over `tables`, in view order. */
export function evaluateView(definition: ViewDefinition, tables: Tables, params: ViewParams = {}): Row[] {
  // from: key = record id
  let rows: Keyed[] = [...records(tables, definition.from)].map((record) => ({ key: record.id, row: record }));

  for (const join of definition.join ?? []) {
    const left = splitPath(join.on.left);
    const right = splitPath(join.on.right);
    const joined: Keyed[] = [];
    for (const { key, row } of rows) {
      const leftValue = getPath(row, left);
      const matches =
        leftValue === null
          ? []
          : [...records(tables, join.table)].filter(
              (r) =>
                valueKey(getPath(r, right)) === valueKey(leftValue) &&
                (join.where === undefined || test(join.where, r, params)),
            );
      for (const match of matches) {
        joined.push({
          key: join.on.right === 'id' ? key : joinRowKey(key, match.id),
          row: { ...row, [join.as]: match },
        });
      }
      if (matches.length === 0 && join.kind === 'left') joined.push({ key, row: { ...row, [join.as]: null } });
    }
    rows = joined;
  }

  const where = definition.where;
  if (where !== undefined) rows = rows.filter(({ row }) => test(where, row, params));

  const groupBy = definition.groupBy ?? [];
  if (definition.aggregate !== undefined && groupBy.length === 0) {
    rows = [{ key: '*', row: { id: '*', ...aggregateRow(definition.aggregate, rows) } }];
  } else if (groupBy.length > 0) {
    rows = group(rows, groupBy, definition.aggregate ?? {});
  } else if (definition.distinct !== undefined) {
    rows = group(rows, definition.distinct, {});
  }

  // orderBy, then the key ascending; with no orderBy only the key
  const orderBy = (definition.orderBy ?? []).map((o) => ({
    path: splitPath(o.field),
    sign: o.direction === 'desc' ? -1 : 1,
  }));
  rows.sort((a, b) => {
    for (const { path, sign } of orderBy) {
      const order = compareValues(getPath(a.row, path), getPath(b.row, path));
      if (order !== 0) return sign * order;
    }
    return compareStrings(a.key, b.key);
  });

  const offset = definition.offset ?? 0;
  rows = rows.slice(offset, definition.limit === undefined ? undefined : offset + definition.limit);

  const select = definition.select;
  if (select === undefined) return rows.map(({ key, row }) => (row['id'] === key ? row : { ...row, id: key }));
  const paths = selectionPaths([...(definition.orderBy ?? []).map((o) => o.field), ...select]);
  return rows.map(({ key, row }) => {
    const out: JsonObject = { id: key };
    for (const path of paths) project(out, row, path);
    out['id'] = key; // a path such as `id.x` must not hide the key
    return out;
  });
}

function records(tables: Tables, table: string): Iterable<Record> {
  return tables.get(table)?.values() ?? [];
}

function isPlainObject(value: Value | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---- where ----

function test(predicate: Predicate, row: Row, params: ViewParams): boolean {
  // Each node folds to a thunk, so `and`/`or` stop at the first deciding part, as they read.
  const holds = foldPredicate<() => boolean>(predicate, {
    and: (parts) => () => parts.every((part) => part()),
    or: (parts) => () => parts.some((part) => part()),
    not: (part) => () => !part(),
    field: (path, filter) => () => {
      const value = getPath(row, splitPath(path));
      return Object.entries(filter).every(([op, operand]) => testOp(op, value, bind(operand as Operand, params)));
    },
  });
  return holds();
}

function bind(operand: Operand, params: ViewParams): Value {
  if (isTaggedLiteral(operand)) return operand.literal;
  if (!isParam(operand)) return operand as Value;
  const value = params[operand.param as string];
  if (value === undefined) throw badInput(`missing parameter '${String(operand.param)}'`);
  return value;
}

/** Order operators compare two numbers, two strings or two booleans; anything else is false. */
function comparable(v: Value, x: Value): boolean {
  return (
    (typeof v === 'number' && typeof x === 'number') ||
    (typeof v === 'string' && typeof x === 'string') ||
    (typeof v === 'boolean' && typeof x === 'boolean')
  );
}

function testOp(op: string, v: Value, x: Value): boolean {
  switch (op) {
    case 'eq':
      return equalValues(v, x);
    case 'ne':
      return !equalValues(v, x);
    case 'lt':
      return comparable(v, x) && compareValues(v, x) < 0;
    case 'lte':
      return comparable(v, x) && compareValues(v, x) <= 0;
    case 'gt':
      return comparable(v, x) && compareValues(v, x) > 0;
    case 'gte':
      return comparable(v, x) && compareValues(v, x) >= 0;
    case 'in':
      return Array.isArray(x) && x.some((el) => equalValues(v, el));
    case 'nin':
      return Array.isArray(x) && !x.some((el) => equalValues(v, el));
    case 'contains':
      if (typeof v === 'string') return typeof x === 'string' && v.includes(x);
      return Array.isArray(v) && v.some((el) => equalValues(el, x));
    case 'startsWith':
      return typeof v === 'string' && typeof x === 'string' && v.startsWith(x);
    case 'isNull':
      return x === true ? v === null : x === false ? v !== null : false;
    default:
      throw badInput(`unknown operator '${op}'`);
  }
}

// ---- groupBy / distinct / aggregate ----

/** One row per distinct combination of the group values, keyed as DESIGN §3.2 says. */
function group(
  rows: Keyed[],
  groupBy: readonly string[],
  aggregate: NonNullable<ViewDefinition['aggregate']>,
): Keyed[] {
  const paths = groupBy.map(splitPath);
  const groups = new Map<string, { values: Value[]; members: Keyed[] }>();
  for (const keyed of rows) {
    const values = paths.map((path) => getPath(keyed.row, path));
    const typedKey = JSON.stringify(values.map(valueKey));
    const existing = groups.get(typedKey);
    if (existing === undefined) groups.set(typedKey, { values, members: [keyed] });
    else existing.members.push(keyed);
  }
  return [...groups.values()].map(({ values, members }) => {
    const key = groupRowKey(values);
    const row: JsonObject = {};
    for (const [i, path] of paths.entries()) setPath(row, path, values[i] as Value);
    Object.assign(row, aggregateRow(aggregate, members));
    row['id'] = key;
    return { key, row };
  });
}

function aggregateRow(aggregate: NonNullable<ViewDefinition['aggregate']>, rows: readonly Keyed[]): JsonObject {
  const out: JsonObject = {};
  for (const [alias, { fn, field }] of Object.entries(aggregate)) {
    const path = splitPath(field ?? 'id');
    const values = rows.map(({ row }) => getPath(row, path));
    const numbers = values.filter((v): v is number => typeof v === 'number');
    const present = values.filter((v) => v !== null);
    const sum = numbers.reduce((total, n) => total + n, 0);
    switch (fn) {
      case 'count':
        out[alias] = rows.length;
        break;
      case 'sum':
        out[alias] = sum;
        break;
      case 'avg':
        out[alias] = numbers.length === 0 ? null : sum / numbers.length;
        break;
      case 'min':
        out[alias] = present.reduce<Value>((m, v) => (m === null || compareValues(v, m) < 0 ? v : m), null);
        break;
      case 'max':
        out[alias] = present.reduce<Value>((m, v) => (m === null || compareValues(v, m) > 0 ? v : m), null);
        break;
    }
  }
  return out;
}

// ---- select ----

/**
 * Copies one path of `row` into `out`, keeping its nesting. A step whose parent is null or
 * not an object ends the walk with `null` at that step (unless `out` already has an object
 * there, written by an earlier, longer path).
 */
function project(out: JsonObject, row: Row, path: readonly string[]): void {
  let source: Row = row;
  let target = out;
  for (let i = 0; i < path.length; i++) {
    const step = path[i] as string;
    const value = source[step];
    if (i === path.length - 1) {
      // a copy, so that a later, longer path writing into it cannot reach the stored record
      target[step] = value === undefined ? null : structuredClone(value);
      return;
    }
    if (!isPlainObject(value)) {
      if (target[step] === undefined) target[step] = null;
      return;
    }
    const next = target[step];
    // A parent copied whole by an earlier path is the record itself: copy before writing into it.
    target = isPlainObject(next) && next !== value ? next : (target[step] = isPlainObject(next) ? { ...next } : {});
    source = value;
  }
}
