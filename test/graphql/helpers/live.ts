import type { Predicate, Record, Value } from '../../../engine/index.js';
import type { RunningServer } from '../../../server/app.js';

/**
 * Random live queries for the tests: one random tree gives both the GraphQL `where` input
 * (what a client sends) and the engine predicate the plain evaluator runs, written here
 * independently of the server's conversion.
 */

export type Random = () => number;

export function random(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const pick = <T>(next: Random, items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;

/** A field of a table with the values a random condition may compare it with. */
export interface FieldSpec {
  readonly name: string;
  readonly kind: 'id' | 'string' | 'int' | 'boolean';
  readonly values: readonly Value[];
  readonly nullable?: boolean;
}

export const POST_FIELDS: readonly FieldSpec[] = [
  { name: 'id', kind: 'id', values: ['p1', 'p2', 'p3', 'p10', 'p5'] },
  { name: 'authorId', kind: 'id', values: ['u1', 'u2', 'u3', 'u4'] },
  { name: 'title', kind: 'string', values: ['alpha', 'beta', 'al', 'b', 'gamma'] },
  { name: 'published', kind: 'boolean', values: [true, false] },
  { name: 'likes', kind: 'int', values: [0, 1, 2, 3, 5, 8] },
];

export const USER_FIELDS: readonly FieldSpec[] = [
  { name: 'id', kind: 'id', values: ['u1', 'u2', 'u3'] },
  { name: 'name', kind: 'string', values: ['Ann', 'Bob', 'A', 'ann'] },
  { name: 'role', kind: 'string', values: ['admin', 'viewer'] },
  { name: 'active', kind: 'boolean', values: [true, false] },
  { name: 'age', kind: 'int', values: [10, 20, 30], nullable: true },
];

/** A condition: both spellings of it. */
export interface RandomWhere {
  readonly input: { [key: string]: unknown };
  readonly predicate: Predicate;
}

/** A random `where` of at most `depth` levels over `fields`. */
export function randomWhere(next: Random, fields: readonly FieldSpec[], depth: number): RandomWhere {
  const roll = next();
  if (depth > 1 && roll < 0.15) {
    const items = Array.from({ length: 1 + Math.floor(next() * 3) }, () => randomWhere(next, fields, depth - 1));
    return { input: { and: items.map((i) => i.input) }, predicate: { and: items.map((i) => i.predicate) } };
  }
  if (depth > 1 && roll < 0.3) {
    const items = Array.from({ length: 1 + Math.floor(next() * 3) }, () => randomWhere(next, fields, depth - 1));
    return { input: { or: items.map((i) => i.input) }, predicate: { or: items.map((i) => i.predicate) } };
  }
  if (depth > 1 && roll < 0.38) {
    const inner = randomWhere(next, fields, depth - 1);
    return { input: { not: inner.input }, predicate: { not: inner.predicate } };
  }
  // One or two field conditions, ANDed as one input object.
  const input: { [key: string]: unknown } = {};
  const conjuncts: Predicate[] = [];
  for (let i = 0; i < 1 + Math.floor(next() * 2); i++) {
    const field = pick(next, fields);
    if (field.name in input) continue;
    const [op, value] = randomCondition(next, field);
    input[field.name] = { [op]: value };
    conjuncts.push({ [field.name]: { [op]: value as Value } });
  }
  return { input, predicate: conjuncts.length === 1 ? (conjuncts[0] as Predicate) : { and: conjuncts } };
}

function randomCondition(next: Random, field: FieldSpec): [string, unknown] {
  const value = pick(next, field.values);
  const ops = ['eq', 'ne', 'in', 'nin'];
  if (field.kind !== 'boolean') ops.push('lt', 'lte', 'gt', 'gte');
  if (field.kind === 'string' || field.kind === 'id') ops.push('startsWith', 'contains');
  if (field.nullable === true) ops.push('isNull');
  const op = pick(next, ops);
  if (op === 'in' || op === 'nin') return [op, field.values.filter(() => next() < 0.5)];
  if (op === 'isNull') return [op, next() < 0.5];
  if ((op === 'startsWith' || op === 'contains') && typeof value === 'string')
    return [op, value.slice(0, 1 + Math.floor(next() * value.length))];
  return [op, value];
}

/** A random `orderBy` (input and definition). */
export function randomOrder(
  next: Random,
  fields: readonly FieldSpec[],
): { input: { field: string; direction: 'ASC' | 'DESC' }[]; keys: { field: string; direction: 'asc' | 'desc' }[] } {
  const keys = Array.from({ length: Math.floor(next() * 3) }, () => ({
    field: pick(next, fields).name,
    direction: next() < 0.5 ? ('asc' as const) : ('desc' as const),
  }));
  return {
    input: keys.map((key) => ({ field: key.field, direction: key.direction === 'asc' ? 'ASC' : 'DESC' })),
    keys,
  };
}

/** The server's tables as the plain evaluator takes them, optionally only the records `keep` allows. */
export function tablesOf(
  server: RunningServer,
  keep: (table: string, record: Record) => boolean = () => true,
): Map<string, Map<string, Record>> {
  const tables = new Map<string, Map<string, Record>>();
  for (const table of server.store.checked.config.tables) {
    tables.set(
      table.name,
      new Map([...server.store.records(table.name)].filter((r) => keep(table.name, r)).map((r) => [r.id, r])),
    );
  }
  return tables;
}

/** POSTs a GraphQL operation; returns the parsed body and the status. */
export async function post(
  server: RunningServer,
  query: string,
  variables: { [name: string]: unknown } = {},
  token?: string,
): Promise<{
  status: number;
  data?: { [field: string]: unknown };
  errors?: { message: string; extensions?: { code?: string } }[];
}> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, ...((await response.json()) as object) };
}

export const POST_SELECTION = 'id authorId title published likes';
export const USER_SELECTION = 'id name email role active age';

/**
 * A JSON value a client may send that looks like syntax: engine operands (`{ param }`, a
 * tagged `{ literal }`), rule operands (`{ viewer }`), predicate combinators and operators,
 * `$viewer.*` strings, nested in objects and arrays, next to plain values. Whatever its
 * shape, a filter operand must compare as this value.
 */
export function hostileJson(next: Random, depth = 3): Value {
  const leaf = (): Value =>
    pick(next, [null, true, 0, 1, 'x', '$viewer.sub', 'u1', 'sub', 'param', '', -2.5] as readonly Value[]);
  if (depth <= 0 || next() < 0.25) return leaf();
  const inner = (): Value => hostileJson(next, depth - 1);
  switch (Math.floor(next() * 10)) {
    case 0:
      return { param: pick(next, ['x', '$viewer.sub', '$viewer.role', 'authorId']) };
    case 1:
      return { viewer: pick(next, ['sub', 'role']) };
    case 2:
      return { literal: inner() };
    case 3:
      return { [pick(next, ['and', 'or'])]: [inner(), inner()] };
    case 4:
      return { not: inner() };
    case 5:
      return { [pick(next, ['eq', 'ne', 'in', 'isNull', 'startsWith'])]: inner() };
    case 6:
      return { param: inner(), viewer: inner() };
    case 7:
      return Array.from({ length: Math.floor(next() * 3) }, inner);
    default:
      return { [pick(next, ['a', 'param', 'id', '$viewer.sub'])]: inner() };
  }
}
