import { checkChange } from './change.js';
import { bindDefinition } from './definition.js';
import { badInput, EngineError, EngineFault } from './errors.js';
import { EqualityLookup } from './lookup.js';
import type { Window } from './operators/window.js';
import { OrderedIndex, type WindowSlot } from './ordered-index.js';
import { compilePredicate } from './predicate.js';
import { type Reader, seekOf, TableRoutes } from './routes.js';
import { orderSignature } from './row-order.js';
import type {
  Operation,
  OrderKey,
  Record,
  RecordChange,
  Row,
  SharedIndexUse,
  ViewDefinition,
  ViewParams,
  ViewSnapshot,
  ViewStats,
  ViewUpdate,
  ViewUpdateList,
} from './types.js';
import { equalValues } from './values.js';
import { View, type ViewInput } from './view.js';
import { type WindowPlan, windowPlanOf } from './window-plan.js';
import type { Change } from './zset.js';

const NO_UPDATES: ViewUpdateList = Object.freeze([]) as ViewUpdateList;
const FROM: ViewInput = { kind: 'from' };

/** A validated change, ready to apply: `before`/`after` are the stored record around it. */
interface PlannedChange {
  readonly table: string;
  readonly id: string;
  readonly before: Record | undefined;
  readonly after: Record | undefined;
}

/**
 * Tables, views and the routing between them. Every ingest validates first and applies
 * second, so an error leaves everything as it was; then it returns one update for every
 * view whose result changed. Records given to the engine belong to it: callers must not
 * mutate them afterwards (views hold references, not copies). An error while applying a
 * validated change (a bug) is an `EngineFault`: the state may be half-updated, and the circuit
 * refuses every later ingest, registration and snapshot with it.
 */
export class Circuit {
  readonly #tables = new Map<string, Map<string, Record>>();
  readonly #views = new Map<string, View>();
  /** table → the views that read it */
  readonly #routes = new Map<string, TableRoutes>();
  /** table → path → records by value, while registered views use it (see EqualityLookup) */
  readonly #lookups = new Map<string, Map<string, EqualityLookup>>();
  /** view → the lookups it uses: the one it was registered through, and one per join */
  readonly #lookupsOf = new Map<View, readonly EqualityLookup[]>();
  /** table → order and partition path → the shared ordered index (see OrderedIndex) */
  readonly #ordered = new Map<string, Map<string, OrderedIndex>>();
  /** views reading an ordered index through a window: their slot, and the index */
  readonly #slotOf = new Map<View, { slot: WindowSlot; index: OrderedIndex }>();
  /** table/order/partition path → private top-k views that could have read a shared index of it */
  readonly #privateOrders = new Map<string, number>();
  readonly #privateOrderOf = new Map<View, string>();
  #slots = 0;
  /** Set once applying a change failed midway: the state is no longer trusted (see EngineFault). */
  #fault: EngineFault | undefined;
  /**
   * Where an apply is, for the fault's message: the change, and the view being updated.
   * Two fields rather than one object: they are set for every view of every change.
   */
  #atChange: PlannedChange | undefined;
  #atView: View | undefined;

  readonly #tableExists = (name: string): boolean => this.#tables.has(name);

  constructor(options: { tables?: Iterable<string> } = {}) {
    for (const table of options.tables ?? []) {
      if (this.#tables.has(table)) throw badInput(`table '${table}' is listed twice`, { table });
      this.createTable(table);
    }
  }

  /** Adds an empty table; does nothing when it exists. */
  createTable(name: string): void {
    if (typeof name !== 'string' || name.length === 0) throw badInput('a table name must be a non-empty string');
    if (this.#tables.has(name)) return;
    this.#tables.set(name, new Map());
    this.#routes.set(name, new TableRoutes(name));
  }

  hasTable(name: string): boolean {
    return this.#tables.has(name);
  }

  tableNames(): string[] {
    return [...this.#tables.keys()];
  }

  /**
   * Registers a view over the current data and returns its snapshot, at version
   * `startVersion` (default 0); each update then counts on from it. A durable server
   * starts views above every version it issued before a restart, so a client resuming
   * from an old version can never be sent deltas of a different history.
   * `{ param: name }` operands take their values from `params`.
   */
  registerView(
    definition: ViewDefinition,
    params: ViewParams = {},
    options: { startVersion?: number } = {},
  ): ViewSnapshot {
    this.#trusted();
    const startVersion = options.startVersion ?? 0;
    if (!Number.isSafeInteger(startVersion) || startVersion < 0)
      throw badInput('startVersion must be a non-negative integer');
    const bound = bindDefinition(definition, params, this.#tableExists);
    if (this.#views.has(bound.id)) throw badInput(`view '${bound.id}' is already registered`, { field: 'id' });
    const plan = windowPlanOf(bound);
    const order = plan === undefined ? undefined : orderKey(bound.from, plan);
    // The first view of an order keeps a private top-k: a shared index holds every row of the
    // table and takes every change, which only pays off once a second view reads it (ten views
    // of ten different orders ran 43 % slower on shared indexes). The second builds it.
    let view =
      order !== undefined &&
      ((this.#privateOrders.get(order) ?? 0) > 0 || this.#hasOrderedAt(bound.from, plan as WindowPlan))
        ? this.#registerWindow(bound, startVersion)
        : undefined;
    if (view === undefined) {
      view = this.#registerRouted(bound, startVersion);
      if (order !== undefined && !this.#hasOrderedAt(bound.from, plan as WindowPlan)) {
        this.#privateOrders.set(order, (this.#privateOrders.get(order) ?? 0) + 1);
        this.#privateOrderOf.set(view, order);
      }
    }
    this.#views.set(view.id, view);
    return view.snapshot();
  }

  /**
   * Registers a view with a window over a shared ordered index, when it qualifies and its
   * filter is not too selective to refill by scanning (see `windowPlanOf`).
   */
  #registerWindow(bound: ViewDefinition, startVersion: number): View | undefined {
    const plan = windowPlanOf(bound);
    if (plan === undefined) return undefined;
    if (
      plan.partition === undefined &&
      !this.#hasOrdered(bound.from, plan.orderBy) &&
      this.#looksSelective(bound, plan)
    )
      return undefined;
    const index = this.#orderedIndex(bound.from, plan.orderBy, plan.partition?.path);
    const partition = index.partition(plan.partition?.value ?? '');
    const right = this.#rightIndexes(bound);
    const view = new View(bound, startVersion, { right, window: partition });
    if (!view.initializeWindow(plan.budget)) {
      index.release(partition);
      this.#releaseOrdered(index);
      for (const lookup of right) this.#releaseLookup(lookup);
      return undefined;
    }
    const slot: WindowSlot = { view, window: view.window as Window, partition, seq: this.#slots++, filed: undefined };
    partition.file(slot);
    index.users++;
    this.#slotOf.set(view, { slot, index });
    this.#use(view, right);
    // Its joined tables route as for any view; its own table reaches it through the index.
    this.#route(
      view,
      view.inputs().filter(({ input }) => input.kind === 'join'),
    );
    return view;
  }

  /** Registers a view routed by `TableRoutes`, computing it from a lookup or the tables. */
  #registerRouted(bound: ViewDefinition, startVersion: number): View {
    const right = this.#rightIndexes(bound);
    // The first join's left rows are `from` records: read them from a shared index, unless
    // the join reads `from` itself (its left side would change under it).
    const first = bound.join?.[0];
    const left =
      first === undefined || first.table === bound.from ? undefined : this.#lookup(bound.from, first.on.left);
    const view = new View(bound, startVersion, { right, ...(left === undefined ? {} : { left }) });
    const seek = seekOf(bound);
    const lookup = seek === undefined ? undefined : this.#lookup(bound.from, seek.path);
    view.initialize(
      lookup !== undefined && seek !== undefined ? lookup.records(seek.values) : this.#table(bound.from).values(),
    );
    this.#use(view, [...(lookup === undefined ? [] : [lookup]), ...(left === undefined ? [] : [left]), ...right]);
    this.#route(view, view.inputs());
    return view;
  }

  /** The shared index of each joined table by its join field. */
  #rightIndexes(definition: ViewDefinition): EqualityLookup[] {
    return (definition.join ?? []).map((join) => this.#lookup(join.table, join.on.right));
  }

  /** Counts a registered view as a user of its lookups. */
  #use(view: View, lookups: readonly EqualityLookup[]): void {
    const unique = [...new Set(lookups)];
    for (const lookup of unique) lookup.users++;
    if (unique.length > 0) this.#lookupsOf.set(view, unique);
  }

  #route(view: View, inputs: readonly { table: string; input: ViewInput }[]): void {
    const byTable = new Map<string, ViewInput[]>();
    for (const { table, input } of inputs) byTable.set(table, [...(byTable.get(table) ?? []), input]);
    for (const [table, tableInputs] of byTable)
      (this.#routes.get(table) as TableRoutes).add({ view, inputs: tableInputs, stamp: 0 });
  }

  /** Removes a view and every piece of state it held. Returns false when it did not exist. */
  unregisterView(id: string): boolean {
    const view = this.#views.get(id);
    if (view === undefined) return false;
    this.#views.delete(id);
    const order = this.#privateOrderOf.get(view);
    if (order !== undefined) {
      this.#privateOrderOf.delete(view);
      const count = (this.#privateOrders.get(order) as number) - 1;
      if (count === 0) this.#privateOrders.delete(order);
      else this.#privateOrders.set(order, count);
    }
    const windowed = this.#slotOf.get(view);
    if (windowed !== undefined) {
      const { slot, index } = windowed;
      this.#slotOf.delete(view);
      slot.partition.unfile(slot);
      index.release(slot.partition);
      index.users--;
      this.#releaseOrdered(index);
    }
    for (const table of new Set(view.inputs().map((input) => input.table))) {
      if (windowed === undefined || table !== view.definition.from)
        (this.#routes.get(table) as TableRoutes).remove(view);
    }
    for (const lookup of this.#lookupsOf.get(view) ?? []) {
      lookup.users--;
      this.#releaseLookup(lookup);
    }
    this.#lookupsOf.delete(view);
    return true;
  }

  hasView(id: string): boolean {
    return this.#views.has(id);
  }

  viewIds(): string[] {
    return [...this.#views.keys()];
  }

  /** The definition a view was registered with, parameters bound. */
  viewDefinition(id: string): ViewDefinition {
    return this.#view(id).definition;
  }

  snapshot(viewId: string): ViewSnapshot {
    this.#trusted();
    return this.#view(viewId).snapshot();
  }

  /** The view's current version (its snapshot's), without building its rows. */
  viewVersion(viewId: string): number {
    this.#trusted();
    return this.#view(viewId).version;
  }

  getRecord(table: string, id: string): Record | undefined {
    return this.#table(table).get(id);
  }

  records(table: string): IterableIterator<Record> {
    return this.#table(table).values();
  }

  tableSize(table: string): number {
    return this.#table(table).size;
  }

  /**
   * Bulk-loads stored records into a table at start-up, before any view reads it (views
   * registered afterwards compute their results from the loaded tables). Each record must
   * be an object with a non-empty string `id`, not yet in the table; fields are not
   * re-validated, since they come from the engine's own earlier writes.
   */
  load(table: string, records: Iterable<Record>): number {
    const stored = this.#table(table);
    if ((this.#routes.get(table) as TableRoutes).size > 0 || (this.#ordered.get(table)?.size ?? 0) > 0) {
      throw badInput(`table '${table}' is read by a view: load records before registering views`, { table });
    }
    let count = 0;
    for (const record of records) {
      const id = record?.id;
      if (typeof id !== 'string' || id.length === 0)
        throw badInput(`table '${table}': a loaded record has no id`, { table });
      if (stored.has(id)) throw new EngineError('CONFLICT', `${table} '${id}' is loaded twice`, { table, id });
      stored.set(id, record);
      count++;
    }
    return count;
  }

  /** Applies one record change; returns an update for every view whose result changed. */
  ingestSingle(table: string, op: Operation, id: string, data?: unknown): ViewUpdateList {
    this.#trusted();
    const record = checkChange(this.#tableExists, table, op, id, data);
    const change = this.#plan(table, op, id, record, this.#table(table).get(id), '');
    if (change === undefined) return NO_UPDATES;
    // Inlined rather than through `#applying`: no closure per change on the hottest path.
    try {
      let updates: ViewUpdate[] | undefined;
      for (const view of this.#apply(change)) {
        this.#atView = view;
        const update = view.flush();
        if (update !== undefined) (updates ??= []).push(update);
      }
      return updates ?? NO_UPDATES;
    } catch (error) {
      throw this.#faulted(error);
    } finally {
      this.#atChange = undefined;
      this.#atView = undefined;
    }
  }

  /** Like `ingestSingle`, returning only the first update (for a table with one view). */
  ingestSingleFirst(table: string, op: Operation, id: string, data?: unknown): ViewUpdate | undefined {
    return this.ingestSingle(table, op, id, data)[0];
  }

  /**
   * Applies many changes atomically: all are validated (in order, each against the state
   * the previous ones leave) before any is applied. Returns at most one update per view,
   * the net difference of the whole batch.
   */
  ingestBatch(changes: readonly RecordChange[]): ViewUpdate[] {
    this.#trusted();
    if (!Array.isArray(changes)) throw badInput('ingestBatch takes an array of changes');
    const pending = new Map<string, Map<string, Record | undefined>>();
    const planned: PlannedChange[] = [];
    changes.forEach((change: unknown, index) => {
      const where = `changes[${index}]: `;
      if (typeof change !== 'object' || change === null) throw badInput(`${where}a change must be an object`);
      const { table, op, id, data } = change as RecordChange;
      const record = checkChange(this.#tableExists, table, op, id, data, where);
      const stored = this.#table(table);
      const overlay = pending.get(table) ?? new Map<string, Record | undefined>();
      pending.set(table, overlay);
      const current = overlay.has(id) ? overlay.get(id) : stored.get(id);
      const plannedChange = this.#plan(table, op, id, record, current, where);
      if (plannedChange === undefined) return;
      overlay.set(id, plannedChange.after);
      planned.push(plannedChange);
    });

    return this.#applying(() => {
      const touched = new Map<View, PlannedChange>();
      for (const change of planned) for (const view of this.#apply(change)) touched.set(view, change);
      const updates: ViewUpdate[] = [];
      for (const [view, change] of touched) {
        this.#atChange = change;
        this.#atView = view;
        const update = view.flush();
        if (update !== undefined) updates.push(update);
      }
      return updates;
    });
  }

  /**
   * Runs the apply phase of an ingest (everything after validation). Whatever it throws turns
   * into an `EngineFault` naming the change and view, and the circuit refuses further calls.
   */
  #applying<T>(run: () => T): T {
    try {
      return run();
    } catch (error) {
      throw this.#faulted(error);
    } finally {
      this.#atChange = undefined;
      this.#atView = undefined;
    }
  }

  /** Records the fault an error while applying made, and returns it. */
  #faulted(error: unknown): EngineFault {
    this.#fault = new EngineFault(error, {
      table: this.#atChange?.table ?? '?',
      id: this.#atChange?.id ?? '?',
      view: this.#atView?.id,
    });
    return this.#fault;
  }

  /** Throws the fault that made the state untrustworthy, if any. */
  #trusted(): void {
    if (this.#fault !== undefined) throw this.#fault;
  }

  /**
   * Plans a change `checkChange` accepted (`record` is what it returned) against the record
   * it would replace; undefined for a no-op.
   */
  #plan(
    table: string,
    op: Operation,
    id: string,
    record: Record | undefined,
    current: Record | undefined,
    where: string,
  ): PlannedChange | undefined {
    const at = { table, id };
    if (record === undefined)
      return current === undefined ? undefined : { table, id, before: current, after: undefined };
    if (op === 'CREATE') {
      if (current !== undefined) throw new EngineError('CONFLICT', `${where}${table} '${id}' already exists`, at);
      return { table, id, before: undefined, after: record };
    }
    if (current === undefined) throw new EngineError('NOT_FOUND', `${where}${table} '${id}' does not exist`, at);
    return equalValues(current, record) ? undefined : { table, id, before: current, after: record };
  }

  /**
   * Stores a change and pushes it, as `-before +after`, into every view it can affect;
   * returns those views, which the caller must flush.
   */
  #apply(change: PlannedChange): View[] {
    this.#atChange = change;
    this.#atView = undefined;
    const { before, after } = change;
    const delta: Change[] = [];
    if (before !== undefined) delta.push({ key: change.id, row: before as Row, weight: -1 });
    if (after !== undefined) delta.push({ key: change.id, row: after as Row, weight: 1 });
    const views: View[] = [];
    // Ordered indexes first take the change, so that windows refill from the new state.
    const ordered = this.#ordered.get(change.table);
    let reached: WindowSlot[] | undefined;
    if (ordered !== undefined)
      for (const index of ordered.values()) index.apply(before, after, (slot) => (reached ??= []).push(slot));
    // Each view takes the delta at its `from` first, then at its joins, so a view that reads the
    // table twice sees the two inputs change one after the other (see Join).
    (this.#routes.get(change.table) as TableRoutes).route(before, after, ({ view, inputs }: Reader) => {
      this.#atView = view;
      for (const input of inputs) view.push(input, delta);
      views.push(view);
    });
    if (reached !== undefined) {
      for (const { view } of reached) {
        this.#atView = view;
        view.push(FROM, delta);
        views.push(view);
      }
      this.#atView = undefined;
      for (const slot of reached) slot.partition.refile(slot);
    }
    this.#atView = undefined;
    this.#store(change);
    return views;
  }

  /**
   * Counts for monitoring and leak checks: views, routing entries, equality lookups, records,
   * and the shared ordered indexes (their entries and partitions) with the windows reading them.
   */
  stats(): {
    views: number;
    routes: number;
    indexEntries: number;
    lookups: number;
    records: number;
    orderedIndexes: number;
    orderedEntries: number;
    orderedPartitions: number;
    windows: number;
  } {
    let orderedIndexes = 0;
    let orderedEntries = 0;
    let orderedPartitions = 0;
    for (const byOrder of this.#ordered.values()) {
      orderedIndexes += byOrder.size;
      for (const index of byOrder.values()) {
        orderedEntries += index.size;
        orderedPartitions += index.partitions;
      }
    }
    let routes = 0;
    let indexEntries = 0;
    let records = 0;
    let lookups = 0;
    for (const byPath of this.#lookups.values()) lookups += byPath.size;
    for (const table of this.#routes.values()) {
      routes += table.size;
      indexEntries += table.indexEntries;
    }
    for (const table of this.#tables.values()) records += table.size;
    return {
      views: this.#views.size,
      routes,
      indexEntries,
      lookups,
      records,
      orderedIndexes,
      orderedEntries,
      orderedPartitions,
      windows: this.#slotOf.size,
    };
  }

  /**
   * What one view holds: its result rows, the entries of its private operator state, the
   * shared indexes it uses, and an approximate heap size of the private part, for budgets.
   */
  viewStats(viewId: string): ViewStats {
    const view = this.#view(viewId);
    const { resultRows, entries, bytes } = view.held();
    const index = this.#slotOf.get(view)?.index;
    const sharedIndexes: SharedIndexUse[] = (this.#lookupsOf.get(view) ?? []).map((lookup) => ({
      kind: 'equality',
      table: lookup.table,
      path: lookup.path,
    }));
    if (index !== undefined)
      sharedIndexes.push({
        kind: 'ordered',
        table: index.table,
        orderBy: index.orderBy,
        partitionPath: index.partitionPath ?? null,
      });
    return { view: view.id, resultRows, privateIndexEntries: entries, sharedIndexes, approxBytes: bytes };
  }

  #store({ table, id, before, after }: PlannedChange): void {
    const lookups = this.#lookups.get(table);
    if (lookups !== undefined) for (const lookup of lookups.values()) lookup.update(before, after);
    const records = this.#tables.get(table) as Map<string, Record>;
    if (after === undefined) records.delete(id);
    else records.set(id, after);
  }

  /** The equality lookup on `path`, built from the table the first time a view needs it. */
  #lookup(table: string, path: string): EqualityLookup {
    let byPath = this.#lookups.get(table);
    if (byPath === undefined) this.#lookups.set(table, (byPath = new Map()));
    let lookup = byPath.get(path);
    if (lookup === undefined) byPath.set(path, (lookup = new EqualityLookup(table, path, this.#table(table).values())));
    return lookup;
  }

  /** Drops a lookup no view uses any more. */
  #releaseLookup(lookup: EqualityLookup): void {
    if (lookup.users > 0) return;
    const byPath = this.#lookups.get(lookup.table);
    if (byPath?.get(lookup.path) === lookup) byPath.delete(lookup.path);
    if (byPath?.size === 0) this.#lookups.delete(lookup.table);
  }

  /** The ordered index of `table` in `orderBy`, split by `partitionPath`; built on first use. */
  #orderedIndex(table: string, orderBy: readonly OrderKey[], partitionPath: string | undefined): OrderedIndex {
    let byOrder = this.#ordered.get(table);
    if (byOrder === undefined) this.#ordered.set(table, (byOrder = new Map()));
    const signature = `${orderSignature(orderBy)}/${partitionPath ?? ''}`;
    let index = byOrder.get(signature);
    if (index === undefined)
      byOrder.set(signature, (index = new OrderedIndex(table, orderBy, partitionPath, this.#table(table).values())));
    return index;
  }

  #hasOrderedAt(table: string, plan: WindowPlan): boolean {
    return this.#ordered.get(table)?.has(`${orderSignature(plan.orderBy)}/${plan.partition?.path ?? ''}`) ?? false;
  }

  #hasOrdered(table: string, orderBy: readonly OrderKey[]): boolean {
    return this.#ordered.get(table)?.has(`${orderSignature(orderBy)}/`) ?? false;
  }

  /**
   * Whether a window's filter passes fewer than its size among the first `budget` records of
   * its table (in storage order): a cheap guess that filling it would run out of budget,
   * made before building an index that only this view would use, and then drop.
   */
  #looksSelective(definition: ViewDefinition, plan: WindowPlan): boolean {
    const records = this.#table(definition.from);
    if (definition.where === undefined || records.size <= plan.budget) return false;
    const test = compilePredicate(definition.where);
    const size = (definition.offset ?? 0) + (definition.limit ?? 0);
    let scanned = 0;
    let passed = 0;
    for (const record of records.values()) {
      if (++scanned > plan.budget) return true;
      if (test(record) && ++passed >= size) return false;
    }
    return true;
  }

  /** Drops an ordered index no view uses any more. */
  #releaseOrdered(index: OrderedIndex): void {
    if (index.users > 0) return;
    const byOrder = this.#ordered.get(index.table) as Map<string, OrderedIndex>;
    for (const [signature, candidate] of byOrder) if (candidate === index) byOrder.delete(signature);
    if (byOrder.size === 0) this.#ordered.delete(index.table);
  }

  #table(name: string): Map<string, Record> {
    const table = this.#tables.get(name);
    if (table === undefined) throw badInput(`unknown table '${String(name)}'`, { table: String(name) });
    return table;
  }

  #view(id: string): View {
    const view = this.#views.get(id);
    if (view === undefined) throw badInput(`unknown view '${id}'`);
    return view;
  }
}

/** The shared ordered index a window plan would read, as a key. */
function orderKey(table: string, plan: WindowPlan): string {
  return `${table}/${orderSignature(plan.orderBy)}/${plan.partition?.path ?? ''}`;
}
