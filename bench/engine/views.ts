import type { Predicate, ViewDefinition } from '../../engine/index.js';
import { CATEGORIES, SCORE_RANGE, userId } from './workload.js';

/** The view sets of the engine benchmark's three cases, over the tables of `workload.ts`. */

const authorJoin = { table: 'users', as: 'author', on: { left: 'authorId', right: 'id' }, kind: 'left' } as const;

/** (a) One filter view: published posts in the top 10% by score (~7% of the table). */
export function oneFilterView(): ViewDefinition[] {
  return [{ id: 'hotPublished', from: 'posts', where: { published: { eq: true }, score: { gte: 90_000 } } }];
}

/** (b) Ten views mixing filter, top-k, join and group-by, as a feed page would. */
export function tenMixedViews(): ViewDefinition[] {
  return [
    // filters
    { id: 'trending', from: 'posts', where: { published: { eq: true }, score: { gte: 99_000 } } },
    { id: 'popularNewsScience', from: 'posts', where: { category: { in: ['news', 'science'] }, likes: { gte: 990 } } },
    // top-k (orderBy + limit)
    { id: 'top50ByScore', from: 'posts', orderBy: [{ field: 'score', direction: 'desc' }], limit: 50 },
    {
      id: 'latestPublished',
      from: 'posts',
      where: { published: { eq: true } },
      orderBy: [{ field: 'createdAt', direction: 'desc' }],
      limit: 20,
    },
    {
      id: 'techPage2',
      from: 'posts',
      where: { category: { eq: 'tech' } },
      orderBy: [
        { field: 'likes', direction: 'desc' },
        { field: 'score', direction: 'asc' },
      ],
      limit: 10,
      offset: 10,
    },
    // joins: posts → users, left join on authorId = id
    {
      id: 'hotWithAuthor',
      from: 'posts',
      join: [authorJoin],
      where: { score: { gte: 99_000 } },
      select: ['title', 'score', 'author.name'],
    },
    {
      id: 'adminPicks',
      from: 'posts',
      join: [authorJoin],
      where: { published: { eq: true }, 'author.role': { eq: 'admin' } },
      orderBy: [{ field: 'likes', direction: 'desc' }],
      limit: 25,
      select: ['title', 'likes', 'author.name'],
    },
    // group-by / aggregates
    {
      id: 'postsPerAuthor',
      from: 'posts',
      groupBy: ['authorId'],
      aggregate: { posts: { fn: 'count' }, likes: { fn: 'sum', field: 'likes' } },
    },
    {
      id: 'categoryStats',
      from: 'posts',
      groupBy: ['category', 'published'],
      aggregate: {
        posts: { fn: 'count' },
        totalScore: { fn: 'sum', field: 'score' },
        best: { fn: 'max', field: 'score' },
      },
    },
    {
      id: 'totals',
      from: 'posts',
      aggregate: {
        posts: { fn: 'count' },
        likes: { fn: 'sum', field: 'likes' },
        avgScore: { fn: 'avg', field: 'score' },
      },
    },
  ];
}

/** How many kinds of predicate `manyFilterViews` cycles through (view i is of kind i % KINDS). */
export const FILTER_VIEW_KINDS = 8;

/**
 * (c) `count` filter views on posts, as many subscribers each watching their own slice:
 * eight kinds of predicate (eq, ranges, in, or, not, startsWith, ne), each with its own
 * constants, so no two views are the same. Each selects ~0.01–1% of the table.
 */
export function manyFilterViews(count: number, users: number): ViewDefinition[] {
  return Array.from({ length: count }, (_, i) => ({ id: `f${i}`, from: 'posts', where: filterPredicate(i, users) }));
}

function filterPredicate(i: number, users: number): Predicate {
  const round = Math.floor(i / FILTER_VIEW_KINDS);
  const category = CATEGORIES[i % CATEGORIES.length] as string;
  const author = (k: number): string => userId((i + k * 37) % users);
  switch (i % FILTER_VIEW_KINDS) {
    case 0: // an author's published posts
      return { authorId: { eq: author(0) }, published: { eq: true } };
    case 1: // a score band
      return { score: { gte: (round * 797) % (SCORE_RANGE - 100), lt: ((round * 797) % (SCORE_RANGE - 100)) + 100 } };
    case 2: // well-liked posts in a category
      return { category: { eq: category }, likes: { gte: 950 + (round % 40) } };
    case 3: // top scores, or an exact like count in a category
      return {
        or: [
          { score: { gte: SCORE_RANGE - 100 + (round % 90) } },
          { likes: { eq: round % 1000 }, category: { eq: category } },
        ],
      };
    case 4: // a few authors' best posts
      return { authorId: { in: [author(0), author(1), author(2)] }, score: { gte: 90_000 + (round % 50) * 100 } };
    case 5: // title prefix search
      return { title: { startsWith: `Post ${1000 + ((round * 7919) % 9000)}` } };
    case 6: // unpublished low-score drafts in a category
      return {
        and: [
          { not: { published: { eq: true } } },
          { category: { eq: category } },
          { score: { lt: 1_000 + round * 10 } },
        ],
      };
    default: // barely liked published posts, except one author's
      return { likes: { lt: 2 + (round % 3) }, published: { eq: true }, authorId: { ne: author(0) } };
  }
}
