import { createPubSub, type PubSub, type Repeater } from 'graphql-yoga';
import {
  Circuit,
  EngineError,
  isEngineError,
  type Operation,
  type Record,
  type RecordChange,
  type ViewDefinition,
  type ViewParams,
  type ViewSnapshot,
  type ViewUpdate,
} from '../engine/index.js';
import type { CheckedConfig } from '../config/validate.js';
import { ConfigError } from '../config/validate.js';
import { engineDefinition, hasParams } from '../config/types.js';
import { GroupCommitter, openStore, type Durability, type Store, type StoreTransaction } from '../storage/index.js';
import { RecordValidator } from './record-validator.js';
import { loadTables, RequestCounter } from './stored-tables.js';
import { TopicTarget, type Listener } from './topic-target.js';
import { UpdateHistory } from './update-history.js';
import type { ViewUpdateShape } from '../schema/view-types.js';

/** What a subscriber receives: a whole result (SNAPSHOT) or a change to it (DELTA). */
export type ViewEvent = ViewUpdateShape;

/**
 * One requested record change. Unlike the engine's `RecordChange`, `data` of an UPDATE is a
 * patch: its fields are merged into the stored record (as the record stands after the
 * earlier changes of the same call).
 */
export interface Change {
  readonly table: string;
  readonly op: Operation;
  readonly id: string;
  readonly data?: unknown;
}

/** A change as the write path resolved it: the whole new record (`data`) and the stored one (`before`). */
export type ResolvedChange = RecordChange & { readonly before: Record | undefined };

/**
 * Called with each resolved change of a request, inside its savepoint and before the engine
 * applies anything; throwing refuses the whole request (row-level write rules, issue 5).
 */
export type Authorize = (change: ResolvedChange) => void;

interface Request {
  readonly changes: readonly Change[];
  readonly authorize?: Authorize;
}

export interface Applied {
  /** One update per view whose result changed, each already published. */
  readonly updates: readonly ViewUpdate[];
  /** Per change: the record after it, or for a DELETE the record it removed (if any). */
  readonly records: readonly (Record | undefined)[];
}

export interface LiveStoreOptions {
  /** Updates kept per view for `sinceVersion` resumption (default 1,000). */
  readonly historySize?: number;
  readonly logger?: { warn(message: string, fields?: object): void; error?(message: string, fields?: object): void };
  /** Where the tables are kept. Default: a throwaway in-memory SQLite database. */
  readonly storage?: StorageOptions;
}

export interface StorageOptions {
  /** The SQLite file (created with its directory when missing), or ':memory:' for a throwaway run. */
  readonly file: string;
  /** 'process' (default): survives kill -9; 'power': also power loss (synchronous=FULL). */
  readonly durability?: Durability;
  /**
   * Called when a COMMIT failed (disk full, I/O error): the engine is then ahead of the file,
   * the store refuses every further read and write, and the process should exit (a restart
   * reloads the durable state). No caller of the failed group was acknowledged.
   */
  readonly onCommitFailed?: (error: unknown) => void;
}

/** What start-up found in the store. */
export interface StorageInfo {
  readonly file: string;
  readonly durability: Durability;
  readonly epoch: number;
  /** Records loaded at start-up. */
  readonly records: number;
  /** The version every view started at (above every version an earlier run issued). */
  readonly versionBase: number;
  /** Stored tables the config does not list (kept in the file, not served). */
  readonly ignoredTables: readonly { table: string; count: number }[];
  /** Open, load and view registration, in ms. */
  readonly startupMs: number;
}

type Topics = { [topic: `view:${string}`]: [event: ViewEvent] };

export const DEFAULT_HISTORY_SIZE = 1000;

/**
 * The one start-up path: opens the store (a `StoreError` when it cannot: file untouched),
 * loads its tables into a new circuit, then registers the config's views over them. A view
 * the engine rejects, or a stored record that does not fit the config, is a config error.
 */
export async function openLiveStore(checked: CheckedConfig, options: LiveStoreOptions = {}): Promise<LiveStore> {
  const started = performance.now();
  const storage = options.storage ?? { file: ':memory:' };
  const store = openStore({ file: storage.file, ...(storage.durability === undefined ? {} : { durability: storage.durability }) });
  try {
    const counter = new RequestCounter(store);
    const circuit = new Circuit({ tables: checked.config.tables.map((table) => table.name), versionBase: counter.versionBase });
    const loaded = loadTables(store, circuit, checked);
    for (const view of checked.config.views) {
      if (hasParams(view)) continue; // one view per set of values, created on demand
      try {
        circuit.registerView(engineDefinition(view));
      } catch (error) {
        if (isEngineError(error)) throw new ConfigError([`view "${view.id}": ${error.message}`]);
        throw error;
      }
    }
    const info: StorageInfo = {
      file: store.file,
      durability: store.durability,
      epoch: store.epoch,
      records: loaded.records,
      versionBase: counter.versionBase,
      ignoredTables: loaded.ignored,
      startupMs: performance.now() - started,
    };
    return new LiveStore(checked, circuit, { store, counter, info, ...(storage.onCommitFailed === undefined ? {} : { onCommitFailed: storage.onCommitFailed }) }, options);
  } catch (error) {
    store.close();
    throw error;
  }
}

/** The store behind a `LiveStore`, as `openLiveStore` opened it. */
export interface LiveStoreBacking {
  readonly store: Store;
  readonly counter: RequestCounter;
  readonly info: StorageInfo;
  readonly onCommitFailed?: (error: unknown) => void;
}

/**
 * The single write path and the source of every live view stream.
 *
 * `apply` queues a list of changes (one request) on the one `GroupCommitter`. Requests that
 * arrive in the same event-loop turn share a transaction; each is staged in arrival order in
 * its own savepoint: resolve and validate the changes against the engine's current state,
 * write them, count the request, apply them to the engine (`ingestSingle` / `ingestBatch`,
 * all or nothing). A request the engine rejects rolls back its savepoint and only its caller
 * gets the error. After COMMIT the updates are recorded and published, in commit order (so
 * each view's updates in version order), and only then do the callers' promises resolve.
 * Everything from BEGIN to the publishing runs synchronously, so no query or subscriber can
 * see the engine ahead of the file; if COMMIT fails, the store stops (see `onCommitFailed`).
 */
export class LiveStore {
  readonly checked: CheckedConfig;
  readonly storage: StorageInfo;
  readonly #circuit: Circuit;
  readonly #store: Store;
  readonly #counter: RequestCounter;
  readonly #committer: GroupCommitter<Request, Applied>;
  readonly #onCommitFailed: ((error: unknown) => void) | undefined;
  readonly #logger: LiveStoreOptions['logger'];
  readonly #target: TopicTarget;
  readonly #pubsub: PubSub<Topics>;
  readonly #histories = new Map<string, UpdateHistory<ViewEvent>>();
  readonly #validators = new Map<string, RecordValidator>();
  readonly #closers = new Set<() => void>();
  readonly #historySize: number;
  /** The request count when this run started: views created on demand start above it. */
  readonly #countAtStart: number;
  /** What to tell a subscription whose queue overflowed, by its PubSub listener. */
  readonly #onLost = new WeakMap<Listener, () => boolean>();
  #closed = false;
  /** Set when a COMMIT failed: the engine is ahead of the file and must not be read. */
  #failed: unknown = undefined;

  constructor(checked: CheckedConfig, circuit: Circuit, backing: LiveStoreBacking, options: LiveStoreOptions = {}) {
    this.checked = checked;
    this.storage = backing.info;
    this.#circuit = circuit;
    this.#store = backing.store;
    this.#counter = backing.counter;
    this.#onCommitFailed = backing.onCommitFailed;
    this.#committer = new GroupCommitter<Request, Applied>(backing.store, {
      stage: (request, tx) => this.#stage(request.changes, tx, request.authorize),
      committed: (staged) => {
        for (const { result } of staged) for (const update of result.updates) this.#publish(update);
      },
      commitFailed: (error) => this.#fail(error),
    });
    const logger = options.logger;
    this.#logger = logger;
    this.#target = new TopicTarget((error, topic, listener) => {
      // Logged once per episode: a subscriber that stays slow loses many updates.
      const lost = this.#onLost.get(listener);
      if (lost === undefined || lost()) {
        logger?.warn('a subscriber fell 1,024 updates behind; it gets a fresh SNAPSHOT', {
          topic,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    });
    this.#pubsub = createPubSub<Topics>({ eventTarget: this.#target });
    const historySize = options.historySize ?? DEFAULT_HISTORY_SIZE;
    this.#historySize = historySize;
    for (const view of checked.config.views) {
      if (!hasParams(view)) this.#histories.set(view.id, new UpdateHistory(historySize, circuit.snapshot(view.id).version));
    }
    this.#countAtStart = backing.counter.count;
    for (const table of checked.config.tables) this.#validators.set(table.name, new RecordValidator(table));
  }

  /**
   * Applies `changes` atomically (all or none: in the file and in the engine) and resolves
   * once they are committed and their updates published. Rejects with an `EngineError`
   * (`BAD_INPUT`, `NOT_FOUND`, `CONFLICT`) and changes nothing when any change is invalid.
   */
  apply(changes: readonly Change[], authorize?: Authorize): Promise<Applied> {
    if (this.#closed || this.#failed !== undefined) return Promise.reject(new Error('the live store is closed'));
    return this.#committer.submit(authorize === undefined ? { changes } : { changes, authorize });
  }

  /** One request, inside the group's transaction and its own savepoint (see the class comment). */
  #stage(changes: readonly Change[], tx: StoreTransaction, authorize: Authorize | undefined): Applied {
    if (this.#failed !== undefined) throw new Error('the live store is closed');
    const resolved = this.#resolve(changes);
    if (authorize !== undefined) for (const change of resolved) authorize(change);
    if (resolved.length === 0) return { updates: [], records: [] };
    tx.write(resolved.map(({ table, op, id, data }) => ({ table, op, id, record: data })));
    this.#counter.increment();
    const [single] = resolved;
    const updates =
      resolved.length === 1 && single !== undefined
        ? this.#circuit.ingestSingle(single.table, single.op, single.id, single.data)
        : this.#circuit.ingestBatch(resolved);
    return {
      updates,
      records: resolved.map((change) =>
        change.op === 'DELETE' ? change.before : this.#circuit.getRecord(change.table, change.id),
      ),
    };
  }

  /** A COMMIT failed: nothing of the group is in the file, but the engine applied it. */
  #fail(error: unknown): void {
    if (this.#failed !== undefined) return;
    this.#failed = error ?? new Error('commit failed');
    this.#logger?.error?.('commit failed: the engine is ahead of the file, the store stops', { error });
    this.#closed = true;
    for (const callback of this.#closers) callback();
    this.#closers.clear();
    this.#onCommitFailed?.(error);
  }

  #readable(): void {
    if (this.#failed !== undefined) throw new Error('the live store stopped after a failed commit');
  }

  /** Turns requested changes into engine changes with whole, validated records. */
  #resolve(changes: readonly Change[]): (RecordChange & { before: Record | undefined })[] {
    const pending = new Map<string, Record | undefined>();
    return changes.map((change, index) => {
      const where = changes.length > 1 ? `changes[${index}]: ` : '';
      const { table, op, id } = change;
      const validator = this.#validators.get(table);
      if (validator === undefined) throw new EngineError('BAD_INPUT', `${where}unknown table "${table}"`, { table });
      if (typeof id !== 'string' || id.length === 0) {
        throw new EngineError('BAD_INPUT', `${where}${table}: id must be a non-empty string`, { table, field: 'id' });
      }
      const key = `${table}\u0000${id}`;
      const before = pending.has(key) ? pending.get(key) : this.#circuit.getRecord(table, id);
      const check = (data: { readonly [field: string]: unknown }): Record => {
        try {
          return validator.check(id, data);
        } catch (error) {
          if (isEngineError(error) && where !== '') {
            throw new EngineError(error.code, where + error.message, { table, id, ...fieldOf(error) });
          }
          throw error;
        }
      };
      switch (op) {
        case 'CREATE': {
          const record = check({ ...objectData(change.data, where, table, id), id });
          pending.set(key, record);
          return { table, op, id, data: record, before };
        }
        case 'UPDATE': {
          if (before === undefined) throw new EngineError('NOT_FOUND', `${where}${table} ${id} does not exist`, { table, id });
          const record = check({ ...before, ...objectData(change.data, where, table, id), id });
          pending.set(key, record);
          return { table, op, id, data: record, before };
        }
        case 'DELETE':
          pending.set(key, undefined);
          return { table, op, id, before };
        default:
          throw new EngineError('BAD_INPUT', `${where}unknown operation "${String(op)}"`, { table, id });
      }
    });
  }

  #publish(update: ViewUpdate): void {
    const event: ViewEvent = {
      view: update.view,
      version: update.version,
      kind: 'DELTA',
      added: update.added,
      updated: update.updated,
      removed: update.removed,
      hash: update.hash,
    };
    this.#histories.get(update.view)?.push(event);
    this.#pubsub.publish(`view:${update.view}`, event);
  }

  snapshot(view: string): ViewSnapshot {
    this.#readable();
    return this.#circuit.snapshot(view);
  }

  /** The view's current result as a SNAPSHOT event. */
  snapshotEvent(view: string): ViewEvent {
    this.#readable();
    const { version, rows, hash } = this.#circuit.snapshot(view);
    return { view, version, kind: 'SNAPSHOT', added: rows, updated: [], removed: [], hash };
  }

  record(table: string, id: string): Record | undefined {
    this.#readable();
    return this.#circuit.getRecord(table, id);
  }

  /** Every record of a table (as the engine holds it, which equals the committed file). */
  records(table: string): IterableIterator<Record> {
    this.#readable();
    return this.#circuit.records(table);
  }

  // ---- views created on demand (issue 5; see `ViewRegistry`) ----

  /** Registers a view with a history of its own; returns its initial snapshot. */
  addView(definition: ViewDefinition, params: ViewParams): ViewSnapshot {
    this.#readable();
    const snapshot = this.#circuit.registerView(definition, params);
    this.#histories.set(definition.id, new UpdateHistory(this.#historySize, snapshot.version));
    return snapshot;
  }

  /** Unregisters a view added with `addView`, and drops its history. */
  removeView(id: string): void {
    this.#histories.delete(id);
    if (this.#failed === undefined) this.#circuit.unregisterView(id);
  }

  /** The version base plus the requests counted in this run: no view's version is above it. */
  versionNow(): number {
    return this.storage.versionBase + this.#counter.count - this.#countAtStart;
  }

  /** The engine's counts (views, routes, index entries, records), for leak checks. */
  engineStats(): ReturnType<Circuit['stats']> {
    return this.#circuit.stats();
  }

  /** Transactions and requests committed by this run. */
  commitStats(): { groups: number; committed: number; rejected: number; largestGroup: number } {
    return { ...this.#committer.stats };
  }

  /**
   * The view's updates, live from the return of this call: `first` is the first `next()`,
   * which has added the topic listener. `onLost` runs when an update could not be queued for
   * this subscriber (it read too slowly); it returns whether that starts a new episode.
   */
  subscribe(view: string, onLost: () => boolean): { events: Repeater<ViewEvent>; first: Promise<IteratorResult<ViewEvent>> } {
    const events = this.#pubsub.subscribe(`view:${view}`);
    this.#target.takeLastAdded();
    const first = events.next();
    const listener = this.#target.takeLastAdded();
    if (listener !== undefined) this.#onLost.set(listener, onLost);
    return { events, first };
  }

  /** Updates held for `sinceVersion`, or undefined for an unknown view. */
  history(view: string): UpdateHistory<ViewEvent> | undefined {
    return this.#histories.get(view);
  }

  /** Live subscriber listeners on one view, or on all views. */
  listenerCount(view?: string): number {
    return this.#target.listenerCount(view === undefined ? undefined : `view:${view}`);
  }

  /** Runs `callback` when the store closes (now, if it is closed); returns an unregister. */
  onClose(callback: () => void): () => void {
    if (this.#closed) {
      callback();
      return () => undefined;
    }
    this.#closers.add(callback);
    return () => this.#closers.delete(callback);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Commits the requests already queued, ends every live stream (subscribers see `complete`),
   * refuses further writes and closes the store.
   */
  async close(): Promise<void> {
    if (this.#closed) {
      if (this.#store.isOpen) this.#store.close();
      return;
    }
    this.#closed = true;
    this.#committer.close();
    for (const callback of this.#closers) callback();
    this.#closers.clear();
    this.#store.close();
  }
}

function objectData(data: unknown, where: string, table: string, id: string): { readonly [field: string]: unknown } {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new EngineError('BAD_INPUT', `${where}${table} ${id}: data must be an object`, { table, id });
  }
  const fields = data as { readonly [field: string]: unknown };
  if ('id' in fields && fields['id'] !== id) {
    throw new EngineError('BAD_INPUT', `${where}${table} ${id}: data.id ${JSON.stringify(fields['id'])} differs from the id`, {
      table,
      id,
      field: 'id',
    });
  }
  return fields;
}

function fieldOf(error: EngineError): { field?: string } {
  return error.field === undefined ? {} : { field: error.field };
}
