import { describe, expect, it } from 'vitest';
import { consolidate, EMPTY_DELTA, retractionsFirst } from '../../engine/zset.js';
import { insert, retract } from './changes.js';

const a1 = { id: 'a', v: 1 };
const a2 = { id: 'a', v: 2 };
const b1 = { id: 'b', v: 1 };

describe('consolidate', () => {
  it('cancels a row that is inserted and retracted in one delta: its weight sums to zero', () => {
    expect(consolidate([insert('a', a1), retract('a', a1)])).toEqual([]);
    expect(consolidate([insert('a', a1), insert('b', b1), retract('a', { ...a1 })])).toEqual([insert('b', b1)]);
  });

  it('puts retractions first, so an update under one key is `-old +new`', () => {
    expect(consolidate([insert('a', a2), retract('a', a1)])).toEqual([retract('a', a1), insert('a', a2)]);
    expect(consolidate([insert('b', b1), insert('a', a2), retract('a', a1)])).toEqual([
      retract('a', a1),
      insert('b', b1),
      insert('a', a2),
    ]);
  });

  it('keeps `-old +new` of one key even when the rows are equal (applying both is right)', () => {
    expect(consolidate([retract('a', a1), insert('a', a1)])).toEqual([retract('a', a1), insert('a', a1)]);
  });

  it('does not cancel equal rows under different keys, nor different rows under one key', () => {
    expect(consolidate([insert('a', a1), retract('b', a1)])).toEqual([retract('b', a1), insert('a', a1)]);
    expect(consolidate([insert('a', a1), insert('b', b1), retract('a', a2)])).toEqual([
      retract('a', a2),
      insert('a', a1),
      insert('b', b1),
    ]);
  });

  it('merges a row that enters and leaves twice down to what remains', () => {
    expect(
      consolidate([insert('a', a1), retract('a', a1), insert('a', a2), insert('b', b1), retract('b', b1)]),
    ).toEqual([insert('a', a2)]);
  });

  it('returns a one-signed or short delta as it is', () => {
    const inserts = [insert('a', a1), insert('b', b1), insert('c', { id: 'c' })];
    expect(consolidate(inserts)).toBe(inserts);
    const single = [retract('a', a1)];
    expect(consolidate(single)).toBe(single);
    expect(consolidate(EMPTY_DELTA)).toEqual([]);
  });
});

describe('retractionsFirst', () => {
  it('moves every retraction before every insertion, keeping their order', () => {
    expect(retractionsFirst([insert('a', a2), retract('a', a1), insert('b', b1), retract('c', { id: 'c' })])).toEqual([
      retract('a', a1),
      retract('c', { id: 'c' }),
      insert('a', a2),
      insert('b', b1),
    ]);
  });

  it('returns a delta already in that order as it is', () => {
    const delta = [retract('a', a1), insert('a', a2)];
    expect(retractionsFirst(delta)).toBe(delta);
  });
});
