import fc from 'fast-check';
import type { Predicate, Value, ViewDefinition } from '../../../engine/types.js';
import type { ChangeSpec, JsonObject, Step, ViewCase } from './generators.js';

/**
 * Generators for the shared-index property: many top-k views over the one `posts` table,
 * drawn so that they share ordered indexes (the same orders, the same partitioning paths)
 * and exercise windows: ties on the sort key, offsets, filters that pass long runs of
 * rows (a rare title: a window refills through many rows it skips), hostile values
 * (`5` and `'5'`, `null` and `'null'`, missing fields) in sort and partition fields; some
 * views left-join their authors (the window sits before the join), whose changes also run.
 */

/** Forty posts: enough that a window of four skips long runs of rows failing its filter. */
const POST_IDS = Array.from({ length: 40 }, (_, i) => (i % 7 === 3 ? `p|${i}` : `p${i}`));
const AUTHORS: Value[] = ['u1', 'u2', 'u3', null, 'null', 5, '5'];
/** Mostly few values (ties), now and then another type. */
const LIKES: Value[] = [0, 1, 1, 2, 2, 3, 10, -1, 2.5, null, '2', true];
/** 'Rare' titles are one draw in twenty: a filter on them skips long runs. */
const TITLES = fc.oneof(
  { weight: 19, arbitrary: fc.constantFrom('Hello', 'World', 'hello') },
  { weight: 1, arbitrary: fc.constantFrom('Rare', 'Rarer') },
);

const dataArb: fc.Arbitrary<JsonObject> = fc.record(
  {
    authorId: fc.constantFrom(...AUTHORS),
    title: TITLES,
    published: fc.boolean(),
    likes: fc.constantFrom(...LIKES),
  },
  { requiredKeys: ['title', 'published'] },
) as fc.Arbitrary<JsonObject>;

/** Authors, joined by some views: their changes reach windows through the join. */
const userChangeArb: fc.Arbitrary<ChangeSpec> = fc.oneof(
  fc.record({
    kind: fc.constant('upsert' as const),
    table: fc.constant('users' as const),
    id: fc.constantFrom('u1', 'u2', 'null', '5'),
    data: fc.record({ name: fc.constantFrom('Ann', 'Bob'), hidden: fc.boolean() }) as fc.Arbitrary<JsonObject>,
    withId: fc.boolean(),
  }),
  fc.record({
    kind: fc.constant('delete' as const),
    table: fc.constant('users' as const),
    id: fc.constantFrom('u1', 'u2', 'null', '5'),
  }),
);

const postChangeArb: fc.Arbitrary<ChangeSpec> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('upsert' as const),
      table: fc.constant('posts' as const),
      id: fc.constantFrom(...POST_IDS),
      data: dataArb,
      withId: fc.boolean(),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('patch' as const),
      table: fc.constant('posts' as const),
      id: fc.constantFrom(...POST_IDS),
      patch: fc.record(
        { likes: fc.constantFrom(...LIKES), title: TITLES, authorId: fc.constantFrom(...AUTHORS) },
        { requiredKeys: [] },
      ) as fc.Arbitrary<JsonObject>,
      data: dataArb,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('delete' as const),
      table: fc.constant('posts' as const),
      id: fc.constantFrom(...POST_IDS),
    }),
  },
);

/** Filters: unpartitioned (`ne`, range, rare title by prefix, `or`) and partitioned (`eq` on authorId). */
const whereArb: fc.Arbitrary<ViewDefinition['where'] | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom(...LIKES).map((likes) => ({ likes: { ne: likes } })),
  fc.constantFrom(0, 1, 2).map((likes) => ({ likes: { gte: likes } })),
  fc.constantFrom('Rar', 'Rare', 'H').map((prefix) => ({ title: { startsWith: prefix } })),
  fc.constant<Predicate>({ or: [{ title: { eq: 'Rare' } }, { likes: { eq: 10 } }] }),
  fc.constantFrom(...AUTHORS).map((authorId) => ({ authorId: { eq: authorId } })),
  fc
    .tuple(fc.constantFrom(...AUTHORS), fc.constantFrom('Rar', 'W'))
    .map(([authorId, prefix]) => ({ authorId: { eq: authorId }, title: { startsWith: prefix } })),
  fc.constant({ published: { eq: true } }),
);

const orderByArb = fc.constantFrom<ViewDefinition['orderBy']>(
  undefined,
  [{ field: 'likes', direction: 'desc' }],
  [{ field: 'likes' }],
  [{ field: 'likes', direction: 'asc' }],
  [
    { field: 'likes', direction: 'desc' },
    { field: 'title', direction: 'asc' },
  ],
  [{ field: 'authorId', direction: 'desc' }],
);

const changeArb: fc.Arbitrary<ChangeSpec> = fc.oneof(
  { weight: 6, arbitrary: postChangeArb },
  { weight: 1, arbitrary: userChangeArb },
);

/** A left join on the author's id (the window stays before it), sometimes hiding some authors. */
const joinArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  {
    weight: 1,
    arbitrary: fc.boolean().map((hiding) => [
      {
        table: 'users',
        as: 'author',
        on: { left: 'authorId', right: 'id' },
        kind: 'left' as const,
        ...(hiding ? { where: { hidden: { eq: false } } } : {}),
      },
    ]),
  },
);

const viewArb = fc.record({
  join: joinArb,
  where: whereArb,
  orderBy: orderByArb,
  limit: fc.integer({ min: 1, max: 4 }),
  offset: fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 3 })),
  select: fc.oneof(fc.constant(undefined), fc.constant(['title']), fc.constant(['title', 'author.name'])),
  atStart: fc.boolean(),
});

export const sharedViewsArb: fc.Arbitrary<ViewCase[]> = fc
  .array(viewArb, { minLength: 4, maxLength: 12 })
  .map((views) =>
    views.map(({ atStart, ...spec }, i) => {
      const definition = { id: `w${i}`, from: 'posts' } as ViewDefinition;
      for (const [key, value] of Object.entries(spec))
        if (value !== undefined) Object.assign(definition, { [key]: value });
      return { definition, params: {}, atStart };
    }),
  );

export const sharedStepsArb: fc.Arbitrary<Step[]> = fc
  .tuple(
    fc.array(changeArb, { minLength: 20, maxLength: 60 }),
    fc.array(
      fc.oneof(
        { weight: 10, arbitrary: changeArb.map((change): Step => ({ kind: 'single', change, first: false })) },
        {
          weight: 2,
          arbitrary: fc
            .array(changeArb, { minLength: 1, maxLength: 6 })
            .map((changes): Step => ({ kind: 'batch', changes })),
        },
        {
          weight: 3,
          arbitrary: fc.record({
            kind: fc.constantFrom('register' as const, 'unregister' as const),
            view: fc.nat(11),
          }),
        },
      ),
      { maxLength: 60 },
    ),
  )
  .map(([seed, steps]) => [...seed.map((change): Step => ({ kind: 'single', change, first: false })), ...steps]);
