import { expect } from 'vitest';
import type { Circuit } from '../../../engine/circuit.js';
import { EngineError, type EngineErrorCode } from '../../../engine/errors.js';
import { evaluateView } from '../../../engine/evaluate.js';
import { hashRows } from '../../../engine/hash.js';
import type { Record, Row, Value, ViewSnapshot, ViewUpdate } from '../../../engine/types.js';
import { equalValues } from '../../../engine/values.js';
import { IDS, TABLES, type ViewCase } from './generators.js';
import type { Model } from './model.js';

/**
 * The assertions the property test makes after each step, comparing the circuit with the
 * model: the properties numbered in the header of `property.test.ts`.
 */

/** A registered view and the snapshot the engine showed for it after the last step. */
export interface Registered {
  view: ViewCase;
  snapshot: ViewSnapshot;
}

/** What the checks read: the circuit under test, the model it must agree with, the views. */
export interface CheckedState {
  readonly circuit: Circuit;
  readonly model: Model;
  readonly registered: ReadonlyMap<string, Registered>;
}

const keyOf = (row: Row): string => row['id'] as string;
const byKey = (rows: readonly Row[]): Map<string, Row> => new Map(rows.map((row) => [keyOf(row), row]));
const sortedByKey = (rows: readonly Row[]): Row[] =>
  [...rows].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));

/** Deep equality, fast; falls back to `toEqual` for a readable diff. */
function same(actual: unknown, expected: unknown, what: string): void {
  if (!equalValues(actual as Value, expected as Value)) expect(actual, what).toEqual(expected);
}

/** The exact difference between two results (DESIGN §3.3). */
function difference(before: readonly Row[], after: readonly Row[]) {
  const old = byKey(before);
  const now = byKey(after);
  const keys = (filter: (key: string) => boolean, map: Map<string, Row>) => [...map.keys()].filter(filter).sort();
  return {
    added: keys((key) => !old.has(key), now).map((key) => now.get(key) as Row),
    removed: keys((key) => !now.has(key), old),
    updated: keys((key) => old.has(key) && !equalValues(old.get(key) as Value, now.get(key) as Value), now).map(
      (key) => now.get(key) as Row,
    ),
  };
}

/** A new view's initial snapshot is the evaluator's result over the model (properties 1, 2). */
export function checkRegistration(snapshot: ViewSnapshot, view: ViewCase, model: Model): void {
  const id = view.definition.id;
  const expected = evaluateView(view.definition, model, view.params);
  same(snapshot.view, id, 'registered view id');
  same(snapshot.rows, expected, `initial rows of ${id}`);
  same(snapshot.hash, hashRows(expected), `initial hash of ${id}`);
}

/** The call threw an EngineError with one of `codes` (property 6; `checkStep` checks that nothing changed). */
export function checkEngineError(run: () => unknown, codes: readonly EngineErrorCode[]): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'an error was expected').toBeInstanceOf(EngineError);
  expect(codes, 'error code').toContain((caught as EngineError).code);
}

/**
 * Every registered view against the evaluator (properties 1-5), and the records against the
 * model (property 7). `updates` are what the step returned; with `partial`
 * (ingestSingleFirst) they are only the first of them. Remembers each view's snapshot for
 * the next step.
 */
export function checkStep(state: CheckedState, updates: readonly ViewUpdate[], partial: boolean): void {
  const { circuit, model } = state;
  for (const table of TABLES) {
    const expected = model.get(table) as Map<string, Record>;
    same(sortedByKey([...circuit.records(table)]), sortedByKey([...expected.values()]), `records of ${table}`);
    for (const id of IDS[table])
      same(circuit.getRecord(table, id) ?? null, expected.get(id) ?? null, `getRecord(${table}, ${id})`);
  }

  const byView = new Map(updates.map((update) => [update.view, update]));
  expect(byView.size, 'at most one update per view').toBe(updates.length);
  for (const view of byView.keys()) expect(state.registered.has(view), `update for unknown view ${view}`).toBe(true);
  let changedViews = 0;

  for (const [id, registered] of state.registered) {
    const { view, snapshot: previous } = registered;
    const expected = evaluateView(view.definition, model, view.params);
    const snapshot = circuit.snapshot(id);
    same(snapshot.rows, expected, `rows of ${id}`);
    same(circuit.snapshot(id).rows, expected, `rows of ${id}, read again`);
    same(snapshot.hash, hashRows(expected), `hash of ${id}`);
    const diff = difference(previous.rows, expected);
    const changed = diff.added.length + diff.removed.length + diff.updated.length > 0;
    if (changed) changedViews++;
    const update = byView.get(id);
    if (update === undefined) {
      if (changed) expect(partial, `${id} changed but has no update`).toBe(true);
      same(snapshot.version, previous.version + (changed ? 1 : 0), `version of ${id}`);
    } else {
      expect(changed, `${id} has an update but did not change`).toBe(true);
      same(update.version, previous.version + 1, `update version of ${id}`);
      same(snapshot.version, update.version, `snapshot version of ${id}`);
      same(update.hash, snapshot.hash, `update hash of ${id}`);
      same(sortedByKey(update.added), diff.added, `added of ${id}`);
      same([...update.removed].sort(), diff.removed, `removed of ${id}`);
      same(sortedByKey(update.updated), diff.updated, `updated of ${id}`);
      // and applying it to the previous result gives the new one
      const applied = byKey(previous.rows);
      for (const key of update.removed) applied.delete(key);
      for (const row of [...update.updated, ...update.added]) applied.set(keyOf(row), row);
      same(sortedByKey([...applied.values()]), sortedByKey(expected), `previous rows + update of ${id}`);
    }
    // a copy: the next step compares against what the engine showed now, whatever it does to its objects
    registered.snapshot = structuredClone(snapshot);
  }
  if (partial)
    expect(updates.length, 'ingestSingleFirst returns an update iff a view changed').toBe(changedViews > 0 ? 1 : 0);
}
