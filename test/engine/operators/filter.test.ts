import { describe, expect, it } from 'vitest';
import { Filter } from '../../../engine/operators/filter.js';
import { compilePredicate } from '../../../engine/predicate.js';
import { insert, retract } from '../changes.js';

const p1 = { id: 'p1', published: true, likes: 3 };
const p2 = { id: 'p2', published: false, likes: 8 };
const p3 = { id: 'p3', published: true, likes: 0 };

describe('Filter', () => {
  const published = () => new Filter(compilePredicate({ published: { eq: true } }));

  it('keeps the insertions and retractions whose row passes, with their weights', () => {
    const filter = published();
    expect(filter.push([insert('p1', p1), insert('p2', p2), retract('p3', p3)])).toEqual([
      insert('p1', p1),
      retract('p3', p3),
    ]);
  });

  it('drops a single change whose row fails and keeps one that passes', () => {
    const filter = published();
    expect(filter.push([insert('p2', p2)])).toEqual([]);
    expect(filter.push([retract('p1', p1)])).toEqual([retract('p1', p1)]);
  });

  it('turns an update that leaves the filter into a retraction, and one that enters into an insertion', () => {
    const filter = published();
    const hidden = { ...p1, published: false };
    expect(filter.push([retract('p1', p1), insert('p1', hidden)])).toEqual([retract('p1', p1)]);
    expect(filter.push([retract('p1', hidden), insert('p1', p1)])).toEqual([insert('p1', p1)]);
    expect(filter.push([retract('p2', p2), insert('p2', { ...p2, likes: 9 })])).toEqual([]);
  });

  it('passes an update whose rows both pass unchanged', () => {
    const filter = published();
    const liked = { ...p1, likes: 4 };
    expect(filter.push([retract('p1', p1), insert('p1', liked)])).toEqual([retract('p1', p1), insert('p1', liked)]);
  });

  it('is stateless: the same delta gives the same output however often it is pushed', () => {
    const filter = new Filter(compilePredicate({ likes: { gte: 3 } }));
    const delta = [insert('p1', p1), insert('p2', p2), insert('p3', p3)];
    expect(filter.push(delta)).toEqual([insert('p1', p1), insert('p2', p2)]);
    expect(filter.push(delta)).toEqual([insert('p1', p1), insert('p2', p2)]);
  });

  it('tests one row with `test`', () => {
    expect(published().test(p1)).toBe(true);
    expect(published().test(p2)).toBe(false);
  });
});
