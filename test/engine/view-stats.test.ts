import { describe, expect, it } from 'vitest';
import { Circuit } from '../../engine/index.js';

function postsCircuit(count: number): Circuit {
  const circuit = new Circuit({ tables: ['posts', 'users'] });
  for (let i = 0; i < count; i++) {
    circuit.ingestSingle('posts', 'CREATE', `p${i}`, { authorId: `u${i % 4}`, likes: i % 7, title: `t${i}` });
  }
  for (let i = 0; i < 4; i++) circuit.ingestSingle('users', 'CREATE', `u${i}`, { name: `n${i}` });
  return circuit;
}

describe('viewStats', () => {
  it('counts a plain filter view by its result only', () => {
    const circuit = postsCircuit(40);
    circuit.registerView({ id: 'liked', from: 'posts', where: { likes: { gt: 4 } } });
    const stats = circuit.viewStats('liked');
    expect(stats).toMatchObject({ view: 'liked', resultRows: 10, privateIndexEntries: 0, sharedIndexes: [] });
    expect(stats.approxBytes).toBeGreaterThan(0);
  });

  it('counts every candidate a top-k view keeps beside its window, and follows changes', () => {
    const circuit = postsCircuit(40);
    circuit.registerView({
      id: 'top',
      from: 'posts',
      where: { likes: { ne: 0 } },
      orderBy: [{ field: 'likes', direction: 'desc' }],
      limit: 3,
    });
    const before = circuit.viewStats('top');
    expect(before).toMatchObject({ resultRows: 3, privateIndexEntries: 34 });
    circuit.ingestSingle('posts', 'DELETE', 'p1');
    const after = circuit.viewStats('top');
    expect(after).toMatchObject({ resultRows: 3, privateIndexEntries: 33 });
    expect(after.approxBytes).toBeLessThan(before.approxBytes);
  });

  it('counts both sides of a join and reports the shared equality lookup a view was filed under', () => {
    const circuit = postsCircuit(40);
    circuit.registerView({
      id: 'byU1',
      from: 'posts',
      where: { authorId: { eq: 'u1' } },
      join: [{ table: 'users', as: 'author', on: { left: 'authorId', right: 'id' } }],
    });
    expect(circuit.viewStats('byU1')).toMatchObject({
      resultRows: 10,
      privateIndexEntries: 10 + 4,
      sharedIndexes: [{ kind: 'equality', table: 'posts', path: 'authorId' }],
    });
  });

  it('counts groups of an aggregate view, and rejects an unknown view with a coded error', () => {
    const circuit = postsCircuit(40);
    circuit.registerView({ id: 'perAuthor', from: 'posts', groupBy: ['authorId'], aggregate: { n: { fn: 'count' } } });
    expect(circuit.viewStats('perAuthor')).toMatchObject({ resultRows: 4, privateIndexEntries: 4 });
    expect(() => circuit.viewStats('missing')).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
  });
});
