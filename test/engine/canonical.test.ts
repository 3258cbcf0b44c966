import { describe, expect, it } from 'vitest';
import { viewSignature } from '../../engine/index.js';

describe('viewSignature', () => {
  it('ignores the id, key order, and-order, nesting and spelled-out defaults', () => {
    const a = viewSignature({
      id: 'a',
      from: 'posts',
      where: { and: [{ published: { eq: true } }, { authorId: { eq: 'u1' } }] },
      orderBy: [{ field: 'id', direction: 'asc' }],
      offset: 0,
    });
    const b = viewSignature({
      orderBy: [{ field: 'id' }],
      where: { authorId: { eq: 'u1' }, published: { eq: true } },
      from: 'posts',
      id: 'b',
    });
    expect(a).toBe(b);
  });

  it('tells different views and different parameters apart', () => {
    const base = { id: 'v', from: 'posts', where: { authorId: { eq: { param: 'authorId' } } } };
    expect(viewSignature(base, { authorId: 'u1' })).not.toBe(viewSignature(base, { authorId: 'u2' }));
    expect(viewSignature({ ...base, limit: 5 }, { authorId: 'u1' })).not.toBe(viewSignature(base, { authorId: 'u1' }));
    expect(viewSignature({ id: 'v', from: 'posts', where: { likes: { gt: 1 } } })).not.toBe(
      viewSignature({ id: 'v', from: 'posts', where: { likes: { gte: 1 } } }),
    );
    expect(viewSignature({ id: 'v', from: 'posts', orderBy: [{ field: 'likes', direction: 'desc' }] })).not.toBe(
      viewSignature({ id: 'v', from: 'posts', orderBy: [{ field: 'likes' }] }),
    );
  });
});
