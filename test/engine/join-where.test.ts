import { describe, expect, it } from 'vitest';
import { Circuit, evaluateView, hashRows, type Record, type ViewDefinition } from '../../engine/index.js';

/** A join's `where` filters the joined table: an unreadable author of a left join is null. */
describe('join with a where on the joined table', () => {
  const definition: ViewDefinition = {
    id: 'posts',
    from: 'posts',
    join: [
      {
        table: 'users',
        as: 'author',
        on: { left: 'authorId', right: 'id' },
        kind: 'left',
        where: { active: { eq: { param: 'active' } } },
      },
    ],
  };

  function tablesOf(circuit: Circuit): Map<string, Map<string, Record>> {
    return new Map(['users', 'posts'].map((t) => [t, new Map([...circuit.records(t)].map((r) => [r.id, r]))]));
  }

  it('shows the joined row only while it satisfies the predicate, like the evaluator', () => {
    const circuit = new Circuit({ tables: ['users', 'posts'] });
    circuit.ingestSingle('users', 'CREATE', 'u1', { name: 'Ann', active: false });
    circuit.registerView(definition, { active: true });
    const check = (): void => {
      const expected = evaluateView(circuit.viewDefinition('posts'), tablesOf(circuit));
      const snapshot = circuit.snapshot('posts');
      expect(snapshot.rows).toEqual(expected);
      expect(snapshot.hash).toBe(hashRows(expected));
    };

    circuit.ingestSingle('posts', 'CREATE', 'p1', { authorId: 'u1', title: 'Hello' });
    check();
    expect(circuit.snapshot('posts').rows).toEqual([{ id: 'p1', authorId: 'u1', title: 'Hello', author: null }]);

    const [update] = circuit.ingestSingle('users', 'UPDATE', 'u1', { name: 'Ann', active: true });
    check();
    expect(update?.updated).toEqual([
      { id: 'p1', authorId: 'u1', title: 'Hello', author: { id: 'u1', name: 'Ann', active: true } },
    ]);

    circuit.ingestSingle('users', 'UPDATE', 'u1', { name: 'Ann B', active: true });
    check();
    circuit.ingestSingle('users', 'UPDATE', 'u1', { name: 'Ann B', active: false });
    check();
    expect(circuit.snapshot('posts').rows[0]?.author).toBeNull();
    circuit.ingestSingle('users', 'DELETE', 'u1');
    check();
  });
});
