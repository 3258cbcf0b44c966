import { describe, expect, it } from 'vitest';
import { EngineError, type EngineErrorCode } from '../../engine/errors.js';
import { Circuit } from '../../engine/index.js';
import type { Operation, RecordChange, ViewDefinition } from '../../engine/types.js';

/**
 * Every error is an EngineError with a code naming the table, id or field at fault, and
 * after every error the engine's state (records, every snapshot with version and hash) is
 * exactly what it was.
 */

const views: ViewDefinition[] = [
  { id: 'usersList', from: 'users', orderBy: [{ field: 'name' }] },
  { id: 'usersCount', from: 'users', aggregate: { count: { fn: 'count' } } },
  {
    id: 'topPosts',
    from: 'posts',
    join: [{ table: 'users', as: 'author', on: { left: 'authorId', right: 'id' }, kind: 'left' }],
    select: ['title', 'author.name'],
    orderBy: [{ field: 'likes', direction: 'desc' }],
    limit: 2,
  },
];

function setUp(): Circuit {
  const circuit = new Circuit({ tables: ['users', 'posts'] });
  for (const view of views) circuit.registerView(view);
  circuit.ingestBatch([
    { table: 'users', op: 'CREATE', id: 'u1', data: { name: 'Ann', active: true } },
    { table: 'users', op: 'CREATE', id: 'u2', data: { name: 'Bob', active: false } },
    { table: 'posts', op: 'CREATE', id: 'p1', data: { authorId: 'u1', title: 'Hi', likes: 3 } },
  ]);
  return circuit;
}

/** Everything observable: the records and every view's snapshot. */
function state(circuit: Circuit): unknown {
  return {
    users: [...circuit.records('users')],
    posts: [...circuit.records('posts')],
    views: views.map((view) => circuit.snapshot(view.id)),
  };
}

interface Expected {
  code: EngineErrorCode;
  table?: string;
  id?: string;
  field?: string;
}

/** Runs `action`, expects it to throw `expected`, and the state to be unchanged. */
function expectError(circuit: Circuit, action: () => unknown, expected: Expected): EngineError {
  const before = state(circuit);
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(EngineError);
  const error = caught as EngineError;
  expect(error.code).toBe(expected.code);
  for (const location of ['table', 'id', 'field'] as const) {
    const value = expected[location];
    if (value === undefined) continue;
    expect(error[location]).toBe(value);
    expect(error.message).toContain(value);
  }
  expect(state(circuit)).toEqual(before);
  return error;
}

const single = (circuit: Circuit, table: string, op: Operation, id: string, data?: unknown) => () =>
  circuit.ingestSingle(table, op, id, data);

describe('ingest errors', () => {
  it('CREATE of an existing id is CONFLICT', () => {
    const circuit = setUp();
    expectError(circuit, single(circuit, 'users', 'CREATE', 'u1', { name: 'Other' }), {
      code: 'CONFLICT',
      table: 'users',
      id: 'u1',
    });
    expect(circuit.getRecord('users', 'u1')).toEqual({ id: 'u1', name: 'Ann', active: true });
  });

  it('UPDATE of a missing id is NOT_FOUND', () => {
    const circuit = setUp();
    expectError(circuit, single(circuit, 'users', 'UPDATE', 'u9', { name: 'Nobody' }), {
      code: 'NOT_FOUND',
      table: 'users',
      id: 'u9',
    });
    expect(circuit.getRecord('users', 'u9')).toBeUndefined();
  });

  it('an unknown table is BAD_INPUT', () => {
    const circuit = setUp();
    expectError(circuit, single(circuit, 'comments', 'CREATE', 'c1', { text: 'x' }), {
      code: 'BAD_INPUT',
      table: 'comments',
    });
    expectError(circuit, single(circuit, 'comments', 'DELETE', 'c1'), { code: 'BAD_INPUT', table: 'comments' });
  });

  it.each([
    ['a number', 5],
    ['null', null],
    ['an array', [{ name: 'Ann' }]],
    ['a string', 'Ann'],
    ['missing', undefined],
  ])('data that is %s is BAD_INPUT', (_, data) => {
    const circuit = setUp();
    expectError(circuit, single(circuit, 'users', 'CREATE', 'u3', data), {
      code: 'BAD_INPUT',
      table: 'users',
      id: 'u3',
    });
    expectError(circuit, single(circuit, 'users', 'UPDATE', 'u1', data), {
      code: 'BAD_INPUT',
      table: 'users',
      id: 'u1',
    });
    expect(circuit.getRecord('users', 'u3')).toBeUndefined();
  });

  it('an empty or non-string id is BAD_INPUT', () => {
    const circuit = setUp();
    expectError(circuit, single(circuit, 'users', 'CREATE', '', { name: 'X' }), { code: 'BAD_INPUT', table: 'users' });
    expectError(circuit, single(circuit, 'users', 'CREATE', 7 as unknown as string, { name: 'X' }), {
      code: 'BAD_INPUT',
      table: 'users',
    });
    expectError(circuit, single(circuit, 'users', 'DELETE', ''), { code: 'BAD_INPUT', table: 'users' });
  });

  it('data whose id disagrees with the id argument is BAD_INPUT', () => {
    const circuit = setUp();
    expectError(circuit, single(circuit, 'users', 'CREATE', 'u3', { id: 'u4', name: 'X' }), {
      code: 'BAD_INPUT',
      table: 'users',
      id: 'u3',
      field: 'id',
    });
    expectError(circuit, single(circuit, 'users', 'UPDATE', 'u1', { id: 'u2', name: 'X' }), {
      code: 'BAD_INPUT',
      table: 'users',
      id: 'u1',
      field: 'id',
    });
  });

  it('an unknown operation is BAD_INPUT', () => {
    const circuit = setUp();
    expectError(circuit, single(circuit, 'users', 'PATCH' as Operation, 'u1', { name: 'X' }), { code: 'BAD_INPUT' });
  });

  it('a batch with one invalid change in the middle applies nothing', () => {
    const circuit = setUp();
    const valid: RecordChange[] = [
      { table: 'users', op: 'CREATE', id: 'u3', data: { name: 'Cy', active: true } },
      { table: 'posts', op: 'UPDATE', id: 'p1', data: { authorId: 'u3', title: 'Hi', likes: 9 } },
    ];
    const last: RecordChange = { table: 'users', op: 'DELETE', id: 'u1' };
    const invalid: [RecordChange, Expected][] = [
      [
        { table: 'users', op: 'UPDATE', id: 'u9', data: { name: 'X' } },
        { code: 'NOT_FOUND', table: 'users', id: 'u9' },
      ],
      [
        { table: 'users', op: 'CREATE', id: 'u2', data: { name: 'X' } },
        { code: 'CONFLICT', table: 'users', id: 'u2' },
      ],
      // conflicts with the CREATE earlier in the same batch
      [
        { table: 'users', op: 'CREATE', id: 'u3', data: { name: 'X' } },
        { code: 'CONFLICT', table: 'users', id: 'u3' },
      ],
      [
        { table: 'nope', op: 'DELETE', id: 'x' },
        { code: 'BAD_INPUT', table: 'nope' },
      ],
      [
        { table: 'users', op: 'CREATE', id: 'u5', data: 5 },
        { code: 'BAD_INPUT', table: 'users', id: 'u5' },
      ],
      [
        { table: 'users', op: 'CREATE', id: 'u5', data: { id: 'u6' } },
        { code: 'BAD_INPUT', table: 'users', id: 'u5' },
      ],
    ];
    for (const [change, expected] of invalid) {
      expectError(circuit, () => circuit.ingestBatch([...valid, change, last]), expected);
      expect(circuit.getRecord('users', 'u3')).toBeUndefined();
      expect(circuit.getRecord('users', 'u1')).toBeDefined();
    }
    // and without the invalid change the same batch applies
    expect(circuit.ingestBatch([...valid, last]).length).toBeGreaterThan(0);
    expect(circuit.getRecord('users', 'u1')).toBeUndefined();
  });
});

describe('view definition errors', () => {
  const bad: [string, unknown, Expected][] = [
    ['an unknown table', { id: 'x', from: 'comments' }, { code: 'BAD_INPUT' }],
    [
      'an unknown join table',
      { id: 'x', from: 'posts', join: [{ table: 'comments', as: 'c', on: { left: 'id', right: 'postId' } }] },
      { code: 'BAD_INPUT' },
    ],
    ['an unknown operator', { id: 'x', from: 'users', where: { name: { like: 'A%' } } }, { code: 'BAD_INPUT' }],
    ['a negative limit', { id: 'x', from: 'users', limit: -1 }, { code: 'BAD_INPUT' }],
    ['a fractional limit', { id: 'x', from: 'users', limit: 1.5 }, { code: 'BAD_INPUT' }],
    ['a string limit', { id: 'x', from: 'users', limit: '3' }, { code: 'BAD_INPUT' }],
    ['a negative offset', { id: 'x', from: 'users', offset: -2 }, { code: 'BAD_INPUT' }],
    ['an unknown key', { id: 'x', from: 'users', having: {} }, { code: 'BAD_INPUT' }],
    ['no id', { from: 'users' }, { code: 'BAD_INPUT' }],
    ['an empty id', { id: '', from: 'users' }, { code: 'BAD_INPUT' }],
    [
      'an unknown aggregate',
      { id: 'x', from: 'users', aggregate: { n: { fn: 'median', field: 'age' } } },
      { code: 'BAD_INPUT' },
    ],
    ['a sum without a field', { id: 'x', from: 'users', aggregate: { n: { fn: 'sum' } } }, { code: 'BAD_INPUT' }],
    [
      'a bad direction',
      { id: 'x', from: 'users', orderBy: [{ field: 'name', direction: 'up' }] },
      { code: 'BAD_INPUT' },
    ],
    [
      'a missing parameter',
      { id: 'x', from: 'users', where: { age: { gt: { param: 'min' } } } },
      { code: 'BAD_INPUT' },
    ],
    ['in without an array', { id: 'x', from: 'users', where: { age: { in: 3 } } }, { code: 'BAD_INPUT' }],
    ['not a definition', 'usersList', { code: 'BAD_INPUT' }],
  ];

  it.each(bad)('%s is BAD_INPUT and registers nothing', (_, definition, expected) => {
    const circuit = setUp();
    expectError(circuit, () => circuit.registerView(definition as ViewDefinition), expected);
    expect(() => circuit.snapshot('x')).toThrow(EngineError);
    // the id stays free
    expect(circuit.registerView({ id: 'x', from: 'users' }).rows).toHaveLength(2);
  });

  it('a duplicate view id is BAD_INPUT and keeps the first view', () => {
    const circuit = setUp();
    expectError(circuit, () => circuit.registerView({ id: 'usersList', from: 'posts' }), { code: 'BAD_INPUT' });
    expect(circuit.snapshot('usersList').rows.map((row) => row['id'])).toEqual(['u1', 'u2']);
  });

  it('an unknown view is an EngineError; unregistering it returns false', () => {
    const circuit = setUp();
    expect(() => circuit.snapshot('nope')).toThrow(EngineError);
    expect(circuit.unregisterView('nope')).toBe(false);
    expect(circuit.unregisterView('usersList')).toBe(true);
    expect(() => circuit.snapshot('usersList')).toThrow(EngineError);
  });

  it('a constructor with a duplicate table is BAD_INPUT', () => {
    expect(() => new Circuit({ tables: ['users', 'users'] })).toThrow(EngineError);
  });
});
