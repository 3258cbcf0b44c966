import { and, count, eq, gte, like, sum } from '@tanstack/db';
import type { Row, Value, ViewDefinition } from '../../engine/index.js';
import type { ChangeKind } from './data.js';
import type { IndexedFields, TanStackQuery } from './tanstack.js';

/**
 * One view written for every system: our definition (which the Circuit maintains and the
 * plain evaluator recomputes) and the equivalent TanStack DB live query. `compare` lists the
 * paths whose values must agree between the systems; `ordered` says the row order counts.
 */
export interface ViewSpec {
  readonly def: ViewDefinition;
  readonly tanstack: TanStackQuery;
  readonly compare: readonly string[];
  readonly ordered: boolean;
  /** Fields TanStack DB gets a BTreeIndex on for this view. */
  readonly indexes: IndexedFields;
}

const POST_FIELDS = ['id', 'authorId', 'title', 'category', 'score', 'likes', 'published', 'createdAt'];

/** Published posts with at least 100 likes. */
export const filterView: ViewSpec = {
  def: { id: 'popularPublished', from: 'posts', where: { published: { eq: true }, likes: { gte: 100 } } },
  tanstack: (q, s) => q.from({ p: s.posts }).where(({ p }) => and(eq(p.published, true), gte(p.likes, 100))),
  compare: POST_FIELDS,
  ordered: false,
  indexes: { posts: ['published', 'likes'] },
};

/** The 50 posts with the highest score. */
export const topKView: ViewSpec = {
  def: { id: 'top50', from: 'posts', orderBy: [{ field: 'score', direction: 'desc' }], limit: 50 },
  tanstack: (q, s) =>
    q
      .from({ p: s.posts })
      .orderBy(({ p }) => p.score, 'desc')
      .limit(50),
  compare: POST_FIELDS,
  ordered: true,
  indexes: { posts: ['score'] },
};

/** Every post with its author's name (posts ⋈ users on authorId = id). */
export const joinView: ViewSpec = {
  def: {
    id: 'postsWithAuthor',
    from: 'posts',
    join: [{ table: 'users', as: 'author', on: { left: 'authorId', right: 'id' }, kind: 'inner' }],
    select: ['id', 'title', 'authorId', 'author.name'],
  },
  tanstack: (q, s) =>
    q
      .from({ p: s.posts })
      .innerJoin({ u: s.users }, ({ p, u }) => eq(p.authorId, u.id))
      .select(({ p, u }) => ({ id: p.id, title: p.title, authorId: p.authorId, author: { name: u.name } })),
  compare: ['id', 'title', 'authorId', 'author.name'],
  ordered: false,
  indexes: { posts: ['authorId'], users: ['id'] },
};

/** Posts per author: count and sum of likes. */
export const groupView: ViewSpec = {
  def: {
    id: 'postsPerAuthor',
    from: 'posts',
    groupBy: ['authorId'],
    aggregate: { posts: { fn: 'count' }, likes: { fn: 'sum', field: 'likes' } },
  },
  tanstack: (q, s) =>
    q
      .from({ p: s.posts })
      .groupBy(({ p }) => p.authorId)
      .select(({ p }) => ({ authorId: p.authorId, posts: count(p.id), likes: sum(p.likes) })),
  compare: ['authorId', 'posts', 'likes'],
  ordered: false,
  indexes: { posts: ['authorId'] },
};

/** Ten views of every kind on the posts table, as one application would register them. */
export const tenViews: readonly ViewSpec[] = [
  filterView,
  {
    def: { id: 'techPosts', from: 'posts', where: { category: { eq: 'tech' } } },
    tanstack: (q, s) => q.from({ p: s.posts }).where(({ p }) => eq(p.category, 'tech')),
    compare: POST_FIELDS,
    ordered: false,
    indexes: { posts: ['category'] },
  },
  {
    def: { id: 'highScore', from: 'posts', where: { score: { gte: 900_000_000 } } },
    tanstack: (q, s) => q.from({ p: s.posts }).where(({ p }) => gte(p.score, 900_000_000)),
    compare: POST_FIELDS,
    ordered: false,
    indexes: { posts: ['score'] },
  },
  topKView,
  {
    def: {
      id: 'latestNews',
      from: 'posts',
      where: { category: { eq: 'news' } },
      orderBy: [{ field: 'createdAt', direction: 'desc' }],
      limit: 20,
    },
    tanstack: (q, s) =>
      q
        .from({ p: s.posts })
        .where(({ p }) => eq(p.category, 'news'))
        .orderBy(({ p }) => p.createdAt, 'desc')
        .limit(20),
    compare: POST_FIELDS,
    ordered: true,
    indexes: { posts: ['category', 'createdAt'] },
  },
  {
    def: {
      id: 'lowestPublished',
      from: 'posts',
      where: { published: { eq: true } },
      orderBy: [{ field: 'score', direction: 'asc' }],
      limit: 10,
    },
    tanstack: (q, s) =>
      q
        .from({ p: s.posts })
        .where(({ p }) => eq(p.published, true))
        .orderBy(({ p }) => p.score, 'asc')
        .limit(10),
    compare: POST_FIELDS,
    ordered: true,
    indexes: { posts: ['published', 'score'] },
  },
  groupView,
  {
    def: {
      id: 'postsPerCategory',
      from: 'posts',
      groupBy: ['category'],
      aggregate: { posts: { fn: 'count' }, likes: { fn: 'sum', field: 'likes' } },
    },
    tanstack: (q, s) =>
      q
        .from({ p: s.posts })
        .groupBy(({ p }) => p.category)
        .select(({ p }) => ({ category: p.category, posts: count(p.id), likes: sum(p.likes) })),
    compare: ['category', 'posts', 'likes'],
    ordered: false,
    indexes: { posts: ['category'] },
  },
  {
    def: { id: 'titlePrefix', from: 'posts', where: { title: { startsWith: 'Post 12' } } },
    tanstack: (q, s) => q.from({ p: s.posts }).where(({ p }) => like(p.title, 'Post 12%')),
    compare: POST_FIELDS,
    ordered: false,
    indexes: {}, // a LIKE pattern cannot use a BTree: an index would only cost upkeep
  },
  {
    def: { id: 'hiddenGems', from: 'posts', where: { published: { eq: false }, likes: { gte: 990 } } },
    tanstack: (q, s) => q.from({ p: s.posts }).where(({ p }) => and(eq(p.published, false), gte(p.likes, 990))),
    compare: POST_FIELDS,
    ordered: false,
    indexes: { posts: ['published', 'likes'] },
  },
];

/** The union of the indexes a set of views asks for. */
export function indexesFor(views: readonly ViewSpec[]): IndexedFields {
  const posts = new Set<string>();
  const users = new Set<string>();
  for (const view of views) {
    for (const field of view.indexes.posts ?? []) posts.add(field);
    for (const field of view.indexes.users ?? []) users.add(field);
  }
  return { posts: [...posts], users: [...users] };
}

/**
 * A view's contents in a form every system can be held to: per row, the JSON of the compared
 * paths; sorted unless the view's order counts. Extra fields (TanStack DB's `$key`, ours `id`
 * on a group row) do not take part.
 */
export function normalizeRows(spec: ViewSpec, rows: readonly object[]): string[] {
  const paths = spec.compare.map((path) => path.split('.'));
  const out = rows.map((row) => JSON.stringify(paths.map((path) => read(row as Row, path))));
  return spec.ordered ? out : out.sort();
}

function read(row: Row, path: readonly string[]): Value {
  let value: unknown = row;
  for (const step of path) {
    if (value === null || typeof value !== 'object') return null;
    value = (value as { [field: string]: unknown })[step];
  }
  return value === undefined ? null : (value as Value);
}

/** The peer workloads by name, for the tools that run one alone (baseline-ab, slow-samples, profile). */
const WORKLOADS: { [id: string]: { views: readonly ViewSpec[]; kind: ChangeKind } } = {
  filter: { views: [filterView], kind: 'filter-mix' },
  topk: { views: [topKView], kind: 'score-random' },
  'topk-enter': { views: [topKView], kind: 'score-top' },
  'join-rename': { views: [joinView], kind: 'rename-user' },
  'join-move': { views: [joinView], kind: 'move-post' },
  group: { views: [groupView], kind: 'move-post' },
  'ten-views': { views: tenViews, kind: 'mixed' },
};

/** The peer workload `id`; an unknown one throws, listing them. */
export function peerWorkload(id: string): { views: readonly ViewSpec[]; kind: ChangeKind } {
  const workload = WORKLOADS[id];
  if (workload === undefined) throw new Error(`unknown workload '${id}' (${Object.keys(WORKLOADS).join(', ')})`);
  return workload;
}
