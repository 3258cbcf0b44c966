import { afterEach, expect, test, vi } from 'vitest';
import { type ViewLifecycle, ViewRegistry } from '../../app/view-registry.js';
import { Circuit, type ViewDefinition, type ViewParams } from '../../engine/index.js';

/** The registry over a bare circuit: sharing by signature, reference counts, grace, capacity, versions. */
function host(): ViewLifecycle & { circuit: Circuit; now: number } {
  const circuit = new Circuit({ tables: ['posts'] });
  return {
    circuit,
    now: 0,
    // As the view host does: every view added starts at the version clock's now.
    addView(definition: ViewDefinition, params: ViewParams) {
      return circuit.registerView(definition, params, { startVersion: this.now });
    },
    removeView: (id: string) => void circuit.unregisterView(id),
    viewBytes: (id: string) => circuit.viewStats(id).approxBytes,
  };
}
const origin = { definition: { id: 'x', from: 'posts' }, params: {} };

afterEach(() => {
  vi.useRealTimers();
});

test('equal definitions share one view; the last release unregisters it after the grace period', () => {
  vi.useFakeTimers();
  const h = host();
  const registry = new ViewRegistry(h, { graceMs: 100 });
  const a = registry.acquire(
    'posts',
    { id: '1', from: 'posts', where: { and: [{ b: { eq: 1 } }, { a: { eq: 2 } }] } },
    {},
    origin,
  );
  const b = registry.acquire('posts', { id: '2', from: 'posts', where: { a: { eq: 2 }, b: { eq: 1 } } }, {}, origin);
  expect(a.id).toBe(b.id);
  expect(h.circuit.viewIds()).toEqual([a.id]);
  a.release();
  a.release(); // idempotent
  expect(registry.stats()).toMatchObject({ onDemand: 1, leases: 1, idle: 0 });
  b.release();
  expect(registry.stats()).toMatchObject({ onDemand: 1, leases: 0, idle: 1 });
  vi.advanceTimersByTime(99);
  const warm = registry.acquire('posts', { id: '3', from: 'posts', where: { a: { eq: 2 }, b: { eq: 1 } } }, {}, origin);
  expect(warm.id).toBe(a.id);
  warm.release();
  vi.advanceTimersByTime(100);
  expect(h.circuit.stats()).toMatchObject({ views: 0, routes: 0, indexEntries: 0 });
  expect(registry.stats()).toEqual({ pinned: 0, onDemand: 0, idle: 0, leases: 0, viewBytes: 0 });
});

test('different parameters are different views; pinned views are never unregistered', () => {
  const h = host();
  h.circuit.registerView({ id: 'all', from: 'posts' });
  const registry = new ViewRegistry(h, { graceMs: 0 });
  registry.pin('all', { id: 'all', from: 'posts' });
  const def = { id: 'p', from: 'posts', where: { authorId: { eq: { param: 'a' } } } };
  const one = registry.acquire('p', def, { a: 'u1' }, origin);
  const two = registry.acquire('p', def, { a: 'u2' }, origin);
  expect(one.id).not.toBe(two.id);
  const all = registry.acquire('all', { id: 'other', from: 'posts' }, {}, origin);
  expect(all.id).toBe('all');
  for (const lease of [one, two, all]) lease.release();
  expect(h.circuit.viewIds()).toEqual(['all']);
});

test('at capacity the oldest idle view is evicted; with none idle, LIMIT_EXCEEDED', () => {
  vi.useFakeTimers();
  const h = host();
  const registry = new ViewRegistry(h, { graceMs: 10_000, maxViews: 2 });
  const view = (n: number): ViewDefinition => ({ id: 'v', from: 'posts', limit: n });
  const a = registry.acquire('v', view(1), {}, origin);
  const b = registry.acquire('v', view(2), {}, origin);
  expect(() => registry.acquire('v', view(3), {}, origin)).toThrow(
    expect.objectContaining({
      code: 'LIMIT_EXCEEDED',
      details: expect.objectContaining({ limit: 'maxViews', max: 2 }),
    }),
  );
  a.release();
  const c = registry.acquire('v', view(3), {}, origin);
  expect(h.circuit.viewIds().sort()).toEqual([b.id, c.id].sort());
  registry.close();
});

test('over the memory budget a new view is dropped again and refused, after idle views made what room they could', () => {
  vi.useFakeTimers();
  const h = host();
  for (let i = 0; i < 100; i++) h.circuit.ingestSingle('posts', 'CREATE', `p${i}`, { likes: i });
  const view = (n: number): ViewDefinition => ({ id: 'v', from: 'posts', where: { likes: { ne: n } } });
  // Room for two views of 99 rows, not three.
  const probe = h.circuit.registerView({ ...view(-1), id: 'probe' });
  const bytes = h.circuit.viewStats(probe.view).approxBytes;
  h.circuit.unregisterView(probe.view);
  const registry = new ViewRegistry(h, { graceMs: 10_000, maxViewBytes: Math.floor(bytes * 2.5) });
  const a = registry.acquire('v', view(1), {}, origin);
  registry.acquire('v', view(2), {}, origin);
  expect(() => registry.acquire('v', view(3), {}, origin)).toThrow(
    expect.objectContaining({
      code: 'LIMIT_EXCEEDED',
      details: { limit: 'maxViewMemory', max: Math.floor(bytes * 2.5) },
    }),
  );
  expect(h.circuit.viewIds()).toHaveLength(2);
  a.release(); // idle: evicted to make room
  registry.acquire('v', view(3), {}, origin);
  expect(h.circuit.viewIds()).toHaveLength(2);
  expect(registry.stats().viewBytes).toBeLessThanOrEqual(bytes * 2.5);
  registry.close();
});

test('a view created again for the same query starts at versionNow, above the old one', () => {
  const h = host();
  const registry = new ViewRegistry(h, { graceMs: 0 });
  const def = { id: 'v', from: 'posts' };
  const first = registry.acquire('v', def, {}, origin);
  expect(h.circuit.snapshot(first.id).version).toBe(0);
  h.circuit.ingestSingle('posts', 'CREATE', 'p1', {});
  h.now = 1;
  first.release();
  h.now = 5;
  const second = registry.acquire('v', def, {}, origin);
  expect(second.id).not.toBe(first.id);
  expect(h.circuit.snapshot(second.id).version).toBe(5);
});
