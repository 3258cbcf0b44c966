import type { Record } from '../../engine/index.js';
import { Rng } from '../engine/workload.js';

/**
 * Seeded data and change streams shared by the peer, scale and memory benchmarks.
 *
 * A `posts` table of N rows whose `authorId` points into a `users` table of U rows. Every
 * number a view sorts or sums is an integer, so each system (our engine, TanStack DB, the
 * plain evaluator) computes bit-identical sums whatever order it adds in, and the contents
 * check at the end of a workload can demand exact equality.
 */

export interface Post {
  readonly id: string;
  readonly authorId: string;
  readonly title: string;
  readonly category: string;
  /** uniform integer in [0, SCORE_RANGE): ties are rare, so orderings hardly depend on tie-breaks */
  readonly score: number;
  /** uniform integer in [0, LIKES_RANGE) */
  readonly likes: number;
  readonly published: boolean;
  /** unique, increasing with the post's sequence number */
  readonly createdAt: number;
  readonly [field: string]: string | number | boolean;
}

export interface User {
  readonly id: string;
  readonly name: string;
  readonly role: string;
  readonly [field: string]: string | number | boolean;
}

const CATEGORIES = [
  'news',
  'tech',
  'sports',
  'music',
  'travel',
  'food',
  'science',
  'games',
  'art',
  'health',
  'business',
  'film',
];
const ROLES = ['member', 'member', 'member', 'editor', 'admin'];
export const SCORE_RANGE = 1_000_000_000;
const LIKES_RANGE = 1_000;
const EPOCH = 1_700_000_000;

// The engine benchmark's seeded PRNG, so both benchmarks draw the same way.
export { Rng };

export const userId = (i: number): string => `u${i}`;
const postId = (seq: number): string => `p${seq}`;

function makeUser(i: number, rng: Rng): User {
  return { id: userId(i), name: `User ${i}`, role: rng.pick(ROLES) };
}

export function makeUsers(count: number, seed = 7): User[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, (_, i) => makeUser(i, rng));
}

function makePost(seq: number, users: number, rng: Rng): Post {
  return {
    id: postId(seq),
    authorId: userId(rng.int(users)),
    title: `Post ${seq}`,
    category: rng.pick(CATEGORIES),
    score: rng.int(SCORE_RANGE),
    likes: rng.int(LIKES_RANGE),
    published: rng.next() < 0.7,
    createdAt: EPOCH + seq,
  };
}

export function makePosts(count: number, users: number, seed = 1): Post[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, (_, seq) => makePost(seq, users, rng));
}

type ChangeOp = 'CREATE' | 'UPDATE' | 'DELETE';

/** One record change: `data` is the full new record (absent for a delete), `before` the old one. */
export interface TableChange {
  readonly table: 'posts' | 'users';
  readonly op: ChangeOp;
  readonly id: string;
  readonly data?: Post | User;
  readonly before?: Post | User;
}

/** Kinds of change a stream produces (see `ChangeStream.next`). */
export type ChangeKind =
  /** insert, update (likes, published or title), delete, in turn: the table keeps its size */
  | 'filter-mix'
  /** a random post gets a random new score (it rarely enters or leaves a top-k window) */
  | 'score-random'
  /** a random post gets a score above every other one (it always enters the window) */
  | 'score-top'
  /** a random user gets a new name (every post of theirs changes in a join) */
  | 'rename-user'
  /** a random post gets another author (moves between join matches and groups) */
  | 'move-post'
  /** creates and deletes (30 %) and updates of every post field (70 %) */
  | 'mixed';

/**
 * A generator of valid changes: it keeps its own copy of the tables, so every change it
 * returns applies cleanly to any system that started from the same data and applied the
 * same earlier changes in the same order.
 */
export class ChangeStream {
  readonly posts = new Map<string, Post>();
  readonly users = new Map<string, User>();
  readonly #postIds: string[] = [];
  readonly #slot = new Map<string, number>();
  /** author id → ids of their posts, for changes scoped to some authors */
  readonly #byAuthor = new Map<string, Set<string>>();
  readonly #userIds: string[];
  readonly #size: number;
  readonly #rng: Rng;
  #nextSeq: number;
  #step = 0;
  #topScore = SCORE_RANGE;
  #rename = 0;
  /** When set, changes touch only posts of the first `#scope` users, and move posts among them. */
  #scope: number | undefined;

  constructor(data: { posts: readonly Post[]; users: readonly User[] }, seed: number) {
    for (const user of data.users) this.users.set(user.id, user);
    for (const post of data.posts) this.#addPost(post);
    this.#userIds = [...this.users.keys()];
    this.#size = data.posts.length;
    this.#rng = new Rng(seed);
    this.#nextSeq = data.posts.length;
  }

  take(kind: ChangeKind, count: number): TableChange[] {
    return Array.from({ length: count }, () => this.next(kind));
  }

  /**
   * Restricts the following changes to the posts of the first `authors` users (created posts
   * get one of them as author; moved posts move among them); undefined lifts the restriction.
   */
  scope(authors: number | undefined): this {
    this.#scope = authors;
    return this;
  }

  next(kind: ChangeKind): TableChange {
    const rng = this.#rng;
    this.#step++;
    switch (kind) {
      case 'filter-mix': {
        const turn = this.#step % 3;
        if (turn === 0 || (turn === 2 && this.#postIds.length < this.#size)) return this.#create();
        if (turn === 2) return this.#delete();
        return this.#updatePost((old) => {
          const roll = rng.int(3);
          if (roll === 0) return { ...old, likes: other(old.likes, () => rng.int(LIKES_RANGE)) };
          if (roll === 1) return { ...old, published: !old.published };
          return { ...old, title: `${old.title}!` };
        });
      }
      case 'score-random':
        return this.#updatePost((old) => ({ ...old, score: other(old.score, () => rng.int(SCORE_RANGE)) }));
      case 'score-top':
        return this.#updatePost((old) => ({ ...old, score: this.#topScore++ }));
      case 'rename-user': {
        const id = rng.pick(this.#userIds);
        const before = this.users.get(id) as User;
        const data: User = { ...before, name: `User ${id.slice(1)} #${++this.#rename}` };
        this.users.set(id, data);
        return { table: 'users', op: 'UPDATE', id, data, before };
      }
      case 'move-post':
        return this.#updatePost((old) => ({ ...old, authorId: other(old.authorId, () => this.#randomAuthor()) }));
      case 'mixed': {
        if (rng.next() < 0.3) return this.#postIds.length >= this.#size ? this.#delete() : this.#create();
        return this.#updatePost((old) => {
          const roll = rng.next();
          if (roll < 0.25) return { ...old, score: other(old.score, () => rng.int(SCORE_RANGE)) };
          if (roll < 0.45) return { ...old, likes: other(old.likes, () => rng.int(LIKES_RANGE)) };
          if (roll < 0.6) return { ...old, published: !old.published };
          if (roll < 0.7) return { ...old, category: other(old.category, () => rng.pick(CATEGORIES)) };
          if (roll < 0.8 && (this.#scope ?? this.#userIds.length) > 1)
            return { ...old, authorId: other(old.authorId, () => this.#randomAuthor()) };
          return { ...old, title: `${old.title}!` };
        });
      }
    }
  }

  #create(): TableChange {
    const post = makePost(this.#nextSeq++, this.#scope ?? this.#userIds.length, this.#rng);
    this.#addPost(post);
    return { table: 'posts', op: 'CREATE', id: post.id, data: post };
  }

  #delete(): TableChange {
    const id = this.#randomPostId();
    if (id === undefined) return this.#create();
    const before = this.posts.get(id) as Post;
    this.#removePost(id);
    return { table: 'posts', op: 'DELETE', id, before };
  }

  #updatePost(change: (old: Post) => Post): TableChange {
    const id = this.#randomPostId();
    if (id === undefined) return this.#create();
    const before = this.posts.get(id) as Post;
    const data = change(before);
    if (data.authorId !== before.authorId) {
      this.#authorPosts(before.authorId).delete(id);
      this.#authorPosts(data.authorId).add(id);
    }
    this.posts.set(id, data);
    return { table: 'posts', op: 'UPDATE', id, data, before };
  }

  /** A random post id (of an author in scope, when scoped); undefined when there is none. */
  #randomPostId(): string | undefined {
    if (this.#scope === undefined) return this.#postIds[this.#rng.int(this.#postIds.length)];
    for (let attempt = 0; attempt < 8; attempt++) {
      const posts = this.#byAuthor.get(userId(this.#rng.int(this.#scope)));
      if (posts === undefined || posts.size === 0) continue;
      let index = this.#rng.int(posts.size);
      for (const id of posts) if (index-- === 0) return id;
    }
    return undefined;
  }

  #randomAuthor(): string {
    return this.#scope === undefined ? this.#rng.pick(this.#userIds) : userId(this.#rng.int(this.#scope));
  }

  #authorPosts(author: string): Set<string> {
    let posts = this.#byAuthor.get(author);
    if (posts === undefined) this.#byAuthor.set(author, (posts = new Set()));
    return posts;
  }

  #addPost(post: Post): void {
    this.#authorPosts(post.authorId).add(post.id);
    this.posts.set(post.id, post);
    this.#slot.set(post.id, this.#postIds.length);
    this.#postIds.push(post.id);
  }

  #removePost(id: string): void {
    const at = this.#slot.get(id) as number;
    const last = this.#postIds.pop() as string;
    if (last !== id) {
      this.#postIds[at] = last;
      this.#slot.set(last, at);
    }
    this.#slot.delete(id);
    this.#byAuthor.get((this.posts.get(id) as Post).authorId)?.delete(id);
    this.posts.delete(id);
  }
}

/** A fresh value different from `current` (so an update is never a no-op). */
function other<T>(current: T, draw: () => T): T {
  for (let i = 0; i < 100; i++) {
    const value = draw();
    if (value !== current) return value;
  }
  throw new Error('could not draw a different value');
}

/** Records as the engine's types see them. */
export const asRecord = (row: Post | User): Record => row as unknown as Record;
