import fc from 'fast-check';
import type { JoinDefinition, Value, ViewDefinition, ViewParams } from '../../../engine/types.js';

/**
 * The property test's generators: records from small id and value pools (so that changes
 * collide and filters match), views drawn from every feature of DESIGN §3.2, and step
 * sequences (changes, registrations, unregistrations). Nothing here runs the engine.
 */

// ---------------------------------------------------------------- data

export type JsonObject = { [field: string]: Value };
export type Table = 'users' | 'posts' | 'comments';
export const TABLES: readonly Table[] = ['users', 'posts', 'comments'];
export const IDS: { [table in Table]: readonly string[] } = {
  // hostile ids: `x|y` + `z` and `x` + `y|z` would collide under a `left|right` join key;
  // `null`, `5` and JSON-looking ids next to the values they spell
  users: ['u1', 'x', 'x|y', 'null', '5', 'a"*\u0000'],
  posts: ['p1', 'z', 'y|z', 'true', '[1]'],
  comments: ['c1', 'c2', '"c3"', 'c|4'],
};

// The values each field takes; the pools are small so that filters match and sort keys tie.
// Some fields mix `null` with `"null"` and `5` with `"5"`: group keys must still differ.
const NAMES = ['Ann', 'Bob', 'Cy', 'ann', 'Bo'];
const EMAILS = ['a@x', 'b@y'];
const ROLES = ['user', 'admin', 'guest'];
const AGES = [null, 20, 30, 41.5];
const TIERS = ['a', 'null', null, 5, '5', true, 'true'];
const TAGS = ['x', 'y', 'z'];
const AUTHOR_IDS = [...IDS.users, 'u9', null];
const TITLES = ['Hello', 'Help', 'World', 'hello'];
const LIKES = [0, 1, 5, 10];
const POST_IDS = [...IDS.posts, 'p9'];
const USER_IDS = IDS.users.slice(0, 3);
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

const FIELDS_OF: { [table in Table]: Field[] } = {
  users: userFields(''),
  posts: postFields(''),
  comments: commentFields(''),
};

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
  // on a non-id field: keys encode user and post
  {
    from: 'users',
    joins: [join('posts', 'post', 'id', 'authorId')],
    fields: [...userFields(''), ...postFields('post.')],
    extra: ['post'],
  },
  // two joins, the second keyed on a path of the first
  {
    from: 'comments',
    joins: [join('posts', 'post', 'postId', 'id'), join('users', 'author', 'post.authorId', 'id')],
    fields: [...commentFields(''), ...postFields('post.'), ...userFields('author.')],
    extra: ['post', 'author.meta'],
  },
  // two joins, the second on a non-id field: keys encode post and comment
  {
    from: 'posts',
    joins: [join('users', 'author', 'authorId', 'id'), join('comments', 'comment', 'id', 'postId')],
    fields: [...postFields(''), ...userFields('author.'), ...commentFields('comment.')],
    extra: ['comment'],
  },
  // many-to-many on numbers (null scores match nothing): keys encode comment and post
  {
    from: 'comments',
    joins: [join('posts', 'post', 'score', 'likes')],
    fields: [...commentFields(''), ...postFields('post.')],
    extra: [],
  },
];

/** An operand to be passed as a `{ param }` at registration. */
class Param {
  constructor(readonly value: Value) {}
}

/** Mostly a value the field takes; sometimes a value between them, null, or another type. */
function operandArb([, kind, pool]: Field): fc.Arbitrary<Value> {
  const between: Value[] =
    kind === 'num' ? [25, -1] : kind === 'str' ? ['B', 'b', ''] : kind === 'tags' ? [['x', 'z']] : [];
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
    .oneof(
      { weight: 3, arbitrary: fc.constantFrom(...OPS).map((op) => [op]) },
      { weight: 1, arbitrary: fc.uniqueArray(fc.constantFrom(...OPS), { minLength: 2, maxLength: 2 }) },
    )
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
      {
        weight: 1,
        arbitrary: fc.uniqueArray(fc.constantFrom(...fields), {
          minLength: 2,
          maxLength: 2,
          selector: ([path]) => path,
        }),
      },
    )
    .chain((chosen) =>
      fc.tuple(...chosen.map((field) => fieldFilterArb(field).map((filter) => [field[0], filter] as const))),
    )
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

/** `arb` in `present` cases out of ten, else undefined. */
const sometimes = <T>(arb: fc.Arbitrary<T>, present: number): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: present, arbitrary: arb }, { weight: 10 - present, arbitrary: fc.constant(undefined) });

/** orderBy, select, limit and offset over the paths of the rows they see. */
const tailArb = (paths: readonly string[], selectable: readonly string[]) =>
  fc
    .record({
      orderBy: sometimes(orderByArb(paths), 6),
      select: sometimes(fc.shuffledSubarray([...selectable]), 5),
      limit: sometimes(
        fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 6, arbitrary: fc.integer({ min: 1, max: 4 }) }),
        5,
      ),
      offset: sometimes(fc.integer({ min: 1, max: 2 }), 3),
    })
    // offset 0 is the default; write it now and then
    .map((tail) => (tail.offset === undefined && tail.limit === 2 ? { ...tail, offset: 0 } : tail));

const AGGREGATE_FNS = ['count', 'sum', 'avg', 'min', 'max'] as const;

/** One to three aggregates named a0, a1, a2 (never a group field's name). */
const aggregatesArb = (fields: readonly Field[]) =>
  fc
    .array(
      fc.record(
        { fn: fc.constantFrom(...AGGREGATE_FNS), field: fc.constantFrom(...fields.map(([path]) => path)) },
        { requiredKeys: ['fn'] },
      ),
      { minLength: 1, maxLength: 3 },
    )
    .map((list) => Object.fromEntries(list.map((aggregate, i) => [`a${i}`, aggregate])))
    // every function but count needs a field
    .map((aggregates) =>
      Object.fromEntries(
        Object.entries(aggregates).map(([alias, a]) => [
          alias,
          a.fn !== 'count' && a.field === undefined ? { ...a, field: fields[0]?.[0] } : a,
        ]),
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

export interface ViewCase {
  definition: ViewDefinition;
  params: ViewParams;
  /** registered before any data exists, else only by a `register` step */
  atStart: boolean;
}

const viewSpecArb = fc.constantFrom(...SHAPES).chain((shape) =>
  fc
    .record(
      {
        kinds: fc.array(fc.constantFrom('inner', 'left', undefined), {
          minLength: shape.joins.length,
          maxLength: shape.joins.length,
        }),
        // a join's own filter over the joined table's fields (row-level read rules)
        joinWheres: fc.tuple(...shape.joins.map((j) => sometimes(predicateArb(FIELDS_OF[j.table as Table], 1), 2))),
        where: predicateArb(shape.fields),
        body: bodyArb(shape),
        atStart: fc.boolean(),
      },
      { requiredKeys: ['kinds', 'joinWheres', 'body', 'atStart'] },
    )
    .map(({ kinds, joinWheres, where, body, atStart }) => ({
      spec: {
        from: shape.from,
        ...(shape.joins.length > 0
          ? { join: shape.joins.map((j, i) => ({ ...j, kind: kinds[i], where: joinWheres[i] })) }
          : {}),
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

export const viewsArb = fc
  .array(viewSpecArb, { minLength: 1, maxLength: 4 })
  .map((specs) => specs.map(({ spec, atStart }, i) => makeViewCase(i, spec, atStart)));

// ---------------------------------------------------------------- changes

/** A change as generated; it becomes a `RecordChange` against the state when it runs. */
export type ChangeSpec =
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
    {
      weight: 8,
      arbitrary: fc.record({ kind: fc.constant('upsert' as const), table: t, id, data, withId: fc.boolean() }),
    },
    // raw creates and updates, which collide (CONFLICT, NOT_FOUND) on the small id pools
    {
      weight: batch ? 1 : 2,
      arbitrary: fc.record({
        kind: fc.constantFrom('create' as const, 'update' as const),
        table: t,
        id,
        data,
        withId: fc.boolean(),
      }),
    },
    {
      weight: 4,
      arbitrary: fc.record({ kind: fc.constant('patch' as const), table: t, id, patch: patchArb(table), data }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), table: t, id }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('same' as const), table: t, id }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('bad' as const),
        table: t,
        id,
        op: fc.constantFrom('CREATE' as const, 'UPDATE' as const),
        bad: fc.constantFrom(...BAD_KINDS),
      }),
    },
  ];
  if (batch) {
    arbitraries.push(
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('createDelete' as const), table: t, id, data }) },
      {
        weight: 2,
        arbitrary: fc.record({ kind: fc.constant('updateTwice' as const), table: t, id, data, data2: data }),
      },
    );
  }
  return fc.oneof(...arbitraries);
}

const anyChangeArb = (batch: boolean) => fc.oneof(...TABLES.map((table) => changeArb(table, batch)));

// ---------------------------------------------------------------- steps

export type Step =
  | { kind: 'single'; change: ChangeSpec; first: boolean }
  | { kind: 'batch'; changes: ChangeSpec[] }
  | { kind: 'register' | 'unregister'; view: number };

const viewStepArb: fc.Arbitrary<Step> = fc.record({
  kind: fc.constantFrom('register' as const, 'unregister' as const),
  view: fc.nat(3),
});

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

export const singleStepsArb: fc.Arbitrary<Step[]> = fc
  .tuple(
    seedArb,
    fc.array(
      fc.oneof(
        {
          weight: 14,
          arbitrary: fc.record({
            kind: fc.constant('single' as const),
            change: anyChangeArb(false),
            first: fc.constant(false),
          }),
        },
        {
          weight: 1,
          arbitrary: fc.record({
            kind: fc.constant('single' as const),
            change: anyChangeArb(false),
            first: fc.constant(true),
          }),
        },
        { weight: 2, arbitrary: viewStepArb },
      ),
      { maxLength: 30, size: 'max' },
    ),
  )
  .map(([seed, steps]) => [...seed.map((change): Step => ({ kind: 'single', change, first: false })), ...steps]);

export const batchStepsArb: fc.Arbitrary<Step[]> = fc
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
