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

  it('counts only the window of a top-k view over a shared ordered index, and follows changes', () => {
    const circuit = postsCircuit(40);
    // The first view of an order keeps a private top-k; the second reads the shared index.
    circuit.registerView({ id: 'first', from: 'posts', orderBy: [{ field: 'likes', direction: 'desc' }], limit: 1 });
    circuit.registerView({
      id: 'top',
      from: 'posts',
      where: { likes: { ne: 0 } },
      orderBy: [{ field: 'likes', direction: 'desc' }],
      limit: 3,
      offset: 1,
    });
    const before = circuit.viewStats('top');
    expect(before).toMatchObject({
      resultRows: 3,
      privateIndexEntries: 4,
      sharedIndexes: [{ kind: 'ordered', table: 'posts', orderBy: [{ field: 'likes', direction: 'desc' }] }],
    });
    circuit.ingestSingle('posts', 'DELETE', 'p6'); // likes 6: in the window, which refills
    expect(circuit.viewStats('top')).toMatchObject({ resultRows: 3, privateIndexEntries: 4 });
    for (let i = 0; i < 40; i++) circuit.ingestSingle('posts', 'DELETE', `p${i}`);
    const after = circuit.viewStats('top');
    expect(after).toMatchObject({ resultRows: 0, privateIndexEntries: 0 });
    expect(after.approxBytes).toBeLessThan(before.approxBytes);
  });

  it('keeps only the window of a topPosts-shaped view (left join on id after the window) and its joined rows', () => {
    const circuit = postsCircuit(40);
    // The first view of an order keeps a private top-k; the second reads the shared index.
    circuit.registerView({ id: 'first', from: 'posts', orderBy: [{ field: 'likes', direction: 'desc' }], limit: 1 });
    circuit.registerView({
      id: 'top',
      from: 'posts',
      where: { likes: { ne: 0 } },
      join: [{ table: 'users', as: 'author', on: { left: 'authorId', right: 'id' }, kind: 'left' }],
      select: ['title', 'author.name'],
      orderBy: [{ field: 'likes', direction: 'desc' }],
      limit: 3,
    });
    expect(circuit.viewStats('top')).toMatchObject({
      resultRows: 3,
      privateIndexEntries: 3 + 3, // the window, and its rows on the join's left side
      sharedIndexes: [
        { kind: 'equality', table: 'users', path: 'id' },
        { kind: 'ordered', table: 'posts', orderBy: [{ field: 'likes', direction: 'desc' }], partitionPath: null },
      ],
    });
    const [first] = circuit.snapshot('top').rows;
    const authorId = circuit.getRecord('posts', first?.id as string)?.authorId as string;
    const [update] = circuit.ingestSingle('users', 'UPDATE', authorId, { name: 'renamed' });
    expect(update?.updated.map((row) => row.author)).toContainEqual({ name: 'renamed' });
  });

  it('counts every candidate of a top-k over joined rows, which keeps a private index', () => {
    const circuit = postsCircuit(40);
    circuit.registerView({
      id: 'top',
      from: 'posts',
      where: { likes: { ne: 0 } },
      join: [{ table: 'users', as: 'author', on: { left: 'authorId', right: 'id' } }], // inner: may drop rows
      orderBy: [{ field: 'likes', direction: 'desc' }],
      limit: 3,
    });
    const before = circuit.viewStats('top');
    // 34 candidates; the join reads posts by authorId and users by id from shared lookups
    expect(before).toMatchObject({
      resultRows: 3,
      privateIndexEntries: 34,
      sharedIndexes: [
        { kind: 'equality', table: 'posts', path: 'authorId' },
        { kind: 'equality', table: 'users', path: 'id' },
      ],
    });
    circuit.ingestSingle('posts', 'DELETE', 'p1');
    const after = circuit.viewStats('top');
    expect(after).toMatchObject({ resultRows: 3, privateIndexEntries: 33 });
    expect(after.approxBytes).toBeLessThan(before.approxBytes);
  });

  it('holds no join state of its own: the lookups it was filed under and joins through are shared', () => {
    const circuit = postsCircuit(40);
    circuit.registerView({
      id: 'byU1',
      from: 'posts',
      where: { authorId: { eq: 'u1' } },
      join: [{ table: 'users', as: 'author', on: { left: 'authorId', right: 'id' } }],
    });
    expect(circuit.viewStats('byU1')).toMatchObject({
      resultRows: 10,
      privateIndexEntries: 0, // its join's left rows are read from the lookup it was filed under
      sharedIndexes: [
        { kind: 'equality', table: 'posts', path: 'authorId' },
        { kind: 'equality', table: 'users', path: 'id' },
      ],
    });
  });

  it('counts groups of an aggregate view, and rejects an unknown view with a coded error', () => {
    const circuit = postsCircuit(40);
    circuit.registerView({ id: 'perAuthor', from: 'posts', groupBy: ['authorId'], aggregate: { n: { fn: 'count' } } });
    expect(circuit.viewStats('perAuthor')).toMatchObject({ resultRows: 4, privateIndexEntries: 4 });
    expect(() => circuit.viewStats('missing')).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
  });
});

describe('viewVersion', () => {
  it('is the version a snapshot would carry, moving only when the view changes', () => {
    const circuit = postsCircuit(10);
    circuit.registerView({ id: 'liked', from: 'posts', where: { likes: { gt: 4 } } });
    const before = circuit.viewVersion('liked');
    expect(before).toBe(circuit.snapshot('liked').version);
    circuit.ingestSingle('posts', 'CREATE', 'p100', { authorId: 'u0', likes: 0, title: 'unliked' });
    expect(circuit.viewVersion('liked')).toBe(before);
    circuit.ingestSingle('posts', 'CREATE', 'p101', { authorId: 'u0', likes: 6, title: 'liked' });
    expect(circuit.viewVersion('liked')).toBeGreaterThan(before);
    expect(circuit.viewVersion('liked')).toBe(circuit.snapshot('liked').version);
  });
});
