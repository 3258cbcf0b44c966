import { describe, expect, it } from 'vitest';
import { Circuit } from '../../engine/index.js';
import { groupRowKey, joinRowKey } from '../../engine/row-keys.js';
import type { Value } from '../../engine/types.js';

describe('row keys', () => {
  it('give different groups different keys, whatever the values spell', () => {
    const values: Value[] = [
      null,
      'null',
      5,
      '5',
      true,
      'true',
      ' 5',
      '"5"',
      '[5]',
      [5],
      { a: 1 },
      '{"a":1}',
      'u1',
      '',
    ];
    const keys = values.map((value) => groupRowKey([value]));
    expect(new Set(keys).size).toBe(values.length);
    expect(groupRowKey(['u1'])).toBe('u1');
    expect(groupRowKey([{ b: 1, a: 2 }])).toBe(groupRowKey([{ a: 2, b: 1 }]));
    const pairs: Value[][] = [
      ['a', 'b'],
      ['a,b', null],
      [null, 'null'],
      ['x\u0000sy', 'z'],
      ['x', 'y\u0000sz'],
    ];
    expect(new Set(pairs.map(groupRowKey)).size).toBe(pairs.length);
  });

  it('give a join match a key that no other pair of ids shares', () => {
    expect(joinRowKey('x|y', 'z')).not.toBe(joinRowKey('x', 'y|z'));
    expect(joinRowKey('a","b', 'c')).not.toBe(joinRowKey('a', 'b","c'));
  });

  it('keep the group of a null project apart from a project whose id is "null"', () => {
    const circuit = new Circuit({ tables: ['tasks', 'projects'] });
    circuit.registerView({
      id: 'estimateByProject',
      from: 'tasks',
      groupBy: ['projectId'],
      aggregate: { tasks: { fn: 'count' }, total: { fn: 'sum', field: 'estimate' } },
    });
    circuit.registerView({ id: 'allTasks', from: 'tasks' });
    circuit.ingestSingle('tasks', 'CREATE', 't1', { projectId: null, estimate: 1 });
    circuit.ingestSingle('projects', 'CREATE', 'null', { name: 'a project called null' });
    circuit.ingestSingle('tasks', 'CREATE', 't2', { projectId: 'null', estimate: 2 });
    const rows = circuit.snapshot('estimateByProject').rows;
    expect(rows.map((row) => [row['projectId'], row['tasks'], row['total']])).toEqual(
      expect.arrayContaining([
        [null, 1, 1],
        ['null', 1, 2],
      ]),
    );
    expect(new Set(rows.map((row) => row['id'])).size).toBe(2);
    expect(circuit.snapshot('allTasks').rows).toHaveLength(2);
  });

  it('keep join matches apart when ids contain the old separator', () => {
    const circuit = new Circuit({ tables: ['users', 'posts'] });
    circuit.registerView({
      id: 'userPosts',
      from: 'users',
      join: [{ table: 'posts', as: 'post', on: { left: 'tag', right: 'tag' } }],
    });
    circuit.ingestSingle('users', 'CREATE', 'x|y', { tag: 1 });
    circuit.ingestSingle('users', 'CREATE', 'x', { tag: 2 });
    circuit.ingestSingle('posts', 'CREATE', 'z', { tag: 1 });
    circuit.ingestSingle('posts', 'CREATE', 'y|z', { tag: 2 });
    expect(circuit.snapshot('userPosts').rows).toHaveLength(2);
  });
});
