import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Circuit } from '../../engine/index.js';
import { sharedStepsArb, sharedViewsArb } from './property/shared-generators.js';
import { runCase } from './property/world.js';

/**
 * Many top-k views over one table, sharing ordered indexes: incremental == recompute.
 *
 * Four to twelve views over `posts` with limits and offsets, in few orders (so that they
 * share), some filtered by `authorId eq` (a partitioned index), some by filters that pass
 * long runs of rows (so a window refills through rows it skips), sort keys with ties and
 * mixed types. Views register before the data and in the middle of the changes, and
 * unregister, so the shared state must stay right for the views that remain.
 *
 * Beyond the checks of `property.test.ts` (rows, hash, updates, versions, records), after
 * every step: the circuit holds exactly the ordered indexes its registered views report
 * using, and one window per view that reports one.
 */

const numRuns = Number(process.env['PROPERTY_RUNS'] ?? 300);
const timeout = 60_000 + numRuns * 30;

function sharedStateMatchesViews(circuit: Circuit, registered: readonly string[]): void {
  const used = new Set<string>();
  let windows = 0;
  for (const id of registered) {
    for (const shared of circuit.viewStats(id).sharedIndexes) {
      if (shared.kind !== 'ordered') continue;
      windows++;
      used.add(JSON.stringify([shared.table, shared.orderBy, shared.partitionPath]));
    }
  }
  const stats = circuit.stats();
  expect(stats.orderedIndexes, 'ordered indexes held = used').toBe(used.size);
  expect(stats.windows, 'windows').toBe(windows);
  if (used.size === 0) expect(stats.orderedEntries, 'no ordered entries without an index').toBe(0);
}

describe('top-k views sharing ordered indexes equal the plain evaluator', () => {
  it(
    'after every step, with registrations and unregistrations among the changes',
    () => {
      fc.assert(
        fc.property(sharedViewsArb, sharedStepsArb, (views, steps) => runCase(views, steps, sharedStateMatchesViews)),
        { numRuns },
      );
    },
    timeout,
  );
});
