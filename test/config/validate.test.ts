import { describe, expect, test } from 'vitest';
import demo from '../../config/demo.js';
import type { AppConfig } from '../../config/types.js';
import { ConfigError, checkConfig } from '../../config/validate.js';

/** Config validation: the demo passes; each mistake is reported, all of them at once. */

function problems(config: unknown): readonly string[] {
  try {
    checkConfig(config);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

const users = { name: 'users', type: 'User', fields: { name: 'String!', active: 'Boolean!', age: 'Int' } } as const;
const posts = { name: 'posts', type: 'Post', fields: { authorId: 'ID!', likes: 'Int!' } } as const;
const withViews = (...views: unknown[]): unknown => ({ tables: [users, posts], views });

test('the demo config is valid, and its row shapes follow DESIGN §4', () => {
  const checked = checkConfig(demo);
  expect([...checked.views.keys()]).toEqual([
    'usersList',
    'usersCount',
    'activeUsers',
    'topPosts',
    'postsPerAuthor',
    'postsByAuthor',
  ]);
  const topPosts = checked.views.get('topPosts');
  expect(topPosts?.tables).toEqual(['posts', 'users']);
  expect(topPosts?.shape.get('author')).toMatchObject({ kind: 'object', table: 'users', nullable: true });
  const perAuthor = checked.views.get('postsPerAuthor');
  expect([...(perAuthor?.shape.keys() ?? [])]).toEqual(['id', 'authorId', 'posts', 'likes']);
  expect(perAuthor?.shape.get('posts')).toEqual({ kind: 'scalar', type: 'Int', nullable: false });
  expect([...(checked.views.get('usersCount')?.shape.keys() ?? [])]).toEqual(['id', 'count']);
});

describe('unknown tables and fields', () => {
  test.each([
    [{ id: 'v', from: 'comments' }, 'view "v": unknown table "comments" in from'],
    [{ id: 'v', from: 'users', where: { nme: { eq: 'x' } } }, 'view "v": unknown field "nme" in where'],
    [
      { id: 'v', from: 'users', where: { or: [{ active: { eq: true } }, { not: { agee: { gt: 3 } } }] } },
      'unknown field "agee" in where.or[1].not',
    ],
    [{ id: 'v', from: 'users', orderBy: [{ field: 'nam' }] }, 'unknown field "nam" in orderBy[0]'],
    [{ id: 'v', from: 'users', select: ['name', 'emial'] }, 'unknown field "emial" in select'],
    [{ id: 'v', from: 'posts', groupBy: ['author'] }, 'unknown field "author" in groupBy'],
    [
      { id: 'v', from: 'posts', groupBy: ['authorId'], aggregate: { s: { fn: 'sum', field: 'like' } } },
      'unknown field "like" in aggregate "s"',
    ],
    [
      { id: 'v', from: 'posts', join: [{ table: 'people', as: 'a', on: { left: 'authorId', right: 'id' } }] },
      'unknown table "people" in join[0]',
    ],
    [
      { id: 'v', from: 'posts', join: [{ table: 'users', as: 'a', on: { left: 'author', right: 'id' } }] },
      'unknown field "author" in join[0].on.left',
    ],
    [
      { id: 'v', from: 'posts', join: [{ table: 'users', as: 'a', on: { left: 'authorId', right: 'uid' } }] },
      'unknown field "uid" of table "users"',
    ],
    [
      {
        id: 'v',
        from: 'posts',
        join: [{ table: 'users', as: 'a', on: { left: 'authorId', right: 'id' } }],
        where: { 'a.nme': { eq: 'x' } },
      },
      'unknown field "a.nme" in where',
    ],
  ])('%j', (view, message) => {
    expect(problems(withViews(view)).join('\n')).toContain(message);
  });
});

test('joined and grouped fields resolve where the engine would find them', () => {
  expect(
    problems(
      withViews(
        {
          id: 'a',
          from: 'posts',
          join: [{ table: 'users', as: 'author', on: { left: 'authorId', right: 'id' } }],
          where: { 'author.active': { eq: true } },
          orderBy: [{ field: 'author.name' }],
        },
        {
          id: 'b',
          from: 'posts',
          groupBy: ['authorId'],
          aggregate: { total: { fn: 'sum', field: 'likes' } },
          orderBy: [{ field: 'total', direction: 'desc' }],
        },
        { id: 'c', from: 'users', distinct: ['active'] },
      ),
    ),
  ).toEqual([]);
});

test('type mistakes: a literal that can never match, sum of a string, an unknown field type', () => {
  expect(problems(withViews({ id: 'v', from: 'users', where: { active: { eq: 'yes' } } })).join('\n')).toContain(
    '"yes" can never match a Boolean field',
  );
  expect(
    problems(withViews({ id: 'v', from: 'users', aggregate: { s: { fn: 'sum', field: 'name' } } })).join('\n'),
  ).toContain('sum needs an Int or Float field');
  expect(problems({ tables: [{ ...users, fields: { name: 'Strin' } }], views: [] }).join('\n')).toContain(
    'tables[0].fields.name',
  );
});

test('duplicates and GraphQL name collisions', () => {
  const all = problems({
    tables: [users, { ...users }, { name: 'views2', type: 'ViewInfo', fields: {} }],
    views: [
      { id: 'list', from: 'users' },
      { id: 'list', from: 'users' },
      { id: 'user', from: 'users' },
    ],
  }).join('\n');
  expect(all).toContain('duplicate table name "users"');
  expect(all).toContain('duplicate view id "list"');
  expect(all).toContain('table "views2" and the built-in schema both produce the GraphQL name "ViewInfo"');
  expect(all).toContain('view "user" and table "users" both produce the GraphQL name "user"');
  expect(problems(withViews({ id: 'bad-name', from: 'users' })).join('\n')).toContain(
    'views[0].id: must be a GraphQL name',
  );
});

test('an unknown key, an explicit id field, a negative limit', () => {
  expect(problems(withViews({ id: 'v', from: 'users', filter: {} })).join('\n')).toMatch(/views\[0\].*filter/);
  expect(problems({ tables: [{ ...users, fields: { ...users.fields, id: 'ID!' } }], views: [] }).join('\n')).toContain(
    '"id" is implicit',
  );
  expect(problems(withViews({ id: 'v', from: 'users', limit: -1 })).join('\n')).toContain('views[0].limit');
});

test('every problem is reported at once, one line each', () => {
  const config: unknown = withViews({ id: 'a', from: 'nope' }, { id: 'b', from: 'users', orderBy: [{ field: 'x' }] });
  expect(problems(config)).toHaveLength(2);
  expect(() => checkConfig(config)).toThrow(
    /invalid config:\n {2}- view "a": unknown table "nope" in from\n {2}- view "b": unknown field "x"/,
  );
});

test('a config is plain data: the demo round-trips through JSON', () => {
  const copy = JSON.parse(JSON.stringify(demo)) as AppConfig;
  expect(checkConfig(copy).config).toEqual(demo);
});

test("a join's where is accepted (one view schema with the engine) and checked against the joined table", () => {
  const join = (where: unknown): unknown =>
    withViews({
      id: 'v',
      from: 'posts',
      join: [{ table: 'users', as: 'author', on: { left: 'authorId', right: 'id' }, where }],
    });
  expect(problems(join({ active: { eq: true } }))).toEqual([]);
  expect(problems(join({ likes: { gt: 1 } }))).toEqual([
    'view "v": unknown field "likes" in join[0].where (fields: id, name, active, age)',
  ]);
});
