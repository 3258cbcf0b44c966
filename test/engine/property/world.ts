import { expect } from 'vitest';
import { EngineError, type EngineErrorCode } from '../../../engine/errors.js';
import { Circuit } from '../../../engine/index.js';
import type { RecordChange, ViewUpdate } from '../../../engine/types.js';
import { checkEngineError, checkRegistration, checkStep, type Registered } from './checks.js';
import { type ChangeSpec, type Step, TABLES, type ViewCase } from './generators.js';
import { applyToModel, cloneModel, type Model, resolve } from './model.js';

/**
 * The circuit under test beside the model of its tables: runs each step on both, then
 * checks that they agree. A step the model rejects must fail in the circuit with the same
 * error and change nothing.
 */
class World {
  readonly circuit = new Circuit({ tables: TABLES });
  model: Model = new Map(TABLES.map((table) => [table, new Map()]));
  readonly registered = new Map<string, Registered>();
  /** what ran, for the report of a failing case */
  readonly trail: string[] = [];

  constructor(readonly views: readonly ViewCase[]) {}

  /** Registers the views meant to exist before any data. */
  start(): void {
    for (const view of this.views) if (view.atStart) this.register(view);
  }

  register(view: ViewCase): void {
    const id = view.definition.id;
    this.trail.push(`registerView(${JSON.stringify(view.definition)}, ${JSON.stringify(view.params)})`);
    if (this.registered.has(id)) {
      this.expectError(() => this.circuit.registerView(view.definition, view.params), ['BAD_INPUT']);
      return;
    }
    const snapshot = this.circuit.registerView(view.definition, view.params);
    checkRegistration(snapshot, view, this.model);
    this.registered.set(id, { view, snapshot: structuredClone(snapshot) });
    this.check([], false);
  }

  unregister(view: ViewCase): void {
    const id = view.definition.id;
    this.trail.push(`unregisterView(${id})`);
    expect(this.circuit.unregisterView(id)).toBe(this.registered.has(id));
    this.registered.delete(id);
    expect(() => this.circuit.snapshot(id)).toThrow(EngineError);
    this.check([], false);
  }

  single(spec: ChangeSpec, first: boolean): void {
    const [change] = resolve(spec, this.model);
    if (change === undefined) return;
    this.trail.push(`${first ? 'ingestSingleFirst' : 'ingestSingle'}(${JSON.stringify(change)})`);
    const next = cloneModel(this.model);
    const outcome = applyToModel(next, change);
    const run = () =>
      first
        ? this.circuit.ingestSingleFirst(change.table, change.op, change.id, change.data)
        : this.circuit.ingestSingle(change.table, change.op, change.id, change.data);
    if ('codes' in outcome) {
      this.expectError(run, outcome.codes);
      return;
    }
    const result = run();
    this.model = next;
    if (first) {
      this.check(result === undefined ? [] : [result as ViewUpdate], true);
    } else {
      const updates = result as readonly ViewUpdate[];
      if (!outcome.changed) expect(updates, 'a no-op returns no update').toEqual([]);
      this.check(updates, false);
    }
  }

  batch(specs: readonly ChangeSpec[]): void {
    const next = cloneModel(this.model);
    const changes: RecordChange[] = [];
    const codes: EngineErrorCode[] = [];
    for (const spec of specs) {
      for (const change of resolve(spec, next)) {
        changes.push(change);
        const outcome = applyToModel(next, change);
        if ('codes' in outcome) codes.push(...outcome.codes);
      }
    }
    this.trail.push(`ingestBatch(${JSON.stringify(changes)})`);
    if (codes.length > 0) {
      this.expectError(() => this.circuit.ingestBatch(changes), codes);
      return;
    }
    const updates = this.circuit.ingestBatch(changes);
    this.model = next;
    this.check(updates, false);
  }

  /** The call throws an EngineError with one of `codes`, and nothing changes. */
  expectError(run: () => unknown, codes: readonly EngineErrorCode[]): void {
    checkEngineError(run, codes);
    this.check([], false);
  }

  /** Every registered view against the evaluator, after a step that returned `updates`. */
  check(updates: readonly ViewUpdate[], partial: boolean): void {
    checkStep(this, updates, partial);
  }

  run(step: Step): void {
    switch (step.kind) {
      case 'single':
        this.single(step.change, step.first);
        return;
      case 'batch':
        this.batch(step.changes);
        return;
      case 'register':
      case 'unregister': {
        const view = this.views[step.view % this.views.length] as ViewCase;
        if (step.kind === 'register') this.register(view);
        else this.unregister(view);
        return;
      }
    }
  }
}

/**
 * Runs the steps; a failure reports the calls that led to it. `inspect` checks more after
 * each step, given the circuit and the ids of the views registered then.
 */
export function runCase(
  views: readonly ViewCase[],
  steps: readonly Step[],
  inspect?: (circuit: Circuit, registered: readonly string[]) => void,
): void {
  const world = new World(views);
  try {
    world.start();
    inspect?.(world.circuit, [...world.registered.keys()]);
    for (const step of steps) {
      world.run(step);
      inspect?.(world.circuit, [...world.registered.keys()]);
    }
  } catch (error) {
    throw new Error(`${(error as Error).message}\ncalls:\n  ${world.trail.join('\n  ')}`, { cause: error });
  }
}
