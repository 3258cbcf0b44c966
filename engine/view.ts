import { assert } from './errors.js';
import { Aggregate } from './operators/aggregate.js';
import { Filter } from './operators/filter.js';
import { Join, type RightIndex } from './operators/join.js';
import type { Operator } from './operators/operator.js';
import { Project } from './operators/project.js';
import { TopK } from './operators/top-k.js';
import { Window, type WindowSource } from './operators/window.js';
import { compilePredicate, conjuncts, predicatePaths } from './predicate.js';
import type { Predicate, Record, Row, ViewDefinition, ViewSnapshot, ViewUpdate } from './types.js';

/** Approximate heap per result row: its slot, hash and stamp, and the projected row object. */
const RESULT_ROW_BYTES = 160;
/** The same for a row composed again when read (its slot, hash, stamp and two references). */
const COMPOSED_ROW_BYTES = 60;

import { compareStrings, splitPath } from './values.js';
import { type ComposeRow, ViewResult } from './view-result.js';
import { type Change, consolidate, type Delta } from './zset.js';

/** Where a table's changes enter a view: its `from`, or the right side of join `i`. */
export type ViewInput = { kind: 'from' } | { kind: 'join'; index: number };

/**
 * A registered view: its operators in evaluation order (DESIGN §3.2) and its result.
 * `from → [where on base fields] → [window] → join… → where → group/distinct → [top-k] → project`
 * (a window, over a shared ordered index, or a private top-k; see `windowPlanOf`).
 * Conjuncts of `where` that read no joined field are evaluated before the joins: a filter
 * on left fields commutes with inner and left joins, and it keeps join indexes small.
 */
export class View {
  readonly id: string;
  readonly definition: ViewDefinition;
  readonly #stages: Operator[] = [];
  /** Position of each join in `#stages`, by join index. */
  readonly #joinStages: number[] = [];
  readonly #joins: Join[] = [];
  /** The filter on each join's right input (its `where`), if any. */
  readonly #rightFilters: (Filter | undefined)[] = [];
  readonly #topK: TopK | undefined;
  readonly #window: Window | undefined;
  readonly #result: ViewResult;
  /** Whether the result composes its rows from a join's parts (see `ViewResult`). */
  readonly #composed: boolean;

  /**
   * `right[i]` is the shared index of join `i`'s table by its `right` field; `left`, if given,
   * the shared index of `from` by the first join's `left` path (see `Join`). With `window`,
   * the view's top-k is a `Window` over that shared ordered index, placed before the joins
   * (see `windowPlanOf` for the views that qualify: their joins keep every row and its key
   * and order), and `initializeWindow` computes its initial result.
   */
  constructor(
    definition: ViewDefinition,
    version = 0,
    shared: { readonly right: readonly RightIndex[]; readonly left?: RightIndex; readonly window?: WindowSource } = {
      right: [],
    },
  ) {
    this.id = definition.id;
    this.definition = definition;
    const joins = definition.join ?? [];
    const aliases = new Set(joins.map((join) => join.as));
    const { early, late } = splitWhere(definition.where, aliases);
    const orderBy = definition.orderBy ?? [];

    const hasTopK =
      shared.window === undefined &&
      (orderBy.length > 0 || definition.limit !== undefined || (definition.offset ?? 0) > 0);
    // One join, and only stateless operators after it: every result row is that join's row
    // of a left row and a right record, so the result keeps those two references and
    // composes the row when read (see `ViewResult`). With no filter after the join either,
    // the join builds the projected row itself, without the joined row in between.
    const composed =
      joins.length === 1 &&
      !hasTopK &&
      definition.aggregate === undefined &&
      definition.groupBy === undefined &&
      definition.distinct === undefined;
    const folded = composed && late === undefined;
    const project = new Project(
      definition.select,
      orderBy.map((key) => key.field),
    );
    let compose: ComposeRow | undefined;

    const filter = early === undefined ? undefined : new Filter(compilePredicate(early));
    if (filter !== undefined) this.#stages.push(filter);
    if (shared.window !== undefined) {
      assert(late === undefined && definition.groupBy === undefined, 'a window reads a table’s own rows');
      this.#window = new Window(
        shared.window,
        filter === undefined ? undefined : (row) => filter.test(row),
        definition.offset ?? 0,
        definition.limit ?? 0,
      );
      this.#stages.push(this.#window);
    }
    joins.forEach((join, i) => {
      const rightFilter = join.where === undefined ? undefined : new Filter(compilePredicate(join.where));
      const right = shared.right[i];
      assert(right !== undefined, `join ${i} of view '${definition.id}' has no right index`);
      const nest = (left: Row, right: Record | null): Row => operator.nest(left, right);
      if (composed) compose = (key, left, right) => project.joinedRow(key, left, join.as, right, nest);
      const operator: Join = new Join({
        leftPath: splitPath(join.on.left),
        rightField: join.on.right,
        as: join.as,
        outer: join.kind === 'left',
        right,
        ...(rightFilter === undefined ? {} : { rightTest: (row: Row) => rightFilter.test(row) }),
        ...(i === 0 && shared.left !== undefined ? { left: shared.left } : {}),
        ...(i === 0 && shared.left !== undefined && filter !== undefined
          ? { leftTest: (row: Row) => filter.test(row) }
          : {}),
        ...(folded && compose !== undefined ? { build: compose } : {}),
      });
      this.#joinStages.push(this.#stages.length);
      this.#joins.push(operator);
      this.#rightFilters.push(rightFilter);
      this.#stages.push(operator);
    });
    if (late !== undefined) this.#stages.push(new Filter(compilePredicate(late)));
    if (definition.aggregate !== undefined || definition.groupBy !== undefined) {
      this.#stages.push(new Aggregate(definition.groupBy ?? [], definition.aggregate ?? {}));
    } else if (definition.distinct !== undefined) {
      this.#stages.push(new Aggregate(definition.distinct, {}));
    }
    if (hasTopK) {
      this.#topK = new TopK(orderBy, definition.offset ?? 0, definition.limit);
      this.#stages.push(this.#topK);
    }
    if (!folded) this.#stages.push(project);
    this.#result = new ViewResult(definition.id, version, compose);
    this.#composed = composed;
  }

  /** The tables this view reads, each with where its changes enter. */
  inputs(): { table: string; input: ViewInput }[] {
    return [
      { table: this.definition.from, input: { kind: 'from' } },
      ...(this.definition.join ?? []).map((join, index) => ({
        table: join.table,
        input: { kind: 'join', index } as const,
      })),
    ];
  }

  /** Computes the initial result from the records of `from` (all, or at least every one that can match). */
  initialize(records: Iterable<Record>): void {
    // The early filter runs while scanning, so only matching records become changes.
    const early = this.#stages[0] instanceof Filter ? this.#stages[0] : undefined;
    const delta: Change[] = [];
    for (const record of records) {
      if (early === undefined || early.test(record)) delta.push({ key: record.id, row: record, weight: 1 });
    }
    this.#run(delta, early === undefined ? 0 : 1, true);
    this.#result.settle();
  }

  /**
   * Computes the initial result of a view built with a window source, scanning at most
   * `budget` rows; false when the budget ran out (the view is then unusable: build it anew
   * without a source).
   */
  initializeWindow(budget: number): boolean {
    const window = this.#window as Window;
    const delta = window.fill(budget);
    if (delta === undefined) return false;
    this.#run(delta, this.#stages.indexOf(window) + 1, true);
    this.#result.settle();
    return true;
  }

  /** The window, when the view reads a shared ordered index. */
  get window(): Window | undefined {
    return this.#window;
  }

  /** Pushes a table's delta in at one input. Call `flush` once the ingest is complete. */
  push(input: ViewInput, delta: Delta): void {
    if (input.kind === 'from') this.#run(delta, 0, false);
    else {
      const stage = this.#joinStages[input.index] as number;
      const filter = this.#rightFilters[input.index];
      const readable = filter === undefined ? delta : filter.push(delta);
      if (readable.length > 0) this.#run((this.#joins[input.index] as Join).pushRight(readable), stage + 1, false);
    }
  }

  flush(): ViewUpdate | undefined {
    return this.#result.flush();
  }

  snapshot(): ViewSnapshot {
    const ordered = this.#topK ?? this.#window;
    const keys = ordered !== undefined ? [...ordered.windowKeys()] : [...this.#result.keys()].sort(compareStrings);
    const rows = keys.map((key) => this.#result.row(key) as Row);
    return { view: this.id, version: this.#result.version, rows, hash: this.#result.hash };
  }

  get version(): number {
    return this.#result.version;
  }

  get size(): number {
    return this.#result.size;
  }

  /** The result's rows and the entries of every operator's own state, with their approximate heap. */
  held(): { resultRows: number; entries: number; bytes: number } {
    let entries = 0;
    let bytes = this.#result.size * (this.#composed ? COMPOSED_ROW_BYTES : RESULT_ROW_BYTES);
    for (const stage of this.#stages) {
      const state = stage.held?.();
      if (state === undefined) continue;
      entries += state.entries;
      bytes += state.bytes;
    }
    return { resultRows: this.#result.size, entries, bytes };
  }

  #run(delta: Delta, from: number, always: boolean): void {
    for (let i = from; i < this.#stages.length; i++) {
      if (delta.length === 0 && !always) return;
      delta = (this.#stages[i] as Operator).push(delta);
    }
    this.#result.apply(consolidate(delta));
  }
}

/** Splits `where` into the conjuncts that read no joined alias and the rest. */
function splitWhere(
  where: Predicate | undefined,
  aliases: ReadonlySet<string>,
): { early?: Predicate; late?: Predicate } {
  if (where === undefined) return {};
  if (aliases.size === 0) return { early: where };
  const readsJoin = (p: Predicate): boolean =>
    predicatePaths(p).some((path) => aliases.has(splitPath(path)[0] as string));
  const parts = conjuncts(where);
  const early = parts.filter((p) => !readsJoin(p));
  const late = parts.filter(readsJoin);
  return {
    ...(early.length > 0 ? { early: { and: early } } : {}),
    ...(late.length > 0 ? { late: { and: late } } : {}),
  };
}
