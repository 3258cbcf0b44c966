import { afterEach, expect, test, vi } from 'vitest';
import { Circuit, EngineFault } from '../../engine/index.js';
import { Aggregate } from '../../engine/operators/aggregate.js';

/**
 * A fault while a validated change is applied (here: an accumulator that throws) leaves the
 * views it reached updated and the others not. The circuit says so with an `EngineFault` that
 * names the change and the view, and refuses every later ingest, registration and snapshot
 * rather than serve results that may be wrong.
 */
afterEach(() => void vi.restoreAllMocks());

function circuit(): Circuit {
  const c = new Circuit({ tables: ['posts'] });
  c.registerView({ id: 'all', from: 'posts' });
  c.registerView({ id: 'perAuthor', from: 'posts', groupBy: ['authorId'], aggregate: { n: { fn: 'count' } } });
  c.ingestSingle('posts', 'CREATE', 'p1', { authorId: 'a', likes: 1 });
  return c;
}

test('a throwing operator: EngineFault naming the change and the view; the circuit refuses further use', () => {
  const c = circuit();
  vi.spyOn(Aggregate.prototype, 'push').mockImplementation(() => {
    throw new Error('accumulator bug');
  });
  let fault: unknown;
  try {
    c.ingestSingle('posts', 'CREATE', 'p2', { authorId: 'b', likes: 2 });
  } catch (error) {
    fault = error;
  }
  expect(fault).toBeInstanceOf(EngineFault);
  expect(fault).toMatchObject({ view: 'perAuthor', table: 'posts', id: 'p2' });
  expect((fault as Error).message).toMatch(/posts 'p2' to view 'perAuthor': accumulator bug/);
  vi.restoreAllMocks();
  // Even with the bug gone, nothing is served or applied: the state is half-updated.
  expect(() => c.snapshot('all')).toThrow(fault as Error);
  expect(() => c.ingestSingle('posts', 'CREATE', 'p3', { authorId: 'c', likes: 3 })).toThrow(fault as Error);
  expect(() => c.ingestBatch([{ table: 'posts', op: 'DELETE', id: 'p1' }])).toThrow(fault as Error);
  expect(() => c.registerView({ id: 'late', from: 'posts' })).toThrow(fault as Error);
});

test('in a batch, the fault names the change being applied', () => {
  const c = circuit();
  vi.spyOn(Aggregate.prototype, 'push').mockImplementation(function (this: Aggregate, delta) {
    if (delta.some((change) => change.key === 'p3')) throw new Error('boom');
    return [];
  });
  expect(() =>
    c.ingestBatch([
      { table: 'posts', op: 'CREATE', id: 'p2', data: { authorId: 'b', likes: 2 } },
      { table: 'posts', op: 'CREATE', id: 'p3', data: { authorId: 'c', likes: 3 } },
    ]),
  ).toThrow(expect.objectContaining({ name: 'EngineFault', view: 'perAuthor', id: 'p3' }));
});

test('bad input is still an EngineError that changes nothing, not a fault', () => {
  const c = circuit();
  expect(() => c.ingestSingle('posts', 'CREATE', 'p1', { authorId: 'a', likes: 1 })).toThrow(/already exists/);
  expect(c.snapshot('all').rows).toHaveLength(1);
  expect(c.ingestSingle('posts', 'CREATE', 'p2', { authorId: 'b', likes: 2 })).toHaveLength(2);
});
