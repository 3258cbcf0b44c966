import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, SCHEMA_VERSION, type Store, type StoreChange, StoreError } from '../../storage/index.js';
import { tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
const opened: Store[] = [];
const open = (file: string, durability?: 'process' | 'power') => {
  const store = openStore({ file, ...(durability === undefined ? {} : { durability }) });
  opened.push(store);
  return store;
};

beforeEach(() => {
  ({ dir, cleanup } = tempDir());
});
afterEach(() => {
  for (const store of opened.splice(0)) store.close();
  cleanup();
});

const create = (table: string, id: string, fields: object = {}): StoreChange => ({
  table,
  op: 'CREATE',
  id,
  record: { id, ...fields },
});
const all = (store: Store) => [...store.load()];

describe('store', () => {
  it('round trip: commits, then reopens and loads the same records (ordered by table, id)', () => {
    const file = join(dir, 'nested/dir/live.sqlite');
    const store = open(file);
    expect(store.file).toBe(file);
    expect(store.schemaVersion).toBe(SCHEMA_VERSION);
    store.commit([
      create('users', 'u2', { name: 'Bob', age: null }),
      create('users', 'u1', { name: 'Ann', tags: ['a', 'b'], meta: { x: 1.5 } }),
    ]);
    store.commit([create('posts', 'p1', { title: 'Hi', likes: 3, published: true })]);
    store.commit([{ table: 'users', op: 'UPDATE', id: 'u2', record: { id: 'u2', name: 'Bobby', age: 40 } }]);
    store.commit([create('posts', 'p2', { title: 'x' }), { table: 'posts', op: 'DELETE', id: 'p2' }]); // created and deleted in one batch
    store.commit([{ table: 'posts', op: 'DELETE', id: 'missing' }]); // deleting a missing row is a no-op
    store.close();
    expect(store.isOpen).toBe(false);
    store.close(); // idempotent

    const again = open(file);
    expect(all(again)).toEqual([
      { table: 'posts', id: 'p1', data: { id: 'p1', title: 'Hi', likes: 3, published: true } },
      { table: 'users', id: 'u1', data: { id: 'u1', name: 'Ann', tags: ['a', 'b'], meta: { x: 1.5 } } },
      { table: 'users', id: 'u2', data: { id: 'u2', name: 'Bobby', age: 40 } },
    ]);
    expect([...again.load('users')].map((r) => r.id)).toEqual(['u1', 'u2']);
    expect([...again.load('nothing')]).toEqual([]);
    expect(again.tables()).toEqual([
      { table: 'posts', count: 1 },
      { table: 'users', count: 2 },
    ]);
  });

  it('a batch is all or nothing: a failure in the middle of the transaction leaves nothing of it', () => {
    const file = join(dir, 'live.sqlite');
    const store = open(file);
    store.commit([create('t', 'a', { v: 1 }), create('t', 'b', { v: 1 })]);
    store.close();
    // A trigger makes SQLite fail on the 4th write of the next batch, after three writes succeeded.
    const raw = new Database(file);
    raw.exec(
      `CREATE TRIGGER boom BEFORE INSERT ON records WHEN NEW.id = 'boom' BEGIN SELECT RAISE(ABORT, 'simulated failure'); END`,
    );
    raw.close();

    const again = open(file);
    const before = all(again);
    expect(() =>
      again.commit([
        create('t', 'c', { v: 1 }),
        { table: 't', op: 'UPDATE', id: 'a', record: { id: 'a', v: 2 } },
        { table: 't', op: 'DELETE', id: 'b' },
        create('t', 'boom'),
        create('t', 'd'),
      ]),
    ).toThrow(/simulated failure/);
    expect(all(again)).toEqual(before);
    // the store still works afterwards, and the failed batch is not in the file after a reopen either
    again.commit([create('t', 'e')]);
    again.close();
    const third = open(file);
    expect(all(third).map((r) => [r.id, r.data])).toEqual([
      ['a', { id: 'a', v: 1 }],
      ['b', { id: 'b', v: 1 }],
      ['e', { id: 'e' }],
    ]);
  });

  it('a malformed change is refused before anything is written (BAD_CHANGE)', () => {
    const store = open(join(dir, 'live.sqlite'));
    const bad: unknown[] = [
      { table: 't', op: 'CREATE', id: 'x' }, // no record
      { table: 't', op: 'CREATE', id: 'x', record: [1] },
      { table: 't', op: 'CREATE', id: '', record: {} },
      { table: '', op: 'CREATE', id: 'x', record: {} },
      { table: 't', op: 'UPSERT', id: 'x', record: {} },
      { table: 't', op: 'UPDATE', id: 'x', record: { id: 'y' } },
      { table: 't', op: 'CREATE', id: 'x', record: { n: 1n } },
      null,
    ];
    for (const change of bad) {
      let error: unknown;
      try {
        store.commit([create('t', 'ok'), change as StoreChange]);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).code).toBe('BAD_CHANGE');
    }
    expect(all(store)).toEqual([]);
  });

  it('the epoch is 1 for a new file and increases at every open that writes, with its first write; meta survives', () => {
    const file = join(dir, 'live.sqlite');
    const epochs: number[] = [];
    for (let i = 0; i < 3; i++) {
      const store = open(file);
      epochs.push(store.epoch);
      if (i > 0) expect(store.getMeta('epoch')).toBe(String(store.epoch - 1)); // nothing written yet
      store.setMeta('note', `hello ${i}`);
      expect(store.getMeta('epoch')).toBe(String(store.epoch));
      store.close();
    }
    expect(epochs).toEqual([1, 2, 3]);
    const before = readFileSync(file);
    const reader = open(file); // only reads: the file keeps its bytes, the next open gets the same epoch
    expect(reader.epoch).toBe(4);
    expect([...reader.load()]).toEqual([]);
    expect(reader.getMeta('note')).toBe('hello 2');
    reader.close();
    expect(readFileSync(file).equals(before)).toBe(true);
    const store = open(file);
    expect(store.epoch).toBe(4);
    expect(() => store.setMeta('epoch', '1')).toThrow(StoreError);
    expect(store.getMeta('absent')).toBeUndefined();
  });

  it('an empty (0-byte) file is a new store', () => {
    const file = join(dir, 'empty.sqlite');
    writeFileSync(file, '');
    const store = open(file);
    expect(store.epoch).toBe(1);
    store.commit([create('t', 'a')]);
    store.close();
    expect(all(open(file))).toHaveLength(1);
  });

  it('durability power opens and commits the same way', () => {
    const file = join(dir, 'live.sqlite');
    const store = open(file, 'power');
    expect(store.durability).toBe('power');
    store.commit([create('t', 'a')]);
    store.close();
    expect(open(file).durability).toBe('process');
    expect(all(opened.at(-1) as Store)).toHaveLength(1);
  });

  it(':memory: works (nothing durable, no lock)', () => {
    const store = open(':memory:');
    store.commit([create('t', 'a')]);
    expect(all(store)).toHaveLength(1);
    expect(store.epoch).toBe(1);
  });

  it('transactions nest as savepoints; a closed store refuses with CLOSED', () => {
    const store = open(join(dir, 'live.sqlite'));
    store.transaction((tx) => {
      tx.write([create('t', 'a')]);
      expect(() =>
        tx.savepoint(() => {
          tx.write([create('t', 'b')]);
          throw new Error('undo b');
        }),
      ).toThrow('undo b');
      store.commit([create('t', 'c')]); // nested commit: a savepoint in the outer transaction
    });
    expect(all(store).map((r) => r.id)).toEqual(['a', 'c']);
    store.transaction(() => store.commit([create('t', 'd')]));
    expect(() =>
      store.transaction((tx) => {
        tx.write([create('t', 'e')]);
        throw new Error('rollback all');
      }),
    ).toThrow('rollback all');
    expect(all(store).map((r) => r.id)).toEqual(['a', 'c', 'd']);
    store.close();
    expect(() => store.commit([])).toThrow(expect.objectContaining({ code: 'CLOSED' }) as never);
  });
});
