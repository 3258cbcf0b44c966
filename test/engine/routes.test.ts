import { describe, expect, it } from 'vitest';
import { EqualityLookup } from '../../engine/lookup.js';
import { type Reader, seekOf, TableRoutes } from '../../engine/routes.js';
import type { Predicate, Record, ViewDefinition } from '../../engine/types.js';
import { valueKey } from '../../engine/values.js';
import { View, type ViewInput } from '../../engine/view.js';

const reader = (definition: ViewDefinition, inputs: readonly ViewInput[] = [{ kind: 'from' }]): Reader => ({
  view: new View(definition, 0, {
    right: (definition.join ?? []).map((join) => new EqualityLookup(join.table, join.on.right, [])),
  }),
  inputs,
  stamp: 0,
});
const postsWhere = (id: string, where?: Predicate): ViewDefinition => ({
  id,
  from: 'posts',
  ...(where === undefined ? {} : { where }),
});

const post = (id: string, authorId: string, likes: number | string): Record => ({
  id,
  authorId,
  likes,
  published: true,
});

/** The views `routes` visits for a change from `before` to `after`, sorted. */
function visited(routes: TableRoutes, before: Record | undefined, after: Record | undefined): string[] {
  const ids: string[] = [];
  routes.route(before, after, (r) => ids.push(r.view.id));
  return ids.sort();
}

describe('TableRoutes', () => {
  function routesOf(...readers: Reader[]): TableRoutes {
    const routes = new TableRoutes('posts');
    for (const r of readers) routes.add(r);
    return routes;
  }

  it('sends a change only to the views filed under its value, plus the unindexed ones', () => {
    const routes = routesOf(
      reader(postsWhere('u1', { authorId: { eq: 'u1' } })),
      reader(postsWhere('u2', { authorId: { eq: 'u2' } })),
      reader(postsWhere('all')),
    );
    expect(visited(routes, undefined, post('p1', 'u1', 0))).toEqual(['all', 'u1']);
    expect(visited(routes, post('p1', 'u3', 0), undefined)).toEqual(['all']);
  });

  it('sends a change that moves a row between values to the views of both', () => {
    const routes = routesOf(
      reader(postsWhere('u1', { authorId: { eq: 'u1' } })),
      reader(postsWhere('u2', { authorId: { eq: 'u2' } })),
    );
    expect(visited(routes, post('p1', 'u1', 0), post('p1', 'u2', 0))).toEqual(['u1', 'u2']);
    expect(visited(routes, post('p1', 'u2', 0), post('p1', 'u2', 5))).toEqual(['u2']);
  });

  it('files an `in` view under each of its values and visits it once', () => {
    const routes = routesOf(reader(postsWhere('u1u2', { authorId: { in: ['u1', 'u2'] } })));
    expect(visited(routes, undefined, post('p1', 'u2', 0))).toEqual(['u1u2']);
    expect(visited(routes, post('p1', 'u1', 0), post('p1', 'u2', 0))).toEqual(['u1u2']);
    expect(visited(routes, undefined, post('p1', 'u3', 0))).toEqual([]);
  });

  it('files a view under a numeric range, visited when the old or the new value is in it', () => {
    const routes = routesOf(
      reader(postsWhere('mid', { likes: { gte: 2, lt: 5 } })),
      reader(postsWhere('high', { likes: { gt: 4 } })),
    );
    expect(visited(routes, undefined, post('p1', 'u1', 3))).toEqual(['mid']);
    // open bounds are widened to closed ones: 5 reaches both
    expect(visited(routes, undefined, post('p1', 'u1', 5))).toEqual(['high', 'mid']);
    expect(visited(routes, post('p1', 'u1', 1), post('p1', 'u1', 10))).toEqual(['high']);
    expect(visited(routes, post('p1', 'u1', 1), post('p1', 'u1', 0))).toEqual([]);
    // a string satisfies no order operator
    expect(visited(routes, undefined, post('p1', 'u1', '3'))).toEqual([]);
  });

  it('prefers an `eq` on a non-boolean over an `in`, a range or an `eq` on a boolean', () => {
    const routes = routesOf(
      reader(postsWhere('v', { published: { eq: true }, likes: { gt: 0 }, authorId: { eq: 'u1' } })),
    );
    expect(routes.indexEntries).toBe(1);
    expect(visited(routes, undefined, post('p1', 'u1', 0))).toEqual(['v']);
    expect(visited(routes, undefined, post('p1', 'u2', 3))).toEqual([]);
  });

  it('never visits a view filed under `in []`', () => {
    const routes = routesOf(reader(postsWhere('none', { authorId: { in: [] } })));
    expect(routes.size).toBe(1);
    expect(visited(routes, undefined, post('p1', 'u1', 0))).toEqual([]);
  });

  it('files only under conjuncts of `and`, not under `or` or `not`', () => {
    const routes = routesOf(
      reader(postsWhere('and', { and: [{ likes: { gt: 9 } }, { authorId: { eq: 'u1' } }] })),
      reader(postsWhere('or', { or: [{ authorId: { eq: 'u1' } }, { authorId: { eq: 'u2' } }] })),
      reader(postsWhere('not', { not: { authorId: { eq: 'u1' } } })),
    );
    expect(visited(routes, undefined, post('p1', 'u3', 0))).toEqual(['not', 'or']);
    expect(visited(routes, undefined, post('p1', 'u1', 0))).toEqual(['and', 'not', 'or']);
  });

  it('leaves a view unindexed when its filter reads a joined row, or the table enters it through a join', () => {
    const joined: ViewDefinition = {
      id: 'joined',
      from: 'posts',
      join: [{ table: 'users', as: 'author', on: { left: 'authorId', right: 'id' } }],
      where: { 'author.name': { eq: 'Ann' } },
    };
    const users = new TableRoutes('users');
    users.add(reader(joined, [{ kind: 'join', index: 0 }]));
    const posts = routesOf(reader(joined));
    expect(users.indexEntries).toBe(0);
    expect(posts.indexEntries).toBe(0);
    expect(visited(posts, undefined, post('p1', 'u1', 0))).toEqual(['joined']);
    const ann: Record = { id: 'u1', name: 'Bob' };
    const seen: string[] = [];
    users.route(undefined, ann, (r) => seen.push(r.view.id));
    expect(seen).toEqual(['joined']);
  });

  it('forgets a removed view and its index entries', () => {
    const u1 = reader(postsWhere('u1', { authorId: { eq: 'u1' } }));
    const mid = reader(postsWhere('mid', { likes: { gte: 2, lte: 4 } }));
    const all = reader(postsWhere('all'));
    const routes = routesOf(u1, mid, all);
    expect(routes.size).toBe(3);
    expect(routes.indexEntries).toBe(2);
    routes.remove(u1.view);
    routes.remove(mid.view);
    expect(visited(routes, undefined, post('p1', 'u1', 3))).toEqual(['all']);
    routes.remove(all.view);
    expect(routes.size).toBe(0);
    expect(routes.indexEntries).toBe(0);
    expect(visited(routes, undefined, post('p1', 'u1', 3))).toEqual([]);
  });
});

describe('seekOf', () => {
  it('gives the value keys of a selective `eq` or `in`, not of a boolean `eq` or a range', () => {
    expect(seekOf(postsWhere('a', { authorId: { eq: 'u1' } }))).toEqual({ path: 'authorId', values: [valueKey('u1')] });
    expect(seekOf(postsWhere('b', { authorId: { in: ['u1', 2, 'u1'] } }))).toEqual({
      path: 'authorId',
      values: [valueKey('u1'), valueKey(2)],
    });
    expect(seekOf(postsWhere('c', { published: { eq: true } }))).toBeUndefined();
    expect(seekOf(postsWhere('d', { likes: { gt: 1 } }))).toBeUndefined();
    expect(seekOf(postsWhere('e'))).toBeUndefined();
  });
});
