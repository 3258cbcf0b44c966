import { describe, expect, it } from 'vitest';
import { evaluateView, type Tables } from '../../engine/evaluate.js';
import type { Predicate, Record, ViewDefinition } from '../../engine/types.js';

/** Small, hand-checked results of the plain evaluator (the oracle of the property tests). */

function tables(contents: { [table: string]: Record[] }): Tables {
  return new Map(Object.entries(contents).map(([name, rows]) => [name, new Map(rows.map((r) => [r.id, r]))]));
}

const data = tables({
  users: [
    { id: 'u1', name: 'Ann', age: 30, active: true, meta: { tier: 'a', tags: ['x', 'y'] } },
    { id: 'u2', name: 'Bob', age: null, active: false, meta: { tier: null, tags: [] } },
    { id: 'u3', name: 'Cy', age: 30, active: true },
  ],
  posts: [
    { id: 'p1', authorId: 'u1', title: 'Hello', likes: 5 },
    { id: 'p2', authorId: 'u1', title: 'World', likes: 2 },
    { id: 'p3', authorId: 'u9', title: 'Help', likes: 5 },
  ],
});

const view = (rest: Omit<ViewDefinition, 'id'>): ViewDefinition => ({ id: 'v', ...rest });
const ids = (definition: Omit<ViewDefinition, 'id'>): string[] =>
  evaluateView(view(definition), data).map((row) => row['id'] as string);

describe('evaluateView', () => {
  it('keys a join on id by the driving id, and any other join by the JSON array of driving and matched ids', () => {
    expect(
      evaluateView(
        view({ from: 'posts', join: [{ table: 'users', as: 'author', on: { left: 'authorId', right: 'id' } }] }),
        data,
      ),
    ).toEqual([
      { id: 'p1', authorId: 'u1', title: 'Hello', likes: 5, author: data.get('users')?.get('u1') },
      { id: 'p2', authorId: 'u1', title: 'World', likes: 2, author: data.get('users')?.get('u1') },
    ]);
    expect(
      ids({ from: 'users', join: [{ table: 'posts', as: 'post', on: { left: 'id', right: 'authorId' } }] }),
    ).toEqual(['["u1","p1"]', '["u1","p2"]']);
    expect(
      ids({
        from: 'users',
        join: [{ table: 'posts', as: 'post', on: { left: 'id', right: 'authorId' }, kind: 'left' }],
      }),
    ).toEqual(['["u1","p1"]', '["u1","p2"]', 'u2', 'u3']);
  });

  it('nests null for an unmatched left join and drops the row for an inner join', () => {
    const join = { table: 'users', as: 'author', on: { left: 'authorId', right: 'id' } };
    expect(
      evaluateView(view({ from: 'posts', join: [{ ...join, kind: 'left' }], where: { id: { eq: 'p3' } } }), data),
    ).toEqual([{ id: 'p3', authorId: 'u9', title: 'Help', likes: 5, author: null }]);
    expect(ids({ from: 'posts', join: [join], where: { 'author.name': { eq: 'Ann' } } })).toEqual(['p1', 'p2']);
  });

  it('matches join values with typed equality, and a null left value matches nothing', () => {
    const numbers = tables({
      a: [
        { id: 'a1', ref: 1 },
        { id: 'a2', ref: '1' },
        { id: 'a3', ref: null },
      ],
      b: [
        { id: 'b1', n: 1 },
        { id: 'b2', n: null },
      ],
    });
    const def = view({ from: 'a', join: [{ table: 'b', as: 'b', on: { left: 'ref', right: 'n' }, kind: 'left' }] });
    expect(evaluateView(def, numbers).map((r) => [r['id'], r['b']])).toEqual([
      ['["a1","b1"]', { id: 'b1', n: 1 }],
      ['a2', null],
      ['a3', null],
    ]);
  });

  it('groups with every aggregate, keyed by the value as a string or the JSON array', () => {
    const aggregate = {
      n: { fn: 'count' },
      total: { fn: 'sum', field: 'age' },
      mean: { fn: 'avg', field: 'age' },
      lo: { fn: 'min', field: 'name' },
      hi: { fn: 'max', field: 'age' },
    } as const;
    expect(evaluateView(view({ from: 'users', groupBy: ['age'], aggregate }), data)).toEqual([
      { id: '30', age: 30, n: 2, total: 60, mean: 30, lo: 'Ann', hi: 30 },
      { id: 'null', age: null, n: 1, total: 0, mean: null, lo: 'Bob', hi: null },
    ]);
    expect(
      evaluateView(view({ from: 'users', groupBy: ['active', 'meta.tier'], aggregate: { n: { fn: 'count' } } }), data),
    ).toEqual([
      { id: '[false,null]', active: false, meta: { tier: null }, n: 1 },
      { id: '[true,"a"]', active: true, meta: { tier: 'a' }, n: 1 },
      { id: '[true,null]', active: true, meta: { tier: null }, n: 1 },
    ]);
  });

  it('yields one global aggregate row keyed * even over an empty table', () => {
    const aggregate = {
      n: { fn: 'count' },
      s: { fn: 'sum', field: 'likes' },
      a: { fn: 'avg', field: 'likes' },
      lo: { fn: 'min', field: 'likes' },
      hi: { fn: 'max', field: 'likes' },
    } as const;
    expect(evaluateView(view({ from: 'posts', aggregate }), tables({ posts: [] }))).toEqual([
      { id: '*', n: 0, s: 0, a: null, lo: null, hi: null },
    ]);
    expect(evaluateView(view({ from: 'posts', aggregate }), data)).toEqual([
      { id: '*', n: 3, s: 12, a: 4, lo: 2, hi: 5 },
    ]);
  });

  it('distinct (and groupBy without aggregate) gives one row per value', () => {
    const expected = [
      { id: 'false', active: false },
      { id: 'true', active: true },
    ];
    expect(evaluateView(view({ from: 'users', distinct: ['active'] }), data)).toEqual(expected);
    expect(evaluateView(view({ from: 'users', groupBy: ['active'] }), data)).toEqual(expected);
  });

  it('orders by the keys, null first, then by the row key ascending', () => {
    expect(ids({ from: 'users', orderBy: [{ field: 'age' }] })).toEqual(['u2', 'u1', 'u3']);
    expect(ids({ from: 'users', orderBy: [{ field: 'age', direction: 'desc' }] })).toEqual(['u1', 'u3', 'u2']);
    expect(ids({ from: 'posts', orderBy: [{ field: 'likes', direction: 'desc' }, { field: 'title' }] })).toEqual([
      'p1',
      'p3',
      'p2',
    ]);
    expect(ids({ from: 'users', orderBy: [{ field: 'age', direction: 'desc' }], offset: 1, limit: 1 })).toEqual(['u3']);
    expect(ids({ from: 'users', offset: 1 })).toEqual(['u2', 'u3']);
    expect(ids({ from: 'users', limit: 0 })).toEqual([]);
  });

  it('selects id, the order fields and the paths, writing null where a parent is null', () => {
    const def = view({
      from: 'posts',
      join: [{ table: 'users', as: 'author', on: { left: 'authorId', right: 'id' }, kind: 'left' }],
      select: ['title', 'author.name', 'author.meta.tier'],
      orderBy: [{ field: 'likes', direction: 'desc' }],
    });
    expect(evaluateView(def, data)).toEqual([
      { id: 'p1', likes: 5, title: 'Hello', author: { name: 'Ann', meta: { tier: 'a' } } },
      { id: 'p3', likes: 5, title: 'Help', author: null },
      { id: 'p2', likes: 2, title: 'World', author: { name: 'Ann', meta: { tier: 'a' } } },
    ]);
    expect(evaluateView(view({ from: 'users', select: ['meta.tier', 'missing', 'name.first'] }), data)).toEqual([
      { id: 'u1', meta: { tier: 'a' }, missing: null, name: null },
      { id: 'u2', meta: { tier: null }, missing: null, name: null },
      { id: 'u3', meta: null, missing: null, name: null },
    ]);
  });

  it('projects a whole object and a path inside it without touching the stored record', () => {
    const def = view({
      from: 'posts',
      join: [{ table: 'users', as: 'author', on: { left: 'authorId', right: 'id' } }],
      select: ['author', 'author.meta.tags', 'author.missing'],
      where: { id: { eq: 'p1' } },
    });
    const before = structuredClone(data.get('users')?.get('u1'));
    // `author` already covers the paths below it
    expect(evaluateView(def, data)).toEqual([{ id: 'p1', author: before }]);
    expect(data.get('users')?.get('u1')).toEqual(before);
    const nested = view({ ...def, select: ['author.meta.tags', 'author.meta', 'author.missing'] });
    expect(evaluateView(nested, data)).toEqual([
      { id: 'p1', author: { meta: { tier: 'a', tags: ['x', 'y'] }, missing: null } },
    ]);
    expect(data.get('users')?.get('u1')).toEqual(before);
  });

  it('never erases an orderBy field with a path through it', () => {
    const def = view({ from: 'users', orderBy: [{ field: 'name' }], select: ['name.first', 'age'], limit: 1 });
    expect(evaluateView(def, data)).toEqual([{ id: 'u1', name: 'Ann', age: 30 }]);
  });

  it('tests every operator with typed comparisons', () => {
    const where = (predicate: Predicate): string[] => ids({ from: 'users', where: predicate });
    expect(where({ age: { eq: 30 } })).toEqual(['u1', 'u3']);
    expect(where({ age: { eq: '30' } })).toEqual([]);
    expect(where({ age: { eq: null } })).toEqual(['u2']);
    expect(where({ age: { ne: 30 } })).toEqual(['u2']);
    expect(where({ age: { lt: 31 } })).toEqual(['u1', 'u3']);
    expect(where({ age: { lte: 30, gte: 30 } })).toEqual(['u1', 'u3']);
    expect(where({ age: { gt: '1' } })).toEqual([]);
    expect(where({ name: { gt: 'B' } })).toEqual(['u2', 'u3']);
    expect(where({ active: { lt: true } })).toEqual(['u2']);
    expect(where({ name: { in: ['Ann', 'Cy', 30] } })).toEqual(['u1', 'u3']);
    expect(where({ name: { nin: ['Ann'] } })).toEqual(['u2', 'u3']);
    expect(where({ name: { contains: 'n' } })).toEqual(['u1']);
    expect(where({ 'meta.tags': { contains: 'y' } })).toEqual(['u1']);
    expect(where({ name: { startsWith: 'B' } })).toEqual(['u2']);
    expect(where({ 'meta.tier': { isNull: true } })).toEqual(['u2', 'u3']);
    expect(where({ 'meta.tier': { isNull: false } })).toEqual(['u1']);
    expect(where({ or: [{ name: { eq: 'Bob' } }, { not: { active: { eq: true } } }, { and: [] }] })).toEqual([
      'u1',
      'u2',
      'u3',
    ]);
    expect(where({ and: [{ active: { eq: true } }, { not: { name: { eq: 'Cy' } } }] })).toEqual(['u1']);
  });

  it('binds { param } operands', () => {
    const def = view({ from: 'users', where: { age: { gte: { param: 'min' } }, name: { in: { param: 'names' } } } });
    expect(evaluateView(def, data, { min: 30, names: ['Cy', 'Bob'] }).map((r) => r['id'])).toEqual(['u3']);
  });
});
