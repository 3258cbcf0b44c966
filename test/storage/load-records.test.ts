import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { openStore, type Store, type StoreChange, StoreError } from '../../storage/index.js';
import { tempDir } from './helpers.js';

/**
 * `loadRecords`: the bulk start-up read, in chunks; the same records as `load`, whatever the
 * chunk size. A damaged record stops both with `CORRUPT` naming it, and the file keeps its bytes.
 */
let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = tempDir()));
afterEach(() => cleanup());

test('yields every record of the table once, across chunk boundaries and for any id', () => {
  const store = openStore({ file: `${dir}/live.sqlite` });
  const ids = [...Array.from({ length: 95 }, (_, i) => `id${i}`), 'é', '\u{1F600}', '\uE000', 'a,b', '"q"', ']', 'zz'];
  const change = (table: string, id: string): StoreChange => ({
    table,
    op: 'CREATE',
    id,
    record: { id, n: id.length, nested: { text: `[${id}]` } },
  });
  store.commit([...ids.map((id) => change('items', id)), change('other', 'x'), change('aaa', 'y')]);
  const expected = [...store.load('items')].map((row) => ({ id: row.id, data: row.data }));
  expect(expected).toHaveLength(ids.length);
  for (const chunk of [1, 7, 50, 10_000]) {
    const loaded = [...store.loadRecords('items', chunk)];
    expect(loaded, `chunk ${chunk}`).toEqual(expected);
  }
  expect([...store.loadRecords('missing')]).toEqual([]);
  store.close();
});

/** Copies of one real file, each damaged in one way: reading names the table and id at fault and writes nothing. */
function damagedStore(damage: (db: Database.Database) => void): string {
  const file = `${dir}/live.sqlite`;
  const store = openStore({ file });
  store.commit(
    Array.from({ length: 300 }, (_, i) => {
      const id = `r${String(i).padStart(3, '0')}`;
      return { table: 'items', op: 'CREATE' as const, id, record: { id, text: 'x'.repeat(100) } };
    }),
  );
  store.close();
  const db = new Database(file);
  damage(db);
  db.close();
  return file;
}

function loadError(file: string, read: (store: Store) => unknown): StoreError {
  const before = readFileSync(file);
  const store = openStore({ file });
  try {
    read(store);
  } catch (error) {
    expect(error).toBeInstanceOf(StoreError);
    return error as StoreError;
  } finally {
    store.close();
    expect(readFileSync(file).equals(before), 'the file kept its bytes').toBe(true);
    expect(readdirSync(dir)).toEqual(['live.sqlite']);
  }
  throw new Error('the damaged file loaded');
}

const setData = (id: string, data: string) => (db: Database.Database) =>
  db.prepare("UPDATE records SET data = ? WHERE tbl = 'items' AND id = ?").run(data, id);

test.each([
  ['broken JSON', setData('r123', '{"id":"r123","text":'), /record items 'r123': its JSON does not parse/],
  ['JSON that continues the array', setData('r123', '{"id":"r123"},{"id":"r124"}'), /record items 'r123'/],
  ['not an object', setData('r200', '[1,2]'), /record items 'r200': it is not a JSON object/],
  ['another id', setData('r007', '{"id":"r008"}'), /record items 'r007': its id field is "r008"/],
])('%s: CORRUPT (exit 65) naming the record, from load and loadRecords alike', (_, damage, message) => {
  const file = damagedStore(damage);
  for (const chunk of [1, 50, 10_000]) {
    const error = loadError(file, (store) => [...store.loadRecords('items', chunk)]);
    expect(error.code).toBe('CORRUPT');
    expect(error.exitCode).toBe(65);
    expect(error.message).toMatch(message);
    expect(error.message).toContain('left untouched');
  }
  expect(loadError(file, (store) => [...store.load()]).message).toMatch(message);
});

test('a flipped B-tree page: CORRUPT naming the last record read before it', () => {
  let page = 0;
  let pageSize = 0;
  const file = damagedStore((db) => {
    pageSize = db.pragma('page_size', { simple: true }) as number;
    const leaves = db
      .prepare<[], { pageno: number }>("SELECT pageno FROM dbstat WHERE name = 'records' AND pagetype = 'leaf'")
      .all();
    expect(leaves.length).toBeGreaterThan(3);
    page = (leaves[2] as { pageno: number }).pageno;
  });
  const bytes = readFileSync(file);
  for (let i = (page - 1) * pageSize; i < page * pageSize; i++) bytes[i] = (bytes[i] as number) ^ 0xff;
  writeFileSync(file, bytes);
  for (const read of [
    (store: Store) => store.tables(),
    (store: Store) => [...store.loadRecords('items', 7)],
    (store: Store) => [...store.load()],
  ]) {
    const error = loadError(file, read);
    expect(error.code).toBe('CORRUPT');
    expect(error.message).toMatch(
      /is damaged: the record after items 'r\d{3}' cannot be read: database disk image is malformed/,
    );
  }
});
