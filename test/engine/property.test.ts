import fc from 'fast-check';
import { describe, it } from 'vitest';
import { batchStepsArb, singleStepsArb, viewsArb } from './property/generators.js';
import { runCase } from './property/world.js';

/**
 * Incremental == recompute, over random views and random change sequences.
 *
 * Views are drawn from every feature of DESIGN §3.2: filters with every operator, and/or/not,
 * dot paths into nested fields, `{ param }` operands; inner and left joins on id and on other
 * fields (keys encode both ids, injectively), two joins in one view, a join's own `where`; select (joined and nested
 * paths, paths through null); groupBy with count/sum/avg/min/max over one or two fields,
 * global aggregates, distinct; orderBy over one or two keys with ties and nulls; limit and
 * offset, with and without orderBy.
 * Changes come from small id pools so that they collide: creates, full updates and partial
 * updates that flip filter/sort/join/group keys, deletes, no-ops, and invalid changes.
 *
 * Views with one join and nothing stateful after it keep their rows as the two records each
 * was built from and compose them when read (`ViewResult`): the checks below read those rows
 * through every path (snapshot, added, updated), twice for snapshots.
 *
 * After every step, for every registered view, it checks that:
 *  1. the snapshot's rows equal the plain evaluator's result over the same tables, in order;
 *  2. the snapshot's hash equals `hashRows` of that result;
 *  3. an update is returned iff the result changed, at most one per view, never empty;
 *  4. the update is exactly the difference: `added` are the rows whose keys entered,
 *     `removed` the keys that left, `updated` the rows whose key stayed and content changed,
 *     and applying it to the previous result gives the new one;
 *  5. versions go up by one per update, and the update's hash is the snapshot's;
 *  6. an error (CONFLICT, NOT_FOUND, BAD_INPUT) has the expected code and changes nothing:
 *     no record, no snapshot, no version, no hash;
 *  7. the stored records equal a model of the tables.
 * Property A drives `ingestSingle` (and sometimes `ingestSingleFirst`), property B
 * `ingestBatch` (a batch with an invalid change anywhere applies nothing). Both register
 * views before any data exists and mid-sequence, and unregister some.
 *
 * The parts live under `property/`: `generators.ts` draws views and steps, `model.ts` keeps
 * the reference tables, `world.ts` runs each step on the circuit and the model, and
 * `checks.ts` makes the assertions above.
 *
 * `PROPERTY_RUNS=100000 npx vitest run test/engine/property.test.ts` runs more cases.
 */

const numRuns = Number(process.env['PROPERTY_RUNS'] ?? 1000);
/** About 2 ms a run on a 2-core machine; leave room for shrinking. */
const timeout = 60_000 + numRuns * 10;

describe('incremental views equal the plain evaluator', () => {
  it(
    'after every ingestSingle',
    () => {
      fc.assert(
        fc.property(viewsArb, singleStepsArb, (views, steps) => runCase(views, steps)),
        { numRuns },
      );
    },
    timeout,
  );

  it(
    'after every ingestBatch',
    () => {
      fc.assert(
        fc.property(viewsArb, batchStepsArb, (views, steps) => runCase(views, steps)),
        { numRuns },
      );
    },
    timeout,
  );
});
