import { describe, expect, it } from 'vitest';
import { hashRows } from '../../engine/hash.js';
import type { Record, Row } from '../../engine/types.js';
import { ViewResult } from '../../engine/view-result.js';
import type { Change } from '../../engine/zset.js';
import { insert, retract } from './changes.js';

const a = { id: 'a', title: 'A' };
const b = { id: 'b', title: 'B' };
const c = { id: 'c', title: 'C' };

/** A result holding a and b as its initial (version 0) rows. */
function settled(): ViewResult {
  const result = new ViewResult('v', 0);
  result.apply([insert('a', a), insert('b', b)]);
  result.settle();
  return result;
}

describe('ViewResult', () => {
  it('settles its initial rows as version 0, with no update', () => {
    const result = settled();
    expect(result.version).toBe(0);
    expect(result.size).toBe(2);
    expect([...result.keys()].sort()).toEqual(['a', 'b']);
    expect(result.hash).toBe(hashRows([a, b]));
    expect(result.flush()).toBeUndefined();
  });

  it('reports an inserted key as added', () => {
    const result = settled();
    result.apply([insert('c', c)]);
    expect(result.flush()).toEqual({
      view: 'v',
      version: 1,
      added: [c],
      updated: [],
      removed: [],
      hash: hashRows([a, b, c]),
    });
    expect(result.row('c')).toBe(c);
  });

  it('reports `-old +new` under one key as updated, rewriting its slot', () => {
    const result = settled();
    const renamed = { id: 'a', title: 'A2' };
    result.apply([retract('a', a), insert('a', renamed)]);
    expect(result.flush()).toEqual({
      view: 'v',
      version: 1,
      added: [],
      updated: [renamed],
      removed: [],
      hash: hashRows([renamed, b]),
    });
    expect(result.row('a')).toBe(renamed);
    expect(result.size).toBe(2);
  });

  it('reports a retracted key as removed', () => {
    const result = settled();
    result.apply([retract('b', b)]);
    expect(result.flush()).toEqual({
      view: 'v',
      version: 1,
      added: [],
      updated: [],
      removed: ['b'],
      hash: hashRows([a]),
    });
    expect(result.row('b')).toBeUndefined();
    expect(result.size).toBe(1);
  });

  it('reports the net difference of an ingest, however many deltas reached it', () => {
    const result = settled();
    const a2 = { id: 'a', title: 'A2' };
    const a3 = { id: 'a', title: 'A3' };
    result.apply([retract('a', a), insert('a', a2)]);
    result.apply([retract('a', a2), insert('a', a3)]);
    result.apply([insert('c', c)]);
    result.apply([retract('b', b)]);
    expect(result.flush()).toEqual({
      view: 'v',
      version: 1,
      added: [c],
      updated: [a3],
      removed: ['b'],
      hash: hashRows([a3, c]),
    });
  });

  it('has no update, no new version and the same hash when the ingest changes nothing in the end', () => {
    const result = settled();
    const hash = result.hash;
    result.apply([insert('c', c)]);
    result.apply([retract('c', c)]);
    result.apply([retract('a', a)]);
    result.apply([insert('a', { ...a })]);
    expect(result.flush()).toBeUndefined();
    expect(result.version).toBe(0);
    expect(result.hash).toBe(hash);
  });

  it('reports a key removed and inserted again with other content as updated', () => {
    const result = settled();
    const b2 = { id: 'b', title: 'B2' };
    result.apply([retract('b', b)]);
    result.apply([insert('b', b2)]);
    expect(result.flush()).toEqual({
      view: 'v',
      version: 1,
      added: [],
      updated: [b2],
      removed: [],
      hash: hashRows([a, b2]),
    });
  });

  it('changes its hash with every update and counts versions up by one', () => {
    const result = settled();
    const hashes = [result.hash];
    result.apply([insert('c', c)]);
    hashes.push(result.flush()?.hash ?? '');
    result.apply([retract('c', c)]);
    hashes.push(result.flush()?.hash ?? '');
    expect(result.version).toBe(2);
    expect(hashes[1]).not.toBe(hashes[0]);
    expect(hashes[2]).toBe(hashes[0]);
  });

  it('reuses a freed slot for a new key', () => {
    const result = settled();
    result.apply([retract('a', a)]);
    result.flush();
    result.apply([insert('c', c)]);
    expect(result.flush()).toEqual({
      view: 'v',
      version: 2,
      added: [c],
      updated: [],
      removed: [],
      hash: hashRows([b, c]),
    });
    expect(result.row('c')).toBe(c);
    expect(result.row('a')).toBeUndefined();
  });

  it('grows past its initial capacity', () => {
    const result = new ViewResult('v', 0);
    const rows = Array.from({ length: 40 }, (_, i) => ({ id: `k${i}`, n: i }));
    result.apply(rows.map((row) => insert(row.id, row)));
    expect(result.flush()).toMatchObject({ version: 1, added: rows, hash: hashRows(rows) });
    expect(result.size).toBe(40);
  });

  it('treats a retraction of an absent key or a second insertion of a key as a broken invariant', () => {
    const result = settled();
    expect(() => result.apply([retract('c', c)])).toThrow(/engine invariant broken: view 'v' retracts absent key 'c'/);
    expect(() => result.apply([insert('a', { ...a })])).toThrow(
      /engine invariant broken: view 'v' inserts key 'a' twice/,
    );
  });
});

describe('ViewResult composing joined rows from their parts', () => {
  const ann = { id: 'u1', name: 'Ann' };
  const post = { id: 'p1', authorId: 'u1', title: 'T' };
  const compose = (key: string, left: Row, right: Record | null): Row => ({ ...left, id: key, author: right });
  /** A change a join would emit: the joined row with the parts it was built from. */
  const joined = (weight: number, left: Row, right: Record | null): Change => ({
    key: left['id'] as string,
    row: compose(left['id'] as string, left, right),
    weight,
    left,
    right,
  });

  function composed(): ViewResult {
    const result = new ViewResult('v', 0, compose);
    result.apply([joined(1, post, ann)]);
    result.settle();
    return result;
  }

  it('builds each row again from its parts when read, equal to the row the change carried', () => {
    const result = composed();
    const row = result.row('p1');
    expect(row).toEqual({ ...post, author: ann });
    expect(result.row('p1')).not.toBe(row); // built per read, not held
    expect(result.hash).toBe(hashRows([{ ...post, author: ann }]));
  });

  it('reports a changed right record as an update of the composed row', () => {
    const result = composed();
    const anna = { id: 'u1', name: 'Anna' };
    result.apply([joined(-1, post, ann), joined(1, post, anna)]);
    expect(result.flush()).toMatchObject({ updated: [{ ...post, author: anna }], added: [], removed: [] });
  });

  it('reports nothing when new parts compose an equal row', () => {
    const result = composed();
    result.apply([joined(-1, post, ann), joined(1, { ...post }, { ...ann })]);
    expect(result.flush()).toBeUndefined();
  });

  it('composes an unmatched left row with null, and removes by key', () => {
    const result = composed();
    const lone = { id: 'p2', authorId: 'u9' };
    result.apply([joined(1, lone, null)]);
    expect(result.flush()).toMatchObject({ added: [{ ...lone, author: null }] });
    result.apply([joined(-1, post, ann)]);
    expect(result.flush()).toMatchObject({ removed: ['p1'], added: [], updated: [] });
    expect(result.row('p1')).toBeUndefined();
  });

  it('refuses a row no join built (it has no parts to keep)', () => {
    const result = composed();
    expect(() => result.apply([insert('p3', { id: 'p3' })])).toThrow(/got a row no join built for key 'p3'/);
  });
});
