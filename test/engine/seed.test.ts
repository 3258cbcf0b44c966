import { describe, expect, it } from 'vitest';
import { hashRows } from '../../engine/hash.js';
import { Circuit } from '../../engine/index.js';
import type { ViewDefinition, ViewUpdate } from '../../engine/types.js';

/**
 * The seed scenario: one mutation feeds every view that reads its table, not only the first.
 */

const usersList: ViewDefinition = { id: 'usersList', from: 'users', orderBy: [{ field: 'name' }] };
const usersCount: ViewDefinition = { id: 'usersCount', from: 'users', aggregate: { count: { fn: 'count' } } };
const activeUsers: ViewDefinition = { id: 'activeUsers', from: 'users', where: { active: { eq: true } } };

const ann = { name: 'Ann', email: 'a@x', role: 'user', active: true, age: 30 };
const bob = { name: 'Bob', email: 'b@x', role: 'admin', active: false, age: null };

function seeded(): { circuit: Circuit; versions: Map<string, number> } {
  const circuit = new Circuit({ tables: ['users', 'posts'] });
  const versions = new Map<string, number>();
  for (const definition of [usersList, usersCount, activeUsers]) {
    versions.set(definition.id, circuit.registerView(definition).version);
  }
  return { circuit, versions };
}

function byView(updates: readonly ViewUpdate[]): Map<string, ViewUpdate> {
  return new Map(updates.map((update) => [update.view, update]));
}

describe('seed scenario', () => {
  it('computes the initial results at registration', () => {
    const circuit = new Circuit({ tables: ['users', 'posts'] });
    expect(circuit.registerView(usersList)).toMatchObject({ view: 'usersList', rows: [], hash: hashRows([]) });
    const count = circuit.registerView(usersCount);
    expect(count).toMatchObject({ view: 'usersCount', rows: [{ id: '*', count: 0 }] });
    expect(count.hash).toBe(hashRows([{ id: '*', count: 0 }]));
    expect(circuit.snapshot('usersCount')).toEqual(count);
  });

  it('one CREATE returns an update for each of the three views', () => {
    const { circuit, versions } = seeded();
    const updates = circuit.ingestSingle('users', 'CREATE', 'u1', ann);
    expect(updates).toHaveLength(3);
    const u1 = { id: 'u1', ...ann };
    const got = byView(updates);

    expect(got.get('usersList')).toEqual({
      view: 'usersList',
      version: (versions.get('usersList') ?? 0) + 1,
      added: [u1],
      updated: [],
      removed: [],
      hash: hashRows([u1]),
    });
    expect(got.get('usersCount')).toEqual({
      view: 'usersCount',
      version: (versions.get('usersCount') ?? 0) + 1,
      added: [],
      updated: [{ id: '*', count: 1 }],
      removed: [],
      hash: hashRows([{ id: '*', count: 1 }]),
    });
    expect(got.get('activeUsers')).toEqual({
      view: 'activeUsers',
      version: (versions.get('activeUsers') ?? 0) + 1,
      added: [u1],
      updated: [],
      removed: [],
      hash: hashRows([u1]),
    });
    expect(circuit.getRecord('users', 'u1')).toEqual(u1);
    expect(circuit.snapshot('usersList')).toEqual({
      view: 'usersList',
      version: (versions.get('usersList') ?? 0) + 1,
      rows: [u1],
      hash: hashRows([u1]),
    });
  });

  it('an inactive user reaches the list and the count but not the active view', () => {
    const { circuit } = seeded();
    circuit.ingestSingle('users', 'CREATE', 'u1', ann);
    const got = byView(circuit.ingestSingle('users', 'CREATE', 'u2', bob));
    expect([...got.keys()].sort()).toEqual(['usersCount', 'usersList']);
    expect(got.get('usersCount')?.updated).toEqual([{ id: '*', count: 2 }]);
    expect(circuit.snapshot('usersList').rows.map((row) => row['id'])).toEqual(['u1', 'u2']);

    // deactivating Ann leaves the list's membership alone but changes its row
    const after = byView(circuit.ingestSingle('users', 'UPDATE', 'u1', { ...ann, active: false }));
    expect([...after.keys()].sort()).toEqual(['activeUsers', 'usersList']);
    expect(after.get('activeUsers')).toMatchObject({ added: [], updated: [], removed: ['u1'], hash: hashRows([]) });
    expect(after.get('usersList')).toMatchObject({
      added: [],
      updated: [{ id: 'u1', ...ann, active: false }],
      removed: [],
    });
  });

  it('ingestSingleFirst returns one update, and every view still advances', () => {
    const { circuit, versions } = seeded();
    const first = circuit.ingestSingleFirst('users', 'CREATE', 'u1', ann);
    expect(first).toBeDefined();
    expect(['usersList', 'usersCount', 'activeUsers']).toContain(first?.view);
    for (const [view, version] of versions) expect(circuit.snapshot(view).version).toBe(version + 1);
    expect(circuit.ingestSingleFirst('users', 'DELETE', 'missing')).toBeUndefined();
  });

  it('five views on one table return five updates', () => {
    const circuit = new Circuit({ tables: ['users'] });
    for (let i = 0; i < 5; i++) circuit.registerView({ id: `v${i}`, from: 'users', where: { age: { gte: i } } });
    const updates = circuit.ingestSingle('users', 'CREATE', 'u1', ann);
    expect(updates.map((update) => update.view).sort()).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
  });

  it('a change to a table no view reads returns one shared, frozen empty list', () => {
    const { circuit } = seeded();
    const first = circuit.ingestSingle('posts', 'CREATE', 'p1', {
      authorId: 'u1',
      title: 'Hi',
      published: true,
      likes: 0,
    });
    const second = circuit.ingestSingle('posts', 'UPDATE', 'p1', {
      authorId: 'u1',
      title: 'Ho',
      published: true,
      likes: 1,
    });
    const third = circuit.ingestSingle('posts', 'DELETE', 'p1');
    expect(first).toEqual([]);
    expect(Object.isFrozen(first)).toBe(true);
    expect(second).toBe(first);
    expect(third).toBe(first);
    expect(circuit.getRecord('posts', 'p1')).toBeUndefined();
    expect(
      circuit.ingestSingleFirst('posts', 'CREATE', 'p2', { authorId: 'u1', title: 'Hi', published: true, likes: 0 }),
    ).toBeUndefined();
  });

  it('no-ops return an empty list and leave every version alone', () => {
    const { circuit } = seeded();
    circuit.ingestSingle('users', 'CREATE', 'u1', ann);
    const before = ['usersList', 'usersCount', 'activeUsers'].map((view) => circuit.snapshot(view));
    expect(circuit.ingestSingle('users', 'UPDATE', 'u1', { ...ann })).toEqual([]);
    expect(circuit.ingestSingle('users', 'UPDATE', 'u1', { ...ann, id: 'u1' })).toEqual([]);
    expect(circuit.ingestSingle('users', 'DELETE', 'u9')).toEqual([]);
    expect(circuit.ingestBatch([])).toEqual([]);
    expect(['usersList', 'usersCount', 'activeUsers'].map((view) => circuit.snapshot(view))).toEqual(before);
  });

  it('a batch returns at most one consolidated update per view', () => {
    const { circuit, versions } = seeded();
    const updates = circuit.ingestBatch([
      { table: 'users', op: 'CREATE', id: 'u1', data: ann },
      { table: 'users', op: 'CREATE', id: 'u2', data: bob },
      { table: 'users', op: 'UPDATE', id: 'u2', data: { ...bob, name: 'Bo' } },
      { table: 'users', op: 'UPDATE', id: 'u2', data: { ...bob, name: 'Bobby' } },
      { table: 'users', op: 'CREATE', id: 'u3', data: ann },
      { table: 'users', op: 'DELETE', id: 'u3' },
    ]);
    const got = byView(updates);
    expect(updates).toHaveLength(3);
    expect(got.get('usersList')).toMatchObject({
      version: (versions.get('usersList') ?? 0) + 1,
      added: expect.arrayContaining([
        { id: 'u1', ...ann },
        { id: 'u2', ...bob, name: 'Bobby' },
      ]),
      updated: [],
      removed: [],
    });
    expect(got.get('usersList')?.added).toHaveLength(2);
    expect(got.get('usersCount')?.updated).toEqual([{ id: '*', count: 2 }]);
    expect(got.get('activeUsers')?.added).toEqual([{ id: 'u1', ...ann }]);
  });
});

describe('result hash', () => {
  it('does not depend on the order rows were added, even for hashes near 2^53', async () => {
    const { ResultHash } = await import('../../engine/index.js');
    const big = 2 ** 53 - 1;
    const small = 2 ** 32 - 2; // small + big is odd and above 2^53: a double would round it
    const forward = new ResultHash();
    forward.add(small);
    forward.add(big);
    const backward = new ResultHash();
    backward.add(big);
    backward.add(small);
    expect(forward.toString()).toBe(backward.toString());
    forward.remove(big);
    forward.remove(small);
    expect(forward.toString()).toBe('0000000000000000');
  });
});

describe('registration', () => {
  it('starts every view at version 0, whether its initial result is empty or not', () => {
    const circuit = new Circuit({ tables: ['users'] });
    expect(circuit.registerView({ id: 'count', from: 'users', aggregate: { n: { fn: 'count' } } }).version).toBe(0);
    circuit.ingestSingle('users', 'CREATE', 'u1', { name: 'Ann' });
    expect(circuit.registerView({ id: 'all', from: 'users' }).version).toBe(0);
    expect(circuit.snapshot('count').version).toBe(1);
    expect(circuit.ingestSingle('users', 'CREATE', 'u2', { name: 'Bob' }).map((u) => [u.view, u.version])).toEqual([
      ['count', 2],
      ['all', 1],
    ]);
  });
});

describe('startVersion', () => {
  it('starts a view at the given version and counts on from it', () => {
    const circuit = new Circuit({ tables: ['users'] });
    expect(circuit.registerView({ id: 'all', from: 'users' }, {}, { startVersion: 41 }).version).toBe(41);
    expect(circuit.ingestSingle('users', 'CREATE', 'u1', { name: 'Ann' })[0]?.version).toBe(42);
    expect(() => circuit.registerView({ id: 'other', from: 'users' }, {}, { startVersion: -1 })).toThrow(
      /startVersion/,
    );
  });
});
