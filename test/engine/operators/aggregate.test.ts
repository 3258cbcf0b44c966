import { describe, expect, it } from 'vitest';
import { Aggregate } from '../../../engine/operators/aggregate.js';
import { insert, retract } from '../changes.js';

const post = (id: string, authorId: string, likes: number | null) => ({ id, authorId, likes });

describe('Aggregate: count, sum, avg', () => {
  const stats = () =>
    new Aggregate(['authorId'], {
      n: { fn: 'count' },
      total: { fn: 'sum', field: 'likes' },
      mean: { fn: 'avg', field: 'likes' },
    });

  it('emits one row per group, keyed by the group value', () => {
    const aggregate = stats();
    expect(
      aggregate.push([
        insert('p1', post('p1', 'u1', 2)),
        insert('p2', post('p2', 'u1', 4)),
        insert('p3', post('p3', 'u2', 1)),
      ]),
    ).toEqual([
      insert('u1', { id: 'u1', authorId: 'u1', n: 2, total: 6, mean: 3 }),
      insert('u2', { id: 'u2', authorId: 'u2', n: 1, total: 1, mean: 1 }),
    ]);
  });

  it('replaces a touched group row with `-previous +current`', () => {
    const aggregate = stats();
    aggregate.push([insert('p1', post('p1', 'u1', 2)), insert('p2', post('p2', 'u1', 4))]);
    expect(aggregate.push([retract('p1', post('p1', 'u1', 2))])).toEqual([
      retract('u1', { id: 'u1', authorId: 'u1', n: 2, total: 6, mean: 3 }),
      insert('u1', { id: 'u1', authorId: 'u1', n: 1, total: 4, mean: 4 }),
    ]);
  });

  it('removes a group when its count drops to 0, and starts it afresh when a row comes back', () => {
    const aggregate = stats();
    aggregate.push([insert('p3', post('p3', 'u2', 1))]);
    expect(aggregate.push([retract('p3', post('p3', 'u2', 1))])).toEqual([
      retract('u2', { id: 'u2', authorId: 'u2', n: 1, total: 1, mean: 1 }),
    ]);
    expect(aggregate.push([insert('p4', post('p4', 'u2', 7))])).toEqual([
      insert('u2', { id: 'u2', authorId: 'u2', n: 1, total: 7, mean: 7 }),
    ]);
  });

  it('emits nothing when a change leaves the group row as it was', () => {
    const aggregate = stats();
    aggregate.push([insert('p1', post('p1', 'u1', 2))]);
    expect(
      aggregate.push([retract('p1', post('p1', 'u1', 2)), insert('p1', { ...post('p1', 'u1', 2), title: 'new' })]),
    ).toEqual([]);
  });

  it('moves a row between groups: both groups change', () => {
    const aggregate = stats();
    aggregate.push([insert('p1', post('p1', 'u1', 2)), insert('p2', post('p2', 'u1', 4))]);
    expect(aggregate.push([retract('p1', post('p1', 'u1', 2)), insert('p1', post('p1', 'u2', 2))])).toEqual([
      retract('u1', { id: 'u1', authorId: 'u1', n: 2, total: 6, mean: 3 }),
      insert('u1', { id: 'u1', authorId: 'u1', n: 1, total: 4, mean: 4 }),
      insert('u2', { id: 'u2', authorId: 'u2', n: 1, total: 2, mean: 2 }),
    ]);
  });

  it('ignores non-numeric values in sum and avg (avg of none is null, sum 0), but counts their rows', () => {
    const aggregate = stats();
    expect(
      aggregate.push([insert('p1', post('p1', 'u1', null)), insert('p2', { id: 'p2', authorId: 'u1', likes: 'many' })]),
    ).toEqual([insert('u1', { id: 'u1', authorId: 'u1', n: 2, total: 0, mean: null })]);
  });

  it('without groupBy, keeps the single group `*` even when it is empty', () => {
    const aggregate = new Aggregate([], {
      n: { fn: 'count' },
      total: { fn: 'sum', field: 'likes' },
      mean: { fn: 'avg', field: 'likes' },
    });
    expect(aggregate.push([])).toEqual([insert('*', { id: '*', n: 0, total: 0, mean: null })]);
    expect(aggregate.push([insert('p1', post('p1', 'u1', 3))])).toEqual([
      retract('*', { id: '*', n: 0, total: 0, mean: null }),
      insert('*', { id: '*', n: 1, total: 3, mean: 3 }),
    ]);
    expect(aggregate.push([retract('p1', post('p1', 'u1', 3))])).toEqual([
      retract('*', { id: '*', n: 1, total: 3, mean: 3 }),
      insert('*', { id: '*', n: 0, total: 0, mean: null }),
    ]);
  });

  it('keys a group of two fields by the JSON of its values and nests dot paths', () => {
    const aggregate = new Aggregate(['authorId', 'meta.tier'], { n: { fn: 'count' } });
    expect(aggregate.push([insert('p1', { id: 'p1', authorId: 'u1', meta: { tier: 'a' } })])).toEqual([
      insert('["u1","a"]', { id: '["u1","a"]', authorId: 'u1', meta: { tier: 'a' }, n: 1 }),
    ]);
  });
});

describe('Aggregate: min and max', () => {
  const reading = (id: string, t: number | null) => ({ id, room: 'r1', t });
  const extremes = () => new Aggregate(['room'], { lo: { fn: 'min', field: 't' }, hi: { fn: 'max', field: 't' } });
  const group = (lo: number | null, hi: number | null) => ({ id: 'r1', room: 'r1', lo, hi });

  it('takes the next-best value when the current min or max is retracted', () => {
    const aggregate = extremes();
    expect(
      aggregate.push([insert('a', reading('a', 3)), insert('b', reading('b', 1)), insert('c', reading('c', 5))]),
    ).toEqual([insert('r1', group(1, 5))]);
    expect(aggregate.push([retract('b', reading('b', 1))])).toEqual([
      retract('r1', group(1, 5)),
      insert('r1', group(3, 5)),
    ]);
    expect(aggregate.push([retract('c', reading('c', 5))])).toEqual([
      retract('r1', group(3, 5)),
      insert('r1', group(3, 3)),
    ]);
  });

  it('keeps the extreme while another row still holds the same value', () => {
    const aggregate = extremes();
    aggregate.push([insert('a', reading('a', 1)), insert('b', reading('b', 1)), insert('c', reading('c', 4))]);
    expect(aggregate.push([retract('a', reading('a', 1))])).toEqual([]);
    expect(aggregate.push([retract('b', reading('b', 1))])).toEqual([
      retract('r1', group(1, 4)),
      insert('r1', group(4, 4)),
    ]);
  });

  it('ignores null values: a group of nulls has a null min and max', () => {
    const aggregate = extremes();
    expect(aggregate.push([insert('a', reading('a', null))])).toEqual([insert('r1', group(null, null))]);
    expect(aggregate.push([insert('b', reading('b', 2))])).toEqual([
      retract('r1', group(null, null)),
      insert('r1', group(2, 2)),
    ]);
    expect(aggregate.push([retract('b', reading('b', 2))])).toEqual([
      retract('r1', group(2, 2)),
      insert('r1', group(null, null)),
    ]);
  });

  it('a new extreme replaces the old one', () => {
    const aggregate = extremes();
    aggregate.push([insert('a', reading('a', 3))]);
    expect(aggregate.push([insert('b', reading('b', -2)), insert('c', reading('c', 9))])).toEqual([
      retract('r1', group(3, 3)),
      insert('r1', group(-2, 9)),
    ]);
  });
});

describe('Aggregate as distinct (a group without aggregates)', () => {
  it('emits each distinct value once, and retracts it with its last row', () => {
    const distinct = new Aggregate(['authorId'], {});
    expect(distinct.push([insert('p1', post('p1', 'u1', 1)), insert('p2', post('p2', 'u1', 2))])).toEqual([
      insert('u1', { id: 'u1', authorId: 'u1' }),
    ]);
    expect(distinct.push([retract('p1', post('p1', 'u1', 1))])).toEqual([]);
    expect(distinct.push([retract('p2', post('p2', 'u1', 2))])).toEqual([retract('u1', { id: 'u1', authorId: 'u1' })]);
  });
});
