import { describe, expect, it } from 'vitest';
import { TopK } from '../../../engine/operators/top-k.js';
import { consolidate } from '../../../engine/zset.js';
import { insert, retract } from '../changes.js';

const row = (id: string, score: number | null, extra: { [field: string]: string } = {}) => ({ id, score, ...extra });
const rows = (scores: { [id: string]: number }) =>
  Object.entries(scores).map(([id, score]) => insert(id, row(id, score)));

describe('TopK', () => {
  it('fills an empty index with the window of the first delta', () => {
    const topK = new TopK([{ field: 'score', direction: 'desc' }], 0, 2);
    expect(topK.push(rows({ a: 5, b: 3, c: 4, d: 1 }))).toEqual([insert('a', row('a', 5)), insert('c', row('c', 4))]);
    expect([...topK.windowKeys()]).toEqual(['a', 'c']);
  });

  it('refills the window from the candidates when a row leaves it', () => {
    const topK = new TopK([{ field: 'score', direction: 'desc' }], 0, 2);
    topK.push(rows({ a: 5, b: 3, c: 4, d: 1 }));
    expect(topK.push([retract('a', row('a', 5))])).toEqual([retract('a', row('a', 5)), insert('b', row('b', 3))]);
    expect(topK.push([retract('c', row('c', 4))])).toEqual([retract('c', row('c', 4)), insert('d', row('d', 1))]);
    expect([...topK.windowKeys()]).toEqual(['b', 'd']);
    // no candidate left: the window shrinks
    expect(topK.push([retract('b', row('b', 3))])).toEqual([retract('b', row('b', 3))]);
    expect([...topK.windowKeys()]).toEqual(['d']);
  });

  it('pushes the window’s last row out when a better row enters', () => {
    const topK = new TopK([{ field: 'score', direction: 'desc' }], 0, 2);
    topK.push(rows({ a: 5, b: 3, c: 4, d: 1 }));
    expect(topK.push([insert('e', row('e', 10))])).toEqual([insert('e', row('e', 10)), retract('c', row('c', 4))]);
    expect(topK.push([insert('f', row('f', 2))])).toEqual([]);
    expect([...topK.windowKeys()]).toEqual(['e', 'a']);
  });

  it('grows a window that is not full without pushing anything out', () => {
    const topK = new TopK([{ field: 'score' }], 0, 3);
    expect(topK.push([insert('a', row('a', 2))])).toEqual([insert('a', row('a', 2))]);
    expect(topK.push([insert('b', row('b', 1))])).toEqual([insert('b', row('b', 1))]);
    expect([...topK.windowKeys()]).toEqual(['b', 'a']);
  });

  it('moves an offset window when a row enters or leaves before it', () => {
    const topK = new TopK([{ field: 'score' }], 1, 2);
    expect(topK.push(rows({ s1: 1, s2: 2, s3: 3, s4: 4, s5: 5 }))).toEqual([
      insert('s2', row('s2', 2)),
      insert('s3', row('s3', 3)),
    ]);
    // s0 takes rank 0: s1 moves into the window, s3 out of it
    expect(topK.push([insert('s0', row('s0', 0))])).toEqual([insert('s1', row('s1', 1)), retract('s3', row('s3', 3))]);
    expect(topK.push([retract('s0', row('s0', 0))])).toEqual([retract('s1', row('s1', 1)), insert('s3', row('s3', 3))]);
    // a row of the window leaves: the next candidate enters
    expect(topK.push([retract('s2', row('s2', 2))])).toEqual([retract('s2', row('s2', 2)), insert('s4', row('s4', 4))]);
    expect([...topK.windowKeys()]).toEqual(['s3', 's4']);
  });

  it('holds no window while there are at most `offset` rows', () => {
    const topK = new TopK([{ field: 'score' }], 2, 2);
    expect(topK.push([insert('a', row('a', 1))])).toEqual([]);
    expect(topK.push([insert('b', row('b', 2))])).toEqual([]);
    expect(topK.push([insert('c', row('c', 3))])).toEqual([insert('c', row('c', 3))]);
    expect(topK.push([insert('d', row('d', 0))])).toEqual([insert('b', row('b', 2))]);
    expect([...topK.windowKeys()]).toEqual(['b', 'c']);
  });

  it('breaks ties by key', () => {
    const topK = new TopK([{ field: 'score' }], 0, 2);
    expect(topK.push(rows({ c: 1, a: 1, b: 1 }))).toEqual([insert('a', row('a', 1)), insert('b', row('b', 1))]);
    expect(topK.push([retract('a', row('a', 1))])).toEqual([retract('a', row('a', 1)), insert('c', row('c', 1))]);
  });

  it('orders by a second key, then the row key, and sorts null first', () => {
    const topK = new TopK([{ field: 'score' }, { field: 'name', direction: 'desc' }], 0, undefined);
    topK.push([
      insert('a', row('a', 1, { name: 'x' })),
      insert('b', row('b', 1, { name: 'y' })),
      insert('c', row('c', null)),
      insert('d', row('d', 1, { name: 'y' })),
    ]);
    expect([...topK.windowKeys()]).toEqual(['c', 'b', 'd', 'a']);
  });

  it('without a limit, the window is every row from the offset on', () => {
    const topK = new TopK([{ field: 'score' }], 1, undefined);
    expect(topK.push(rows({ a: 1, b: 2, c: 3 }))).toEqual([insert('b', row('b', 2)), insert('c', row('c', 3))]);
    expect(topK.push([insert('d', row('d', 4))])).toEqual([insert('d', row('d', 4))]);
    expect(topK.push([insert('z', row('z', 0))])).toEqual([insert('a', row('a', 1))]);
  });

  it('with limit 0, emits nothing', () => {
    const topK = new TopK([{ field: 'score' }], 0, 0);
    expect(topK.push(rows({ a: 1, b: 2 }))).toEqual([]);
    expect(topK.push([insert('c', row('c', 0)), retract('a', row('a', 1))])).toEqual([]);
    expect([...topK.windowKeys()]).toEqual([]);
  });

  it('replaces a row in place when an update keeps its sort values', () => {
    const topK = new TopK([{ field: 'score', direction: 'desc' }], 0, 2);
    topK.push(rows({ a: 5, b: 3, c: 4 }));
    const renamed = row('a', 5, { name: 'new' });
    expect(topK.push([retract('a', row('a', 5)), insert('a', renamed)])).toEqual([
      retract('a', row('a', 5)),
      insert('a', renamed),
    ]);
    // outside the window: nothing to say, but the new row is what enters later
    const renamedB = row('b', 3, { name: 'new' });
    expect(topK.push([retract('b', row('b', 3)), insert('b', renamedB)])).toEqual([]);
    expect(topK.push([retract('a', renamed)])).toEqual([retract('a', renamed), insert('b', renamedB)]);
  });

  it('moves an updated row across the window boundary', () => {
    const topK = new TopK([{ field: 'score', direction: 'desc' }], 0, 2);
    topK.push(rows({ a: 5, b: 3, c: 4 }));
    // c drops below b: c leaves, b enters
    expect(consolidate(topK.push([retract('c', row('c', 4)), insert('c', row('c', 0))]))).toEqual([
      retract('c', row('c', 4)),
      insert('b', row('b', 3)),
    ]);
    expect([...topK.windowKeys()]).toEqual(['a', 'b']);
    // the window refills with c as it is now
    expect(topK.push([retract('a', row('a', 5))])).toEqual([retract('a', row('a', 5)), insert('c', row('c', 0))]);
  });

  it('a row ranked past a full window that has no successor enters and leaves at once', () => {
    const topK = new TopK([{ field: 'score' }], 0, 2);
    topK.push(rows({ a: 1, b: 2 }));
    const out = topK.push([insert('y', row('y', 5))]);
    expect(out).toEqual([insert('y', row('y', 5)), retract('y', row('y', 5))]);
    expect(consolidate(out)).toEqual([]);
    expect(topK.push([retract('a', row('a', 1))])).toEqual([retract('a', row('a', 1)), insert('y', row('y', 5))]);
  });

  it('cancels a row that enters and leaves within one delta', () => {
    const topK = new TopK([{ field: 'score' }], 0, 2);
    topK.push(rows({ a: 1, b: 2, c: 3 }));
    expect(topK.push([insert('z', row('z', 0)), insert('y', row('y', 5)), retract('z', row('z', 0))])).toEqual([]);
    expect([...topK.windowKeys()]).toEqual(['a', 'b']);
  });
});
