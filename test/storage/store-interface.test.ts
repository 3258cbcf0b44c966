import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  GroupCommitter,
  type JsonObject,
  type LoadedRecord,
  openStore,
  type Store,
  type StoreChange,
  type StoredRecord,
  StoreError,
  type StoreTransaction,
} from '../../storage/index.js';
import { tempDir } from './helpers.js';

/**
 * A store held in a Map, with transactions and savepoints as copies: just enough of the
 * `Store` contract to show that `GroupCommitter` needs nothing SQLite-specific.
 */
class MapStore implements Store {
  readonly location = 'map:';
  readonly file = 'map:';
  readonly durability = 'process';
  readonly epoch = 1;
  readonly schemaVersion = 1;
  isOpen = true;
  #rows = new Map<string, StoredRecord>();
  #meta = new Map<string, string>();
  #depth = 0;

  *load(table?: string): IterableIterator<StoredRecord> {
    const keys = [...this.#rows.keys()].sort();
    for (const key of keys) {
      const row = this.#rows.get(key)!;
      if (table === undefined || row.table === table) yield row;
    }
  }
  *loadRecords(table: string): IterableIterator<LoadedRecord> {
    for (const row of this.load(table)) yield { id: row.id, data: row.data };
  }
  tables(): { table: string; count: number }[] {
    const counts = new Map<string, number>();
    for (const row of this.#rows.values()) counts.set(row.table, (counts.get(row.table) ?? 0) + 1);
    return [...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([table, count]) => ({ table, count }));
  }
  commit(changes: readonly StoreChange[]): void {
    this.transaction((tx) => tx.write(changes));
  }
  transaction<T>(fn: (tx: StoreTransaction) => T): T {
    const before = new Map(this.#rows);
    this.#depth++;
    try {
      return fn({ write: (changes) => this.#write(changes), savepoint: (f) => this.transaction(() => f()) });
    } catch (error) {
      this.#rows = before;
      throw error;
    } finally {
      this.#depth--;
    }
  }
  getMeta(key: string): string | undefined {
    return this.#meta.get(key);
  }
  setMeta(key: string, value: string): void {
    this.#meta.set(key, value);
  }
  close(): void {
    this.isOpen = false;
  }
  #write(changes: readonly StoreChange[]): void {
    if (this.#depth === 0) throw new StoreError('TRANSACTION_ABORTED', 'no transaction is open');
    for (const { table, op, id, record } of changes) {
      const key = `${table}\u0000${id}`;
      if (op === 'DELETE') this.#rows.delete(key);
      else this.#rows.set(key, { table, id, data: record as JsonObject });
    }
  }
}

const create = (id: string): StoreChange => ({ table: 't', op: 'CREATE', id, record: { id } });

describe('the Store interface', () => {
  it('location is where the SQLite store lives, the same as file', () => {
    const { dir, cleanup } = tempDir();
    const store = openStore({ file: join(dir, 'live.sqlite') });
    try {
      expect(store.location).toBe(join(dir, 'live.sqlite'));
      expect(store.location).toBe(store.file);
    } finally {
      store.close();
      cleanup();
    }
    const memory = openStore({ file: ':memory:' });
    expect(memory.location).toBe(':memory:');
    memory.close();
  });

  it('GroupCommitter runs on any Store: a rejected request rolls back alone', async () => {
    const store = new MapStore();
    const committer = new GroupCommitter<StoreChange, string>(store, {
      stage: (change, tx) => {
        tx.write([change]);
        if (change.id === 'bad') throw new Error('refused');
        return change.id;
      },
    });
    const results = await Promise.allSettled([
      committer.submit(create('a')),
      committer.submit(create('bad')),
      committer.submit(create('b')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect([...store.load()].map((r) => r.id)).toEqual(['a', 'b']);
    expect(committer.stats).toEqual({ groups: 1, committed: 2, rejected: 1, largestGroup: 3 });
  });
});
