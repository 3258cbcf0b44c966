import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Circuit } from '../../engine/index.js';
import { EngineError, type EngineErrorCode } from '../../engine/errors.js';
import { evaluateView } from '../../engine/evaluate.js';
import { hashRows } from '../../engine/hash.js';
import type {
  JoinDefinition,
  Record,
  RecordChange,
  Row,
  Value,
  ViewDefinition,
  ViewParams,
  ViewSnapshot,
  ViewUpdate,
} from '../../engine/types.js';
import { equalValues } from '../../engine/values.js';

/**
 * Incremental == recompute, over random views and random change sequences.
 *
 * Views are drawn from every feature of DESIGN §3.2: filters with every operator, and/or/not,
 * dot paths into nested fields, `{ param }` operands; inner and left joins on id and on other
 * fields (keys `a|b`), two joins in one view, a join's own `where`; select (joined and nested
 * paths, paths through null); groupBy with count/sum/avg/min/max over one or two fields,
 * global aggregates, distinct; orderBy over one or two keys with ties and nulls; limit and
 * offset, with and without orderBy.
 * Changes come from small id pools so that they collide: creates, full updates and partial
 * updates that flip filter/sort/join/group keys, deletes, no-ops, and invalid changes.
 *
 * After every step, for every registered view, it checks that:
 *  1. the snapshot's rows equal the plain evaluator's result over the same tables, in order;
 *  2. the snapshot's hash equals `hashRows` of that result;
 *  3. an update is returned iff the result changed, at most one per view, never empty;
 *  4. the update is exactly the difference: `added` are the rows whose keys entered,
 *     `removed` the keys that left, `updated` the rows whose key stayed and content changed,
 *     and applying it to the previous result gives the new one;
 *  5. versions go up by one per update, and the update's hash is the snapshot's;
 *  6. an error (CONFLICT, NOT_FOUND, BAD_INPUT) has the expected code and changes nothing:
 *     no record, no snapshot, no version, no hash;
 *  7. the stored records equal a model of the tables.
 * Property A drives `ingestSingle` (and sometimes `ingestSingleFirst`), property B
 * `ingestBatch` (a batch with an invalid change anywhere applies nothing). Both register
 * views before any data exists and mid-sequence, and unregister some.
 *
 * `PROPERTY_RUNS=100000 npx vitest run test/engine/property.test.ts` runs more cases.
 */

const numRuns = Number(process.env['PROPERTY_RUNS'] ?? 1000);
/** About 2 ms a run on a 2-core machine; leave room for shrinking. */
const timeout = 60_000 + numRuns * 10;

// ---------------------------------------------------------------- data

type JsonObject = { [field: string]: Value };
type Table = 'users' | 'posts' | 'comments';
const TABLES: readonly Table[] = ['users', 'posts', 'comments'];
const IDS: { [table in Table]: readonly string[] } = {
  users: ['u1', 'u2', 'u3', 'u4', 'u5'],
  posts: ['p1', 'p2', 'p3', 'p4', 'p5'],
  comments: ['c1', 'c2', 'c3', 'c4'],
};

// The values each field takes. Each field keeps one type (or null / missing), so group keys
// never collide; the pools are small so that filters match and sort keys tie.
const NAMES = ['Ann', 'Bob', 'Cy', 'ann', 'Bo'];
const EMAILS = ['a@x', 'b@y'];
const ROLES = ['user', 'admin', 'guest'];
const AGES = [null, 20, 30, 41.5];
const TIERS = ['a', 'b', null];
const TAGS = ['x', 'y', 'z'];
const AUTHOR_IDS = ['u1', 'u2', 'u3', 'u4', 'u5', 'u9'];
const TITLES = ['Hello', 'Help', 'World', 'hello'];
const LIKES = [0, 1, 5, 10];
const POST_IDS = ['p1', 'p2', 'p3', 'p4', 'p5', 'p9'];
const USER_IDS = ['u1', 'u2', 'u3'];
const TEXTS = ['ok', 'nice', 'no'];
const SCORES = [null, 1, 5, 10];

const dataFields: { [table in Table]: { [field: string]: fc.Arbitrary<Value> } } = {
  users: {
    name: fc.constantFrom(...NAMES),
    email: fc.constantFrom(...EMAILS),
    role: fc.constantFrom(...ROLES),
    active: fc.boolean(),
    age: fc.constantFrom(...AGES),
    meta: fc.oneof(
      { weight: 4, arbitrary: fc.record({ tier: fc.constantFrom(...TIERS), tags: fc.subarray(TAGS) }) },
      { weight: 1, arbitrary: fc.constant(null) },
    ),
  },
  posts: {
    authorId: fc.constantFrom(...AUTHOR_IDS),
    title: fc.constantFrom(...TITLES),
    published: fc.boolean(),
    likes: fc.constantFrom(...LIKES),
  },
  comments: {
    postId: fc.constantFrom(...POST_IDS),
    userId: fc.constantFrom(...USER_IDS),
    text: fc.constantFrom(...TEXTS),
    score: fc.constantFrom(...SCORES),
  },
};
const REQUIRED: { [table in Table]: string[] } = {
  users: ['name', 'email', 'role', 'active'],
  posts: ['authorId', 'title', 'published', 'likes'],
  comments: ['postId', 'userId', 'text'],
};
const dataArb = (table: Table): fc.Arbitrary<JsonObject> =>
  fc.record(dataFields[table], { requiredKeys: REQUIRED[table] }) as fc.Arbitrary<JsonObject>;
const patchArb = (table: Table): fc.Arbitrary<JsonObject> =>
  fc.record(dataFields[table], { requiredKeys: [] }) as fc.Arbitrary<JsonObject>;

// ---------------------------------------------------------------- views

type Kind = 'str' | 'num' | 'bool' | 'tags';
/** A path of a view's rows, its type and the values it takes. */
type Field = readonly [path: string, kind: Kind, pool: readonly Value[]];

const BOOLS = [true, false];
const TAG_LISTS = [[], ['x'], ['x', 'y'], ['y', 'z']];
const userFields = (p: string): Field[] => [
  [`${p}id`, 'str', IDS.users],
  [`${p}name`, 'str', NAMES],
  [`${p}email`, 'str', EMAILS],
  [`${p}role`, 'str', ROLES],
  [`${p}active`, 'bool', BOOLS],
  [`${p}age`, 'num', AGES],
  [`${p}meta.tier`, 'str', TIERS],
  [`${p}meta.tags`, 'tags', TAG_LISTS],
];
const postFields = (p: string): Field[] => [
  [`${p}id`, 'str', IDS.posts],
  [`${p}authorId`, 'str', AUTHOR_IDS],
  [`${p}title`, 'str', TITLES],
  [`${p}published`, 'bool', BOOLS],
  [`${p}likes`, 'num', LIKES],
];
const commentFields = (p: string): Field[] => [
  [`${p}id`, 'str', IDS.comments],
  [`${p}postId`, 'str', POST_IDS],
  [`${p}userId`, 'str', USER_IDS],
  [`${p}text`, 'str', TEXTS],
  [`${p}score`, 'num', SCORES],
];

const FIELDS_OF: { [table in Table]: Field[] } = { users: userFields(''), posts: postFields(''), comments: commentFields('') };

/** A `from` with its joins (kind drawn later) and the fields its rows have. */
interface Shape {
  from: Table;
  joins: Omit<JoinDefinition, 'kind'>[];
  fields: Field[];
  /** select paths beyond the fields: whole objects, paths through non-objects, missing fields */
  extra: string[];
}

const join = (table: Table, as: string, left: string, right: string): Omit<JoinDefinition, 'kind'> => ({
  table,
  as,
  on: { left, right },
});

const SHAPES: Shape[] = [
  { from: 'users', joins: [], fields: userFields(''), extra: ['meta', 'name.first', 'nope'] },
  { from: 'posts', joins: [], fields: postFields(''), extra: [] },
  // on id: keys stay post ids; a left join nests null for u9
  {
    from: 'posts',
    joins: [join('users', 'author', 'authorId', 'id')],
    fields: [...postFields(''), ...userFields('author.')],
    extra: ['author', 'author.meta', 'author.meta.tier.x'],
  },
  // on a non-id field: keys u|p
  { from: 'users', joins: [join('posts', 'post', 'id', 'authorId')], fields: [...userFields(''), ...postFields('post.')], extra: ['post'] },
  // two joins, the second keyed on a path of the first
  {
    from: 'comments',
    joins: [join('posts', 'post', 'postId', 'id'), join('users', 'author', 'post.authorId', 'id')],
    fields: [...commentFields(''), ...postFields('post.'), ...userFields('author.')],
    extra: ['post', 'author.meta'],
  },
  // two joins, the second on a non-id field: keys p|c
  {
    from: 'posts',
    joins: [join('users', 'author', 'authorId', 'id'), join('comments', 'comment', 'id', 'postId')],
    fields: [...postFields(''), ...userFields('author.'), ...commentFields('comment.')],
    extra: ['comment'],
  },
  // many-to-many on numbers (null scores match nothing): keys c|p
  { from: 'comments', joins: [join('posts', 'post', 'score', 'likes')], fields: [...commentFields(''), ...postFields('post.')], extra: [] },
];

/** An operand to be passed as a `{ param }` at registration. */
class Param {
  constructor(readonly value: Value) {}
}

/** Mostly a value the field takes; sometimes a value between them, null, or another type. */
function operandArb([, kind, pool]: Field): fc.Arbitrary<Value> {
  const between: Value[] = kind === 'num' ? [25, -1] : kind === 'str' ? ['B', 'b', ''] : kind === 'tags' ? [['x', 'z']] : [];
  return fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...pool) },
    { weight: 1, arbitrary: fc.constantFrom(...between, null) },
    { weight: 1, arbitrary: fc.constantFrom<Value>(30, '30', true, 'x', ['x'], { a: 1 }) },
  );
}

const OPS = ['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'nin', 'contains', 'startsWith', 'isNull'] as const;
type Op = (typeof OPS)[number];

const strings = (pool: readonly Value[]): string[] => pool.filter((v): v is string => typeof v === 'string');

function opOperandArb(op: Op, field: Field): fc.Arbitrary<Value> {
  const [, kind, pool] = field;
  switch (op) {
    case 'eq':
    case 'ne':
    case 'lt':
    case 'lte':
    case 'gt':
    case 'gte':
      return operandArb(field);
    case 'in':
    case 'nin':
      return fc.array(operandArb(field), { maxLength: 3 });
    case 'contains':
      return kind === 'tags'
        ? fc.constantFrom<Value>(...TAGS, 1)
        : fc.constantFrom<Value>(...strings(pool).map((s) => s.slice(1, 3)), '', 'x', 5);
    case 'startsWith':
      return fc.constantFrom<Value>(...strings(pool).map((s) => s.slice(0, 2)), '', 'x', 5);
    case 'isNull':
      return fc.boolean();
  }
}

/** `{ op: operand }`, mostly with one op; an operand becomes a parameter one time in five. */
const fieldFilterArb = (field: Field): fc.Arbitrary<{ [op: string]: Value | Param }> =>
  fc
    .oneof({ weight: 3, arbitrary: fc.constantFrom(...OPS).map((op) => [op]) }, { weight: 1, arbitrary: fc.uniqueArray(fc.constantFrom(...OPS), { minLength: 2, maxLength: 2 }) })
    .chain((ops) =>
      fc.tuple(
        ...ops.map((op) =>
          fc
            .tuple(opOperandArb(op, field), fc.nat(4))
            .map(([value, dice]): [string, Value | Param] => [op, dice === 0 ? new Param(value) : value]),
        ),
      ),
    )
    .map((entries) => Object.fromEntries(entries));

type PredicateSpec = { [key: string]: unknown };

function predicateArb(fields: readonly Field[], depth = 2): fc.Arbitrary<PredicateSpec> {
  const leaf = fc
    .oneof(
      { weight: 3, arbitrary: fc.constantFrom(...fields).map((field) => [field]) },
      { weight: 1, arbitrary: fc.uniqueArray(fc.constantFrom(...fields), { minLength: 2, maxLength: 2, selector: ([path]) => path }) },
    )
    .chain((chosen) => fc.tuple(...chosen.map((field) => fieldFilterArb(field).map((filter) => [field[0], filter] as const))))
    .map((entries): PredicateSpec => Object.fromEntries(entries));
  if (depth === 0) return leaf;
  const sub = predicateArb(fields, depth - 1);
  return fc.oneof(
    { weight: 6, arbitrary: leaf },
    { weight: 1, arbitrary: fc.array(sub, { minLength: 1, maxLength: 3 }).map((and) => ({ and })) },
    { weight: 2, arbitrary: fc.array(sub, { minLength: 1, maxLength: 3 }).map((or) => ({ or })) },
    // an empty `or` is false, an empty `and` true
    { weight: 1, arbitrary: fc.constantFrom({ not: { or: [] } }, { and: [] }) },
    { weight: 1, arbitrary: sub.map((not) => ({ not })) },
  );
}

const orderByArb = (paths: readonly string[]) =>
  fc.array(fc.record({ field: fc.constantFrom(...paths), direction: fc.constantFrom('asc', 'desc', undefined) }), {
    minLength: 1,
    maxLength: 2,
  });

/** orderBy, select, limit and offset over the paths of the rows they see. */
/** `arb` in `present` cases out of ten, else undefined. */
const sometimes = <T>(arb: fc.Arbitrary<T>, present: number): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: present, arbitrary: arb }, { weight: 10 - present, arbitrary: fc.constant(undefined) });

const tailArb = (paths: readonly string[], selectable: readonly string[]) =>
  fc
    .record({
      orderBy: sometimes(orderByArb(paths), 6),
      select: sometimes(fc.shuffledSubarray([...selectable]), 5),
      limit: sometimes(fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 6, arbitrary: fc.integer({ min: 1, max: 4 }) }), 5),
      offset: sometimes(fc.integer({ min: 1, max: 2 }), 3),
    })
    // offset 0 is the default; write it now and then
    .map((tail) => (tail.offset === undefined && tail.limit === 2 ? { ...tail, offset: 0 } : tail));

const AGGREGATE_FNS = ['count', 'sum', 'avg', 'min', 'max'] as const;

/** One to three aggregates named a0, a1, a2 (never a group field's name). */
const aggregatesArb = (fields: readonly Field[]) =>
  fc
    .array(
      fc.record({ fn: fc.constantFrom(...AGGREGATE_FNS), field: fc.constantFrom(...fields.map(([path]) => path)) }, { requiredKeys: ['fn'] }),
      { minLength: 1, maxLength: 3 },
    )
    .map((list) => Object.fromEntries(list.map((aggregate, i) => [`a${i}`, aggregate])))
    // every function but count needs a field
    .map((aggregates) =>
      Object.fromEntries(
        Object.entries(aggregates).map(([alias, a]) => [alias, a.fn !== 'count' && a.field === undefined ? { ...a, field: fields[0]?.[0] } : a]),
      ),
    );

function bodyArb(shape: Shape): fc.Arbitrary<PredicateSpec> {
  const paths = shape.fields.map(([path]) => path);
  const groupable = shape.fields.filter(([, kind]) => kind !== 'tags').map(([path]) => path);
  const plain = tailArb(paths, [...paths, ...shape.extra]);
  const grouped = fc
    .record(
      {
        groupBy: fc.shuffledSubarray(groupable, { minLength: 1, maxLength: 2 }),
        aggregate: aggregatesArb(shape.fields),
      },
      { requiredKeys: ['groupBy'] },
    )
    .chain((group) => {
      const out = [...group.groupBy, ...Object.keys(group.aggregate ?? {}), 'id'];
      return tailArb(out, out).map((tail) => ({ ...group, ...tail }));
    });
  const global = fc
    .record({ aggregate: aggregatesArb(shape.fields), groupBy: fc.constant([]) }, { requiredKeys: ['aggregate'] })
    .chain((group) => {
      const out = [...Object.keys(group.aggregate), 'id'];
      return tailArb(out, out).map((tail) => ({ ...group, ...tail }));
    });
  const distinct = fc.shuffledSubarray(groupable, { minLength: 1, maxLength: 2 }).chain((fields) => {
    const out = [...fields, 'id'];
    return tailArb(out, out).map((tail) => ({ distinct: fields, ...tail }));
  });
  return fc.oneof(
    { weight: 4, arbitrary: plain },
    { weight: 2, arbitrary: grouped },
    { weight: 1, arbitrary: global },
    { weight: 1, arbitrary: distinct },
  );
}

interface ViewCase {
  definition: ViewDefinition;
  params: ViewParams;
  /** registered before any data exists, else only by a `register` step */
  atStart: boolean;
}

const viewSpecArb = fc.constantFrom(...SHAPES).chain((shape) =>
  fc.record(
    {
      kinds: fc.array(fc.constantFrom('inner', 'left', undefined), { minLength: shape.joins.length, maxLength: shape.joins.length }),
      // a join's own filter over the joined table's fields (row-level read rules)
      joinWheres: fc.tuple(...shape.joins.map((j) => sometimes(predicateArb(FIELDS_OF[j.table as Table], 1), 2))),
      where: predicateArb(shape.fields),
      body: bodyArb(shape),
      atStart: fc.boolean(),
    },
    { requiredKeys: ['kinds', 'joinWheres', 'body', 'atStart'] },
  ).map(({ kinds, joinWheres, where, body, atStart }) => ({
    spec: {
      from: shape.from,
      ...(shape.joins.length > 0 ? { join: shape.joins.map((j, i) => ({ ...j, kind: kinds[i], where: joinWheres[i] })) } : {}),
      ...(where === undefined ? {} : { where }),
      ...body,
    },
    atStart,
  })),
);

/** Gives each view its id, turns `Param`s into `{ param }` operands and drops undefined keys. */
function makeViewCase(index: number, spec: PredicateSpec, atStart: boolean): ViewCase {
  const params: { [name: string]: Value } = {};
  let next = 0;
  const walk = (value: unknown): unknown => {
    if (value instanceof Param) {
      const name = `p${next++}`;
      params[name] = value.value;
      return { param: name };
    }
    if (Array.isArray(value)) return value.map(walk);
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(
        Object.entries(value)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => [k, walk(v)]),
      );
    }
    return value;
  };
  const definition = { id: `v${index}`, ...(walk(spec) as object) } as ViewDefinition;
  return { definition, params, atStart };
}

const viewsArb = fc
  .array(viewSpecArb, { minLength: 1, maxLength: 4 })
  .map((specs) => specs.map(({ spec, atStart }, i) => makeViewCase(i, spec, atStart)));

// ---------------------------------------------------------------- changes

/** A change as generated; it becomes a `RecordChange` against the state when it runs. */
type ChangeSpec =
  | { kind: 'upsert' | 'create' | 'update'; table: Table; id: string; data: JsonObject; withId: boolean }
  | { kind: 'patch'; table: Table; id: string; patch: JsonObject; data: JsonObject }
  | { kind: 'delete' | 'same'; table: Table; id: string }
  | { kind: 'createDelete'; table: Table; id: string; data: JsonObject }
  | { kind: 'updateTwice'; table: Table; id: string; data: JsonObject; data2: JsonObject }
  | { kind: 'bad'; table: Table; id: string; op: 'CREATE' | 'UPDATE'; bad: BadKind };

const BAD_KINDS = ['table', 'number', 'null', 'array', 'string', 'noData', 'emptyId', 'idMismatch'] as const;
type BadKind = (typeof BAD_KINDS)[number];

function changeArb(table: Table, batch: boolean): fc.Arbitrary<ChangeSpec> {
  const t = fc.constant(table);
  const id = fc.constantFrom(...IDS[table]);
  const data = dataArb(table);
  const arbitraries: fc.WeightedArbitrary<ChangeSpec>[] = [
    { weight: 8, arbitrary: fc.record({ kind: fc.constant('upsert' as const), table: t, id, data, withId: fc.boolean() }) },
    // raw creates and updates, which collide (CONFLICT, NOT_FOUND) on the small id pools
    { weight: batch ? 1 : 2, arbitrary: fc.record({ kind: fc.constantFrom('create' as const, 'update' as const), table: t, id, data, withId: fc.boolean() }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('patch' as const), table: t, id, patch: patchArb(table), data }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), table: t, id }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('same' as const), table: t, id }) },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('bad' as const), table: t, id, op: fc.constantFrom('CREATE' as const, 'UPDATE' as const), bad: fc.constantFrom(...BAD_KINDS) }),
    },
  ];
  if (batch) {
    arbitraries.push(
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('createDelete' as const), table: t, id, data }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('updateTwice' as const), table: t, id, data, data2: data }) },
    );
  }
  return fc.oneof(...arbitraries);
}

const anyChangeArb = (batch: boolean) => fc.oneof(...TABLES.map((table) => changeArb(table, batch)));

type Model = Map<string, Map<string, Record>>;

/** The RecordChanges a spec stands for, given the records as they are when it runs. */
function resolve(spec: ChangeSpec, model: Model): RecordChange[] {
  const { table, id } = spec;
  const current = model.get(table)?.get(id);
  const withId = (data: JsonObject, flag: boolean): JsonObject => (flag ? { ...data, id } : data);
  switch (spec.kind) {
    case 'upsert':
      return [{ table, op: current === undefined ? 'CREATE' : 'UPDATE', id, data: withId(spec.data, spec.withId) }];
    case 'create':
      return [{ table, op: 'CREATE', id, data: withId(spec.data, spec.withId) }];
    case 'update':
      return [{ table, op: 'UPDATE', id, data: withId(spec.data, spec.withId) }];
    case 'patch':
      // a few fields of the stored record change (none: a no-op); a missing one is created
      return current === undefined
        ? [{ table, op: 'CREATE', id, data: spec.data }]
        : [{ table, op: 'UPDATE', id, data: { ...current, ...spec.patch } }];
    case 'delete':
      return [{ table, op: 'DELETE', id }];
    case 'same':
      // an identical update, or a delete of a missing id: both no-ops
      return current === undefined ? [{ table, op: 'DELETE', id }] : [{ table, op: 'UPDATE', id, data: { ...current } }];
    case 'createDelete':
      return current === undefined
        ? [
            { table, op: 'CREATE', id, data: spec.data },
            { table, op: 'DELETE', id },
          ]
        : [
            { table, op: 'DELETE', id },
            { table, op: 'CREATE', id, data: spec.data },
          ];
    case 'updateTwice': {
      const first: RecordChange = { table, op: current === undefined ? 'CREATE' : 'UPDATE', id, data: spec.data };
      return [first, { table, op: 'UPDATE', id, data: spec.data2 }];
    }
    case 'bad': {
      const change: RecordChange = { table, op: spec.op, id, data: { ...current } };
      switch (spec.bad) {
        case 'table':
          return [{ ...change, table: 'nope' }];
        case 'number':
          return [{ ...change, data: 5 }];
        case 'null':
          return [{ ...change, data: null }];
        case 'array':
          return [{ ...change, data: [current ?? {}] }];
        case 'string':
          return [{ ...change, data: 'x' }];
        case 'noData':
          return [{ table, op: spec.op, id }];
        case 'emptyId':
          return [{ ...change, id: '' }];
        case 'idMismatch':
          return [{ ...change, data: { ...current, id: `${id}x` } }];
      }
    }
  }
}

const isObject = (value: unknown): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Applies a change to the model, or returns the error codes it may raise (without changing
 * anything). Returns whether the change stored anything.
 */
function applyToModel(model: Model, change: RecordChange): { codes: EngineErrorCode[] } | { changed: boolean } {
  const { table, op, id, data } = change;
  const records = model.get(table);
  const codes: EngineErrorCode[] = [];
  const idOk = typeof id === 'string' && id !== '';
  const dataOk = op === 'DELETE' || (isObject(data) && (data['id'] === undefined || data['id'] === id));
  if (records === undefined || !idOk || !dataOk) codes.push('BAD_INPUT');
  if (records !== undefined && idOk) {
    if (op === 'CREATE' && records.has(id)) codes.push('CONFLICT');
    if (op === 'UPDATE' && !records.has(id)) codes.push('NOT_FOUND');
  }
  if (codes.length > 0 || records === undefined) return { codes };
  const current = records.get(id);
  if (op === 'DELETE') return { changed: records.delete(id) };
  const record = { ...(data as JsonObject), id } as Record;
  if (current !== undefined && equalValues(current, record)) return { changed: false };
  records.set(id, record);
  return { changed: true };
}

const cloneModel = (model: Model): Model => new Map([...model].map(([table, records]) => [table, new Map(records)]));

// ---------------------------------------------------------------- steps

type Step =
  | { kind: 'single'; change: ChangeSpec; first: boolean }
  | { kind: 'batch'; changes: ChangeSpec[] }
  | { kind: 'register' | 'unregister'; view: number };

const viewStepArb: fc.Arbitrary<Step> = fc.record({ kind: fc.constantFrom('register' as const, 'unregister' as const), view: fc.nat(3) });

/** Records created right after the first views are registered, so later steps find data. */
const seedArb = fc.array(
  fc.oneof(
    ...TABLES.map((table) =>
      fc.record({
        kind: fc.constant('upsert' as const),
        table: fc.constant(table),
        id: fc.constantFrom(...IDS[table]),
        data: dataArb(table),
        withId: fc.boolean(),
      }),
    ),
  ),
  { minLength: 4, maxLength: 12, size: 'max' },
);

const singleStepsArb: fc.Arbitrary<Step[]> = fc
  .tuple(
    seedArb,
    fc.array(
      fc.oneof(
        { weight: 14, arbitrary: fc.record({ kind: fc.constant('single' as const), change: anyChangeArb(false), first: fc.constant(false) }) },
        { weight: 1, arbitrary: fc.record({ kind: fc.constant('single' as const), change: anyChangeArb(false), first: fc.constant(true) }) },
        { weight: 2, arbitrary: viewStepArb },
      ),
      { maxLength: 30, size: 'max' },
    ),
  )
  .map(([seed, steps]) => [...seed.map((change): Step => ({ kind: 'single', change, first: false })), ...steps]);

const batchStepsArb: fc.Arbitrary<Step[]> = fc
  .tuple(
    seedArb,
    fc.array(
      fc.oneof(
        {
          weight: 6,
          arbitrary: fc.record({
            kind: fc.constant('batch' as const),
            changes: fc.array(anyChangeArb(true), { minLength: 1, maxLength: 4, size: 'max' }),
          }),
        },
        { weight: 1, arbitrary: viewStepArb },
      ),
      { maxLength: 12, size: 'max' },
    ),
  )
  .map(([seed, steps]) => [{ kind: 'batch', changes: seed }, ...steps]);

// ---------------------------------------------------------------- the checker

interface Registered {
  view: ViewCase;
  snapshot: ViewSnapshot;
}

const keyOf = (row: Row): string => row['id'] as string;
const byKey = (rows: readonly Row[]): Map<string, Row> => new Map(rows.map((row) => [keyOf(row), row]));
const sortedByKey = (rows: readonly Row[]): Row[] => [...rows].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));

/** Deep equality, fast; falls back to `toEqual` for a readable diff. */
function same(actual: unknown, expected: unknown, what: string): void {
  if (!equalValues(actual as Value, expected as Value)) expect(actual, what).toEqual(expected);
}

/** The exact difference between two results (DESIGN §3.3). */
function difference(before: readonly Row[], after: readonly Row[]) {
  const old = byKey(before);
  const now = byKey(after);
  const keys = (filter: (key: string) => boolean, map: Map<string, Row>) => [...map.keys()].filter(filter).sort();
  return {
    added: keys((key) => !old.has(key), now).map((key) => now.get(key) as Row),
    removed: keys((key) => !now.has(key), old),
    updated: keys((key) => old.has(key) && !equalValues(old.get(key) as Value, now.get(key) as Value), now).map((key) => now.get(key) as Row),
  };
}

class World {
  readonly circuit = new Circuit({ tables: TABLES });
  model: Model = new Map(TABLES.map((table) => [table, new Map()]));
  readonly registered = new Map<string, Registered>();
  /** what ran, for the report of a failing case */
  readonly trail: string[] = [];

  constructor(readonly views: readonly ViewCase[]) {}

  /** Registers the views meant to exist before any data. */
  start(): void {
    for (const view of this.views) if (view.atStart) this.register(view);
  }

  register(view: ViewCase): void {
    const id = view.definition.id;
    this.trail.push(`registerView(${JSON.stringify(view.definition)}, ${JSON.stringify(view.params)})`);
    if (this.registered.has(id)) {
      this.expectError(() => this.circuit.registerView(view.definition, view.params), ['BAD_INPUT']);
      return;
    }
    const snapshot = this.circuit.registerView(view.definition, view.params);
    const expected = evaluateView(view.definition, this.model, view.params);
    same(snapshot.view, id, 'registered view id');
    same(snapshot.rows, expected, `initial rows of ${id}`);
    same(snapshot.hash, hashRows(expected), `initial hash of ${id}`);
    this.registered.set(id, { view, snapshot: structuredClone(snapshot) });
    this.check([], false);
  }

  unregister(view: ViewCase): void {
    const id = view.definition.id;
    this.trail.push(`unregisterView(${id})`);
    expect(this.circuit.unregisterView(id)).toBe(this.registered.has(id));
    this.registered.delete(id);
    expect(() => this.circuit.snapshot(id)).toThrow(EngineError);
    this.check([], false);
  }

  single(spec: ChangeSpec, first: boolean): void {
    const [change] = resolve(spec, this.model);
    if (change === undefined) return;
    this.trail.push(`${first ? 'ingestSingleFirst' : 'ingestSingle'}(${JSON.stringify(change)})`);
    const next = cloneModel(this.model);
    const outcome = applyToModel(next, change);
    const run = () =>
      first
        ? this.circuit.ingestSingleFirst(change.table, change.op, change.id, change.data)
        : this.circuit.ingestSingle(change.table, change.op, change.id, change.data);
    if ('codes' in outcome) return this.expectError(run, outcome.codes);
    const result = run();
    this.model = next;
    if (first) {
      this.check(result === undefined ? [] : [result as ViewUpdate], true);
    } else {
      const updates = result as readonly ViewUpdate[];
      if (!outcome.changed) expect(updates, 'a no-op returns no update').toEqual([]);
      this.check(updates, false);
    }
  }

  batch(specs: readonly ChangeSpec[]): void {
    const next = cloneModel(this.model);
    const changes: RecordChange[] = [];
    const codes: EngineErrorCode[] = [];
    for (const spec of specs) {
      for (const change of resolve(spec, next)) {
        changes.push(change);
        const outcome = applyToModel(next, change);
        if ('codes' in outcome) codes.push(...outcome.codes);
      }
    }
    this.trail.push(`ingestBatch(${JSON.stringify(changes)})`);
    if (codes.length > 0) return this.expectError(() => this.circuit.ingestBatch(changes), codes);
    const updates = this.circuit.ingestBatch(changes);
    this.model = next;
    this.check(updates, false);
  }

  /** The call throws an EngineError with one of `codes`, and nothing changes. */
  expectError(run: () => unknown, codes: readonly EngineErrorCode[]): void {
    let caught: unknown;
    try {
      run();
    } catch (error) {
      caught = error;
    }
    expect(caught, 'an error was expected').toBeInstanceOf(EngineError);
    expect(codes, 'error code').toContain((caught as EngineError).code);
    this.check([], false);
  }

  /**
   * Every registered view against the evaluator. `updates` are what the step returned; with
   * `partial` (ingestSingleFirst) they are only the first of them.
   */
  check(updates: readonly ViewUpdate[], partial: boolean): void {
    for (const table of TABLES) {
      const expected = this.model.get(table) as Map<string, Record>;
      same(sortedByKey([...this.circuit.records(table)]), sortedByKey([...expected.values()]), `records of ${table}`);
      for (const id of IDS[table]) same(this.circuit.getRecord(table, id) ?? null, expected.get(id) ?? null, `getRecord(${table}, ${id})`);
    }

    const byView = new Map(updates.map((update) => [update.view, update]));
    expect(byView.size, 'at most one update per view').toBe(updates.length);
    for (const view of byView.keys()) expect(this.registered.has(view), `update for unknown view ${view}`).toBe(true);
    let changedViews = 0;

    for (const [id, registered] of this.registered) {
      const { view, snapshot: previous } = registered;
      const expected = evaluateView(view.definition, this.model, view.params);
      const snapshot = this.circuit.snapshot(id);
      same(snapshot.rows, expected, `rows of ${id}`);
      same(snapshot.hash, hashRows(expected), `hash of ${id}`);
      const diff = difference(previous.rows, expected);
      const changed = diff.added.length + diff.removed.length + diff.updated.length > 0;
      if (changed) changedViews++;
      const update = byView.get(id);
      if (update === undefined) {
        if (changed) expect(partial, `${id} changed but has no update`).toBe(true);
        same(snapshot.version, previous.version + (changed ? 1 : 0), `version of ${id}`);
      } else {
        expect(changed, `${id} has an update but did not change`).toBe(true);
        same(update.version, previous.version + 1, `update version of ${id}`);
        same(snapshot.version, update.version, `snapshot version of ${id}`);
        same(update.hash, snapshot.hash, `update hash of ${id}`);
        same(sortedByKey(update.added), diff.added, `added of ${id}`);
        same([...update.removed].sort(), diff.removed, `removed of ${id}`);
        same(sortedByKey(update.updated), diff.updated, `updated of ${id}`);
        // and applying it to the previous result gives the new one
        const applied = byKey(previous.rows);
        for (const key of update.removed) applied.delete(key);
        for (const row of [...update.updated, ...update.added]) applied.set(keyOf(row), row);
        same(sortedByKey([...applied.values()]), sortedByKey(expected), `previous rows + update of ${id}`);
      }
      // a copy: the next step compares against what the engine showed now, whatever it does to its objects
      registered.snapshot = structuredClone(snapshot);
    }
    if (partial) expect(updates.length, 'ingestSingleFirst returns an update iff a view changed').toBe(changedViews > 0 ? 1 : 0);
  }

  run(step: Step): void {
    switch (step.kind) {
      case 'single':
        return this.single(step.change, step.first);
      case 'batch':
        return this.batch(step.changes);
      case 'register':
      case 'unregister': {
        const view = this.views[step.view % this.views.length] as ViewCase;
        return step.kind === 'register' ? this.register(view) : this.unregister(view);
      }
    }
  }
}

/** Runs the steps; a failure reports the calls that led to it. */
function runCase(views: readonly ViewCase[], steps: readonly Step[]): void {
  const world = new World(views);
  try {
    world.start();
    for (const step of steps) world.run(step);
  } catch (error) {
    throw new Error(`${(error as Error).message}\ncalls:\n  ${world.trail.join('\n  ')}`, { cause: error });
  }
}

describe('incremental views equal the plain evaluator', () => {
  it('after every ingestSingle', () => {
    fc.assert(fc.property(viewsArb, singleStepsArb, runCase), { numRuns });
  }, timeout);

  it('after every ingestBatch', () => {
    fc.assert(fc.property(viewsArb, batchStepsArb, runCase), { numRuns });
  }, timeout);
});
