/** A JSON value, as stored in records and compared by the engine (DESIGN §3.1). */
export type Value = null | boolean | number | string | Value[] | { [field: string]: Value };

/** A stored record: a plain JSON object whose `id` is its key in the table. */
export type Record = { readonly id: string; readonly [field: string]: Value };

/** A row of a view or of an intermediate delta: a JSON object. Its key travels beside it. */
export type Row = { readonly [field: string]: Value };

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE';

/** One record change, as given to `ingestBatch`. */
export interface RecordChange {
  table: string;
  op: Operation;
  id: string;
  data?: unknown;
}

/**
 * A literal, a parameter bound when the view is registered (`{ param: name }`), or a tagged
 * literal (`{ literal: value }`) whose value is never read as syntax: how a caller passes a
 * value that comes from outside (see `literalOperand`).
 */
export type Operand = Value | { param: string } | { literal: Value };

export interface FieldFilter {
  eq?: Operand;
  ne?: Operand;
  lt?: Operand;
  lte?: Operand;
  gt?: Operand;
  gte?: Operand;
  in?: Operand;
  nin?: Operand;
  contains?: Operand;
  startsWith?: Operand;
  isNull?: Operand;
}

/**
 * A predicate (DESIGN §3.2): `{ path: { op: value } }` entries are ANDed;
 * `and`, `or`, `not` combine predicates.
 */
export type Predicate =
  | { and: Predicate[] }
  | { or: Predicate[] }
  | { not: Predicate }
  | { [path: string]: FieldFilter };

export interface JoinDefinition {
  table: string;
  as: string;
  on: { left: string; right: string };
  kind?: 'inner' | 'left';
  /**
   * Only records of `table` satisfying this predicate (over the record's own fields) can
   * match: an unreadable author of a left join shows as `null` (row-level read rules).
   */
  where?: Predicate;
}

export type AggregateFunction = 'count' | 'sum' | 'avg' | 'min' | 'max';

export interface AggregateDefinition {
  fn: AggregateFunction;
  /** Required for every function but `count`. */
  field?: string;
}

export interface OrderKey {
  field: string;
  direction?: 'asc' | 'desc';
}

/** A view definition (DESIGN §3.2). JSON-serialisable. */
export interface ViewDefinition {
  id: string;
  from: string;
  where?: Predicate;
  join?: JoinDefinition[];
  select?: string[];
  groupBy?: string[];
  aggregate?: { [alias: string]: AggregateDefinition };
  distinct?: string[];
  orderBy?: OrderKey[];
  limit?: number;
  offset?: number;
}

export type ViewParams = { readonly [name: string]: Value };

/** A view's change (DESIGN §3.3). Never empty. */
export interface ViewUpdate {
  readonly view: string;
  readonly version: number;
  readonly added: readonly Row[];
  readonly updated: readonly Row[];
  readonly removed: readonly string[];
  readonly hash: string;
}

/** The updates of one ingest: one per view whose result changed. */
export type ViewUpdateList = readonly ViewUpdate[];

/** A view's whole current result, rows in view order. */
export interface ViewSnapshot {
  readonly view: string;
  readonly version: number;
  readonly rows: readonly Row[];
  readonly hash: string;
}

/**
 * A shared structure a view reads, owned by the circuit and kept while some view uses it:
 * an equality lookup it was registered through, or the ordered index its window reads
 * (split by `partitionPath` when not null).
 */
export type SharedIndexUse =
  | { readonly kind: 'equality'; readonly table: string; readonly path: string }
  | {
      readonly kind: 'ordered';
      readonly table: string;
      readonly orderBy: readonly OrderKey[];
      readonly partitionPath: string | null;
    };

/**
 * What one view holds, for memory budgets. `privateIndexEntries` counts the entries of the
 * view's own operator state (top-k candidates or window rows, join left rows, groups); rows there are references
 * to stored records, not copies. `approxBytes` estimates the heap of the result and of that
 * private state (not of shared indexes or tables), from per-entry costs measured by bench:memory.
 */
export interface ViewStats {
  readonly view: string;
  readonly resultRows: number;
  readonly privateIndexEntries: number;
  readonly sharedIndexes: readonly SharedIndexUse[];
  readonly approxBytes: number;
}
