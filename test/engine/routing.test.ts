import { describe, expect, it } from 'vitest';
import { Circuit, evaluateView, type Record, type ViewDefinition } from '../../engine/index.js';

/** Routing by index must be invisible: every view still sees every change that concerns it. */
describe('routing by index', () => {
  const definitions: ViewDefinition[] = [
    { id: 'byAuthor', from: 'posts', where: { authorId: { eq: 'u1' } } },
    { id: 'byAuthors', from: 'posts', where: { authorId: { in: ['u1', 'u2'] }, published: { eq: true } } },
    { id: 'published', from: 'posts', where: { published: { eq: true } } },
    { id: 'nested', from: 'posts', where: { and: [{ likes: { gt: 1 } }, { authorId: { eq: 'u2' } }] } },
    { id: 'none', from: 'posts', where: { authorId: { in: [] } } },
    { id: 'liked', from: 'posts', where: { likes: { gte: 2, lt: 5 } } },
    { id: 'popular', from: 'posts', where: { likes: { gt: 4 } } },
  ];

  it('routes creates, moves between indexed values and deletes to exactly the views that change', () => {
    const circuit = new Circuit({ tables: ['posts'] });
    for (const definition of definitions) circuit.registerView(definition);
    const steps: [op: 'CREATE' | 'UPDATE' | 'DELETE', id: string, data?: object][] = [
      ['CREATE', 'p1', { authorId: 'u1', published: true, likes: 2 }],
      ['UPDATE', 'p1', { authorId: 'u2', published: true, likes: 2 }], // moves within the `in` list: one update
      ['UPDATE', 'p1', { authorId: 'u3', published: true, likes: 2 }],
      ['CREATE', 'p2', { authorId: 'u2', published: false, likes: 5 }],
      ['UPDATE', 'p2', { authorId: 'u1', published: true, likes: 5 }],
      ['UPDATE', 'p2', { authorId: 'u1', published: true, likes: 4 }], // leaves `popular`, enters `liked`
      ['UPDATE', 'p2', { authorId: 'u1', published: true, likes: '4' }], // a string satisfies no range
      ['DELETE', 'p2'],
      ['DELETE', 'p1'],
    ];
    for (const [op, id, data] of steps) {
      const before = new Map(definitions.map((d) => [d.id, circuit.snapshot(d.id).rows]));
      const updates = circuit.ingestSingle('posts', op, id, data);
      const tables = new Map([
        ['posts', new Map([...circuit.records('posts')].map((r): [string, Record] => [r.id, r]))],
      ]);
      const changed = definitions.filter(
        (d) => JSON.stringify(evaluateView(d, tables)) !== JSON.stringify(before.get(d.id)),
      );
      expect(updates.map((u) => u.view).sort()).toEqual(changed.map((d) => d.id).sort());
      for (const d of definitions) expect(circuit.snapshot(d.id).rows).toEqual(evaluateView(d, tables));
    }
  });

  it('files views under their values and forgets them when unregistered', () => {
    const circuit = new Circuit({ tables: ['posts'] });
    for (const definition of definitions) circuit.registerView(definition);
    // authorId: u1 (byAuthor, byAuthors) and u2 (byAuthors, nested); published: true (published);
    // the likes ranges of liked and popular.
    // byAuthor, byAuthors, nested and none were registered through one lookup on authorId.
    expect(circuit.stats()).toMatchObject({ views: 7, routes: 7, indexEntries: 5, lookups: 1 });
    for (const definition of definitions) circuit.unregisterView(definition.id);
    expect(circuit.stats()).toMatchObject({ views: 0, routes: 0, indexEntries: 0, lookups: 0 });
  });
});
