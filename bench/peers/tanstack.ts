import {
  BTreeIndex,
  type Collection,
  createCollection,
  createLiveQueryCollection,
  type InitialQueryBuilder,
  type QueryBuilder,
} from '@tanstack/db';
import type { Post, TableChange, User } from './data.js';

/**
 * TanStack DB (`@tanstack/db`, its differential-dataflow live queries) set up in its best
 * documented configuration for a server-fed store:
 *
 * - Each table is a collection fed by a sync adapter (`begin` / `write` / `commit`, with
 *   `rowUpdateMode: 'full'`), which is how TanStack DB receives changes from a backend.
 *   Measured here, this path is faster than optimistic `collection.update(...)` on a
 *   local-only collection (no transaction bookkeeping), and its live queries update
 *   synchronously inside `commit()`.
 * - A `BTreeIndex` on every field a view filters, sorts, joins or groups on
 *   (`collection.createIndex(r => r.field, { indexType: BTreeIndex })`), as DESIGN §7 asks.
 * - One live query collection per view, preloaded, with a `subscribeChanges` listener, so
 *   the benchmark can tell when a change has become observable.
 */

export type Sources = { readonly posts: Collection<Post, string>; readonly users: Collection<User, string> };
/** Builds a view's live query over the sources. */
// biome-ignore lint/suspicious/noExplicitAny: TanStack's query builder is typed by the query it builds
export type TanStackQuery = (q: InitialQueryBuilder, sources: Sources) => QueryBuilder<any>;
export type IndexedFields = { readonly posts?: readonly string[]; readonly users?: readonly string[] };

interface Writer {
  begin(): void;
  write(message: { type: 'insert' | 'update' | 'delete'; value: object; key?: string }): void;
  commit(): void;
}

let instances = 0;

/** A table as a TanStack DB collection with a sync adapter we drive by hand. */
function syncedCollection<T extends { id: string }>(
  name: string,
  rows: readonly T[],
): { collection: Collection<T, string>; writer: Writer } {
  let writer: Writer | undefined;
  const collection = createCollection<T, string>({
    id: `${name}-${++instances}`,
    getKey: (row) => row.id,
    startSync: true,
    gcTime: 0,
    sync: {
      rowUpdateMode: 'full',
      sync: ({ begin, write, commit, markReady }) => {
        writer = { begin, write: write as Writer['write'], commit };
        begin();
        for (const row of rows) write({ type: 'insert', value: row });
        commit();
        markReady();
      },
    },
  });
  if (writer === undefined) throw new Error('TanStack DB did not start the sync adapter synchronously');
  return { collection, writer };
}

export class TanStackSystem {
  readonly #sources: Sources;
  readonly #writers: { posts: Writer; users: Writer };
  // biome-ignore lint/suspicious/noExplicitAny: each view's row type differs
  readonly #views = new Map<string, Collection<any, any>>();
  readonly #unsubscribe: (() => void)[] = [];
  /** Incremented by every view's change listener. */
  notifications = 0;
  /** Changes whose effect became visible only after awaiting a microtask. */
  deferred = 0;

  private constructor(posts: readonly Post[], users: readonly User[], indexes: IndexedFields) {
    const p = syncedCollection<Post>('posts', posts);
    const u = syncedCollection<User>('users', users);
    this.#sources = { posts: p.collection, users: u.collection };
    this.#writers = { posts: p.writer, users: u.writer };
    for (const field of new Set(indexes.posts ?? []))
      p.collection.createIndex((row) => row[field], { indexType: BTreeIndex });
    for (const field of new Set(indexes.users ?? []))
      u.collection.createIndex((row) => row[field], { indexType: BTreeIndex });
  }

  /** Loads the tables (each row copied: TanStack DB owns its own objects), indexes, then the views. */
  static async create(
    data: { posts: readonly Post[]; users: readonly User[] },
    views: readonly { id: string; tanstack: TanStackQuery }[],
    indexes: IndexedFields,
  ): Promise<TanStackSystem> {
    const system = new TanStackSystem(
      data.posts.map((row) => ({ ...row })),
      data.users.map((row) => ({ ...row })),
      indexes,
    );
    for (const view of views) {
      const live = createLiveQueryCollection({
        query: (q: InitialQueryBuilder) => view.tanstack(q, system.#sources),
        startSync: true,
        gcTime: 0,
      });
      await live.preload();
      const subscription = live.subscribeChanges(() => system.notifications++);
      system.#unsubscribe.push(() => subscription.unsubscribe());
      system.#views.set(view.id, live);
    }
    return system;
  }

  /** Applies one change through the sync adapter; the live queries update inside `commit()`. */
  apply(change: TableChange): void {
    const writer = this.#writers[change.table];
    writer.begin();
    if (change.op === 'DELETE') writer.write({ type: 'delete', key: change.id, value: change.before as object });
    else writer.write({ type: change.op === 'CREATE' ? 'insert' : 'update', value: change.data as object });
    writer.commit();
  }

  /** A view's rows, in the live query's order. */
  rows(viewId: string): object[] {
    const view = this.#views.get(viewId);
    if (view === undefined) throw new Error(`no TanStack view '${viewId}'`);
    return view.toArray as object[];
  }

  async dispose(): Promise<void> {
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    for (const view of this.#views.values()) await view.cleanup();
    await this.#sources.posts.cleanup();
    await this.#sources.users.cleanup();
  }
}
