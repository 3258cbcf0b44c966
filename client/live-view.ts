import { hashRow } from './hash.js';
import { type LiveRow, makeComparator, type OrderKey, type RowComparator } from './order.js';

/** One event of a view subscription, as the server sends it (`TopPostsUpdate`, `PostsUpdate`, …). */
export interface LiveEvent<Row extends LiveRow = LiveRow> {
  readonly view: string;
  readonly version: number;
  /**
   * DELTA: the version it applies to (a copy at `previousVersion` ≤ v < `version` takes it).
   * Absent (not selected): the delta must follow the copy's version by exactly 1, which holds
   * with the embedded store but not over PostgreSQL, where versions are log positions.
   */
  readonly previousVersion?: number | null | undefined;
  readonly kind: 'SNAPSHOT' | 'DELTA';
  readonly added: readonly Row[];
  readonly updated: readonly Row[];
  readonly removed: readonly string[];
  readonly hash: string;
  /** The view's sort keys; every update type has them (select `orderBy { field direction }`). */
  readonly orderBy?: readonly OrderKey[] | null | undefined;
}

/** What listeners see: the whole current result, in view order. */
export interface LiveState<Row extends LiveRow = LiveRow> {
  readonly view: string;
  readonly version: number;
  readonly hash: string;
  readonly rows: readonly Row[];
  /** The event that brought the copy here, as received (its other fields, e.g. `__typename`). */
  readonly event: LiveEvent<Row>;
}

/**
 * What `apply` did: `applied`; `stale` (a DELTA at or below the current version: a replay
 * overlap, ignored); `gap` (a DELTA that does not apply to the current version — its
 * `previousVersion` is above it, or without one its version is not the next — or a DELTA
 * before any SNAPSHOT: resubscribe with `sinceVersion`); `mismatch` (the rows after the event do not hash
 * to the event's `hash`: the copy is dropped, resubscribe without `sinceVersion`).
 */
export type ApplyOutcome = 'applied' | 'stale' | 'gap' | 'mismatch';

export interface LiveViewOptions {
  /**
   * Check every event's `hash` against the rows (default true). The server hashes whole rows,
   * so the subscription must select every field of the row (aliases and `__typename` aside:
   * `__typename` is ignored, aliases are not).
   */
  readonly verifyHash?: boolean;
  /** Sort keys to use when the events do not carry `orderBy`. */
  readonly orderBy?: readonly OrderKey[];
}

export class LiveViewError extends Error {
  readonly code: 'NO_ORDER' | 'BAD_EVENT';
  constructor(code: 'NO_ORDER' | 'BAD_EVENT', message: string) {
    super(message);
    this.name = 'LiveViewError';
    this.code = code;
  }
}

/**
 * A client's copy of one view, kept from its SNAPSHOT and DELTA events: rows in the view's
 * order (its `orderBy`, then id), the version, and the hash checked on every event in
 * O(changed rows). Framework-free; `subscribe` hands listeners a new `rows` array on every
 * change (so UI frameworks can compare by identity).
 */
export class LiveView<Row extends LiveRow = LiveRow> {
  readonly #verify: boolean;
  readonly #listeners = new Set<(state: LiveState<Row>) => void>();
  #compare: RowComparator | undefined;
  #byId = new Map<string, { row: Row; hash: number }>();
  #rows: readonly Row[] = [];
  #high = 0;
  #low = 0;
  #state: LiveState<Row> | undefined;

  constructor(options: LiveViewOptions = {}) {
    this.#verify = options.verifyHash ?? true;
    if (options.orderBy !== undefined) this.#compare = makeComparator(options.orderBy);
  }

  /** The current result, or undefined before the first SNAPSHOT (and after a mismatch). */
  get state(): LiveState<Row> | undefined {
    return this.#state;
  }

  /** The version of the local copy, for `sinceVersion`; undefined when there is none. */
  get version(): number | undefined {
    return this.#state?.version;
  }

  get rows(): readonly Row[] {
    return this.#rows;
  }

  /** Calls `listener` with the current state now (if any) and after every applied event. */
  subscribe(listener: (state: LiveState<Row>) => void): () => void {
    this.#listeners.add(listener);
    if (this.#state !== undefined) listener(this.#state);
    return () => void this.#listeners.delete(listener);
  }

  /** Forgets the local copy (the next event must be a SNAPSHOT). */
  reset(): void {
    this.#byId = new Map();
    this.#rows = [];
    this.#high = 0;
    this.#low = 0;
    this.#state = undefined;
  }

  apply(event: LiveEvent<Row>): ApplyOutcome {
    checkEvent(event);
    if (event.orderBy !== undefined && event.orderBy !== null) this.#compare = makeComparator(event.orderBy);
    if (this.#compare === undefined) {
      throw new LiveViewError(
        'NO_ORDER',
        `view ${event.view}: the event has no orderBy (select \`orderBy { field direction }\`) and none was given`,
      );
    }
    const current = this.#state?.version;
    if (event.kind === 'SNAPSHOT') {
      this.reset();
      this.#put(event.added);
      this.#rows = [...event.added].sort(this.#compare);
    } else {
      if (current === undefined) return 'gap';
      if (event.version <= current) return 'stale';
      const previous = event.previousVersion ?? event.version - 1;
      if (previous > current) return 'gap';
      this.#applyDelta(event, this.#compare);
    }
    const hash = this.#hash();
    if (this.#verify && hash !== event.hash) {
      this.reset();
      return 'mismatch';
    }
    this.#state = { view: event.view, version: event.version, hash: event.hash, rows: this.#rows, event };
    for (const listener of [...this.#listeners]) listener(this.#state);
    return 'applied';
  }

  #applyDelta(event: LiveEvent<Row>, compare: RowComparator): void {
    const gone = new Set<string>(event.removed);
    for (const row of event.updated) gone.add(row.id);
    for (const row of event.added) gone.add(row.id); // an add of a present id replaces it
    for (const id of gone) this.#drop(id);
    const rows = this.#rows.filter((row) => !gone.has(row.id));
    const incoming = [...event.added, ...event.updated];
    this.#put(incoming);
    for (const row of incoming) rows.splice(insertionPoint(rows, row, compare), 0, row);
    this.#rows = rows;
  }

  #put(rows: readonly Row[]): void {
    for (const row of rows) {
      const hash = hashRow(row);
      this.#drop(row.id);
      this.#byId.set(row.id, { row, hash });
      this.#high = (this.#high + Math.floor(hash / 4294967296)) >>> 0;
      this.#low = (this.#low + (hash >>> 0)) >>> 0;
    }
  }

  #drop(id: string): void {
    const entry = this.#byId.get(id);
    if (entry === undefined) return;
    this.#byId.delete(id);
    this.#high = (this.#high - Math.floor(entry.hash / 4294967296)) >>> 0;
    this.#low = (this.#low - (entry.hash >>> 0)) >>> 0;
  }

  #hash(): string {
    return this.#high.toString(16).padStart(8, '0') + this.#low.toString(16).padStart(8, '0');
  }
}

function insertionPoint<Row extends LiveRow>(rows: readonly Row[], row: Row, compare: RowComparator): number {
  let low = 0;
  let high = rows.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compare(rows[middle] as Row, row) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

function checkEvent(event: LiveEvent<LiveRow>): void {
  const ok =
    event !== null &&
    typeof event === 'object' &&
    Number.isInteger(event.version) &&
    (event.previousVersion === undefined ||
      event.previousVersion === null ||
      Number.isInteger(event.previousVersion)) &&
    (event.kind === 'SNAPSHOT' || event.kind === 'DELTA') &&
    Array.isArray(event.added) &&
    Array.isArray(event.updated) &&
    Array.isArray(event.removed) &&
    typeof event.hash === 'string';
  if (!ok) {
    throw new LiveViewError(
      'BAD_EVENT',
      'not a view update: select view, version, kind, added, updated, removed, hash',
    );
  }
}
