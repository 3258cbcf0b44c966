import type { Record, RecordChange } from '../../engine/index.js';

/**
 * Data and change stream of the engine benchmark: a `posts` table of N rows whose authors
 * are the rows of a small `users` table, and a realistic mix of changes to it.
 *
 * The workload keeps its own copy of the tables (the same record objects the engine holds),
 * so it can pick existing ids, build full-record updates and hand the plain evaluator the
 * final tables. Everything is seeded: two runs see the same data and the same changes.
 */

export const CATEGORIES = [
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
/** Scores are uniform in [0, SCORE_RANGE). */
export const SCORE_RANGE = 100_000;
/** Likes are uniform in [0, LIKES_RANGE). */
const LIKES_RANGE = 1_000;
const EPOCH = 1_700_000_000;

/** Shares of the change mix (see `Workload.next`). */
export const MIX = {
  /** creates and deletes, alternating so the table keeps its size */
  createDelete: 0.3,
  /** updates of one post field, by field: sort, filter, group and join keys, and plain edits */
  update: { score: 0.25, likes: 0.2, published: 0.15, category: 0.1, authorId: 0.1, title: 0.2 },
} as const;

/** mulberry32: a small, fast, seeded PRNG (public domain). */
export class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
}

export function userId(i: number): string {
  return `u${i}`;
}

export function makeUsers(count: number): Record[] {
  const rng = new Rng(7);
  return Array.from({ length: count }, (_, i) => ({
    id: userId(i),
    name: `User ${i}`,
    role: rng.pick(ROLES),
    joinedAt: EPOCH - i * 3600,
  }));
}

function makePost(seq: number, users: number, rng: Rng): Record {
  return {
    id: `p${seq}`,
    authorId: userId(rng.int(users)),
    title: `Post ${seq}`,
    category: rng.pick(CATEGORIES),
    score: rng.int(SCORE_RANGE),
    likes: rng.int(LIKES_RANGE),
    published: rng.next() < 0.7,
    createdAt: EPOCH + seq,
  };
}

export function makePosts(count: number, users: number, seed = 1): Record[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, (_, seq) => makePost(seq, users, rng));
}

export interface WorkloadOptions {
  /** Size the posts table is kept at (creates and deletes alternate around it). */
  readonly posts: number;
  /** Share of changes that update a user (name or role) instead of a post; 0 by default. */
  readonly userUpdates?: number;
  readonly seed: number;
}

export class Workload {
  /** The current tables, as the plain evaluator takes them. */
  readonly tables: ReadonlyMap<string, ReadonlyMap<string, Record>>;
  readonly #posts = new Map<string, Record>();
  readonly #users = new Map<string, Record>();
  /** Post ids, for picking one uniformly; `#slot` is each id's position. */
  readonly #postIds: string[] = [];
  readonly #slot = new Map<string, number>();
  readonly #userIds: string[];
  readonly #size: number;
  readonly #userUpdates: number;
  readonly #rng: Rng;
  #nextSeq: number;
  #edits = 0;

  constructor(data: { posts: readonly Record[]; users: readonly Record[] }, options: WorkloadOptions) {
    for (const user of data.users) this.#users.set(user.id, user);
    for (const post of data.posts) this.#addPost(post);
    this.#userIds = [...this.#users.keys()];
    this.#size = options.posts;
    this.#userUpdates = options.userUpdates ?? 0;
    this.#rng = new Rng(options.seed);
    this.#nextSeq = data.posts.length;
    this.tables = new Map([
      ['posts', this.#posts],
      ['users', this.#users],
    ]);
  }

  /** The next change, already applied to the workload's tables (apply it to the engine too). */
  next(): RecordChange {
    const rng = this.#rng;
    if (this.#userUpdates > 0 && rng.next() < this.#userUpdates) return this.updateUser();
    if (rng.next() < MIX.createDelete) {
      if (this.#postIds.length >= this.#size) {
        const id = this.#randomPostId();
        this.#removePost(id);
        return { table: 'posts', op: 'DELETE', id };
      }
      const post = makePost(this.#nextSeq++, this.#userIds.length, rng);
      this.#addPost(post);
      return { table: 'posts', op: 'CREATE', id: post.id, data: post };
    }
    const id = this.#randomPostId();
    const old = this.#posts.get(id) as Record;
    const updated = this.#updatePost(old);
    this.#posts.set(id, updated);
    return { table: 'posts', op: 'UPDATE', id, data: updated };
  }

  /** `count` changes, generated ahead (each applied to the workload's tables in order). */
  take(count: number): RecordChange[] {
    return Array.from({ length: count }, () => this.next());
  }

  /** A copy of `old` with one field changed, by the shares of `MIX.update`. */
  #updatePost(old: Record): Record {
    const rng = this.#rng;
    let roll = rng.next();
    const shares = MIX.update;
    if ((roll -= shares.score) < 0) return { ...old, score: other(old.score, () => rng.int(SCORE_RANGE)) };
    if ((roll -= shares.likes) < 0) return { ...old, likes: other(old.likes, () => rng.int(LIKES_RANGE)) };
    if ((roll -= shares.published) < 0) return { ...old, published: !old.published };
    if ((roll -= shares.category) < 0) return { ...old, category: other(old.category, () => rng.pick(CATEGORIES)) };
    if ((roll -= shares.authorId) < 0) return { ...old, authorId: other(old.authorId, () => rng.pick(this.#userIds)) };
    return { ...old, title: `${String(old.title).replace(/ \(edit \d+\)$/, '')} (edit ${++this.#edits})` };
  }

  /** Renames a user (70%) or changes their role (30%): reaches the views through their joins. */
  updateUser(): RecordChange {
    const rng = this.#rng;
    const id = rng.pick(this.#userIds);
    const old = this.#users.get(id) as Record;
    const updated =
      rng.next() < 0.7
        ? { ...old, name: `User ${id.slice(1)} v${++this.#edits}` }
        : { ...old, role: other(old.role, () => rng.pick(ROLES)) };
    this.#users.set(id, updated);
    return { table: 'users', op: 'UPDATE', id, data: updated };
  }

  #randomPostId(): string {
    return this.#postIds[this.#rng.int(this.#postIds.length)] as string;
  }

  #addPost(post: Record): void {
    this.#posts.set(post.id, post);
    this.#slot.set(post.id, this.#postIds.length);
    this.#postIds.push(post.id);
  }

  #removePost(id: string): void {
    this.#posts.delete(id);
    const slot = this.#slot.get(id) as number;
    const last = this.#postIds.pop() as string;
    if (last !== id) {
      this.#postIds[slot] = last;
      this.#slot.set(last, slot);
    }
    this.#slot.delete(id);
  }
}

/** A fresh value different from `current` (so an update is never a no-op). */
function other<T>(current: unknown, draw: () => T): T {
  for (;;) {
    const value = draw();
    if (value !== current) return value;
  }
}
