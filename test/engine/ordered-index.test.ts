import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Circuit, type ViewDefinition } from '../../engine/index.js';

/** The shared ordered indexes live exactly as long as some view reads them. */

const AUTHORS = ['u1', 'u2', 'u3'];

function postsCircuit(count: number): Circuit {
  const circuit = new Circuit({ tables: ['posts'] });
  for (let i = 0; i < count; i++)
    circuit.ingestSingle('posts', 'CREATE', `p${i}`, { authorId: AUTHORS[i % 3], likes: i % 5, title: `t${i}` });
  return circuit;
}

/** Definitions that share indexes in every way: same order, other order, partitioned, none. */
const SHAPES: Omit<ViewDefinition, 'id'>[] = [
  { from: 'posts', where: { likes: { ne: 1 } }, orderBy: [{ field: 'likes', direction: 'desc' }], limit: 3 },
  { from: 'posts', where: { likes: { ne: 2 } }, orderBy: [{ field: 'likes', direction: 'desc' }], limit: 2 },
  { from: 'posts', orderBy: [{ field: 'likes' }], limit: 4, offset: 2 },
  { from: 'posts', orderBy: [{ field: 'likes', direction: 'asc' }], limit: 1 },
  { from: 'posts', limit: 5 },
  { from: 'posts', where: { authorId: { eq: 'u1' } }, orderBy: [{ field: 'likes', direction: 'desc' }], limit: 2 },
  { from: 'posts', where: { authorId: { eq: 'u9' } }, orderBy: [{ field: 'likes', direction: 'desc' }], limit: 2 },
  { from: 'posts', orderBy: [{ field: 'title' }] }, // no limit: a private index, no shared one
];

const view = (id: string, shape: number): ViewDefinition => ({ ...(SHAPES[shape] as Omit<ViewDefinition, 'id'>), id });

describe('shared ordered indexes', () => {
  it('are shared by views of one order, and dropped with the last of them', () => {
    const circuit = postsCircuit(30);
    circuit.registerView(view('a', 0)); // the first view of an order keeps a private top-k
    expect(circuit.stats()).toMatchObject({ orderedIndexes: 0, windows: 0, routes: 1 });
    circuit.registerView(view('b', 1)); // the second builds the shared index
    expect(circuit.stats()).toMatchObject({ orderedIndexes: 1, orderedEntries: 30, windows: 1, routes: 1 });
    circuit.registerView(view('c', 3)); // asc: the first of its order
    expect(circuit.stats()).toMatchObject({ orderedIndexes: 1, windows: 1 });
    circuit.registerView(view('d', 3));
    expect(circuit.stats()).toMatchObject({ orderedIndexes: 2, orderedEntries: 60, windows: 2 });
    circuit.unregisterView('b');
    expect(circuit.stats()).toMatchObject({ orderedIndexes: 1, orderedEntries: 30, windows: 1 });
    circuit.unregisterView('d');
    expect(circuit.stats()).toMatchObject({ orderedIndexes: 0, windows: 0 });
    circuit.registerView(view('e', 0)); // private 'a' still reads that order: 'e' shares a new index
    expect(circuit.stats()).toMatchObject({ orderedIndexes: 1, windows: 1 });
    for (const id of ['a', 'c', 'e']) circuit.unregisterView(id);
    expect(circuit.stats()).toMatchObject({ orderedIndexes: 0, orderedEntries: 0, orderedPartitions: 0, windows: 0 });
    circuit.registerView(view('f', 0)); // no view of that order left: private again
    expect(circuit.stats()).toMatchObject({ orderedIndexes: 0, windows: 0 });
  });

  it('keep no partition that holds no record and serves no window', () => {
    const circuit = postsCircuit(9);
    circuit.registerView(view('first', 5)); // same order and partition path, kept private
    circuit.registerView(view('none', 6)); // u9 has no post
    expect(circuit.stats()).toMatchObject({ orderedIndexes: 1, orderedPartitions: 4 });
    circuit.ingestSingle('posts', 'CREATE', 'q', { authorId: 'u9', likes: 1 });
    expect(circuit.snapshot('none').rows.map((row) => row.id)).toEqual(['q']);
    circuit.ingestSingle('posts', 'UPDATE', 'q', { authorId: 'u8', likes: 1 });
    expect(circuit.stats()).toMatchObject({ orderedPartitions: 5 }); // u1-u3, u9 (read), u8 (holds q)
    circuit.ingestSingle('posts', 'DELETE', 'q');
    expect(circuit.stats()).toMatchObject({ orderedPartitions: 4 });
    circuit.unregisterView('none');
    expect(circuit.stats()).toMatchObject({ orderedIndexes: 0, orderedPartitions: 0 });
  });

  it('after random register/unregister cycles among changes, no index remains that no view uses', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('register' as const), shape: fc.nat(SHAPES.length - 1), n: fc.nat(3) }),
            fc.record({ kind: fc.constant('unregister' as const), shape: fc.nat(SHAPES.length - 1), n: fc.nat(3) }),
            fc.record({ kind: fc.constant('change' as const), shape: fc.nat(29), n: fc.nat(4) }),
          ),
          { maxLength: 60 },
        ),
        (steps) => {
          const circuit = postsCircuit(30);
          for (const { kind, shape, n } of steps) {
            const id = `v${shape}-${n}`;
            if (kind === 'register' && !circuit.hasView(id)) circuit.registerView(view(id, shape));
            else if (kind === 'unregister') circuit.unregisterView(id);
            else if (kind === 'change')
              circuit.ingestSingle('posts', 'UPDATE', `p${shape}`, { authorId: AUTHORS[n % 3], likes: n, title: 't' });
            const used = new Set<string>();
            for (const view of circuit.viewIds())
              for (const shared of circuit.viewStats(view).sharedIndexes)
                if (shared.kind === 'ordered') used.add(JSON.stringify(shared));
            expect(circuit.stats().orderedIndexes).toBe(used.size);
          }
          for (const view of circuit.viewIds()) circuit.unregisterView(view);
          expect(circuit.stats()).toMatchObject({
            views: 0,
            routes: 0,
            orderedIndexes: 0,
            orderedEntries: 0,
            orderedPartitions: 0,
            windows: 0,
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('leave a view whose filter passes too few rows to refill by scanning with a private index', () => {
    const circuit = new Circuit({ tables: ['posts'] });
    for (let i = 0; i < 20_000; i++)
      circuit.ingestSingle('posts', 'CREATE', `p${String(i).padStart(5, '0')}`, { likes: i });
    // 10 rows in 20,000 pass, all at the end of the order: filling 20 would scan the whole table.
    const definition: ViewDefinition = { id: 'rare', from: 'posts', where: { likes: { gte: 19_990 } }, limit: 20 };
    const snapshot = circuit.registerView(definition);
    expect(snapshot.rows).toHaveLength(10);
    expect(circuit.viewStats('rare')).toMatchObject({ sharedIndexes: [], privateIndexEntries: 10 });
    expect(circuit.stats()).toMatchObject({ orderedIndexes: 0, windows: 0, routes: 1 });
    circuit.ingestSingle('posts', 'UPDATE', 'p00000', { likes: 20_000 });
    expect(circuit.snapshot('rare').rows.map((row) => row.id)).toEqual([
      'p00000',
      ...Array.from({ length: 10 }, (_, i) => `p${19_990 + i}`),
    ]);
  });
});
