import { afterEach, beforeEach, expect, test } from 'vitest';
import { openStore, type StoreChange } from '../../storage/index.js';
import { tempDir } from './helpers.js';

/** `loadRecords`: the bulk start-up read, in chunks; the same records as `load`, whatever the chunk size. */
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
