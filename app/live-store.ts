import { engineDefinition, hasParams } from '../config/types.js';
import type { CheckedConfig } from '../config/validate.js';
import { ConfigError } from '../config/validate.js';
import { Circuit, type EngineFault, isEngineError, type Record, type ViewSnapshot } from '../engine/index.js';
import { type Durability, type GroupCommitStats, openStore, type PruneOptions } from '../storage/index.js';
import { isAppError } from './errors.js';
import { loadTables } from './load-tables.js';
import type { AppObserver, LogFollower, LogStatus } from './observer.js';
import { openPostgresLiveStore } from './pg-live-store.js';
import type { UpdateHistory } from './update-history.js';
import { VersionClock } from './version-clock.js';
import { type Logger, type ViewEvent, ViewHost } from './view-host.js';
import type { WriteLimits } from './write-limits.js';
import { type Applied, type Authorize, type Change, type Sees, WritePath, type Writes } from './write-path.js';

export interface LiveStoreOptions {
  /** Updates kept per view for `sinceVersion` resumption (default 1,000). */
  readonly historySize?: number;
  readonly logger?: Logger;
  /** Where the tables are kept. Default: a throwaway in-memory SQLite database. */
  readonly storage?: StorageOptions;
  /** Size of one write: changes per request, bytes per record, JSON depth (see `WriteLimits`). */
  readonly writeLimits?: Partial<WriteLimits>;
}

export interface StorageOptions {
  /** The SQLite file (created with its directory when missing), or ':memory:' for a throwaway run. */
  readonly file: string;
  /**
   * A PostgreSQL URL (`postgres://user@host:port/db`): the tables live in that database, shared
   * with other instances and SQL clients, instead of in `file` (see docs/postgres.md).
   */
  readonly database?: string | undefined;
  /**
   * PostgreSQL only: called when this instance can no longer follow the change log safely (it
   * was pruned past its position): the views stop, and the process should exit (a restart reloads).
   */
  readonly onStorageLost?: (error: unknown) => void;
  /** PostgreSQL only: how `lv_changes` is pruned (see `PruneOptions`; defaults: `DEFAULT_PRUNING`). */
  readonly pruning?: Partial<PruneOptions>;
  /** 'process' (default): survives kill -9; 'power': also power loss (synchronous=FULL). */
  readonly durability?: Durability;
  /**
   * Called when a COMMIT failed (disk full, I/O error): the engine is then ahead of the file,
   * every further read and write is refused, and the process should exit (a restart reloads
   * the durable state). No caller of the failed group was acknowledged.
   */
  readonly onCommitFailed?: (error: unknown) => void;
  /**
   * Called when applying a change to the engine failed midway (a bug: see `EngineFault`): the
   * views may be half-updated, every further read and write is refused, and the process should
   * exit so that a restart rebuilds them from the file. The failing request was not stored.
   */
  readonly onEngineFault?: (fault: EngineFault) => void;
}

/** What start-up found in the store. */
export interface StorageInfo {
  /** The SQLite file, or the PostgreSQL URL without its password. */
  readonly file: string;
  readonly durability: Durability;
  readonly epoch: number;
  /** Records loaded at start-up. */
  readonly records: number;
  /** The version the config's views started at (above every version an earlier run issued). */
  readonly versionBase: number;
  /** Stored tables the config does not list (kept in the file, not served). */
  readonly ignoredTables: readonly { table: string; count: number }[];
  /** Open, load and view registration, in ms. */
  readonly startupMs: number;
}

/**
 * The one start-up path: opens the store (a `StoreError` when it cannot: file untouched),
 * loads its tables into a new circuit, then registers the config's views over them at the
 * version clock's base. A view the engine rejects, or a stored record that does not fit the
 * config, is a config error.
 */
export async function openLiveStore(checked: CheckedConfig, options: LiveStoreOptions = {}): Promise<LiveStore> {
  const started = performance.now();
  const storage = options.storage ?? { file: ':memory:' };
  if (storage.database !== undefined) return openPostgresLiveStore(checked, { ...options, storage }, storage.database);
  const store = openStore({
    file: storage.file,
    ...(storage.durability === undefined ? {} : { durability: storage.durability }),
  });
  try {
    const clock = new VersionClock(store);
    const circuit = new Circuit({ tables: checked.config.tables.map((table) => table.name) });
    const loaded = loadTables(store, circuit, checked);
    clock.reserve(0); // stored before any view has a version
    const host = new ViewHost(circuit, clock, {
      logger: options.logger,
      ...(options.historySize === undefined ? {} : { historySize: options.historySize }),
    });
    for (const view of checked.config.views) {
      if (hasParams(view)) continue; // one view per set of values, created on demand
      try {
        circuit.registerView(engineDefinition(view), {}, { startVersion: clock.base });
      } catch (error) {
        if (isEngineError(error)) throw new ConfigError([`view "${view.id}": ${error.message}`]);
        throw error;
      }
      host.adopt(view.id);
    }
    const writes = new WritePath(store, circuit, clock, host, checked, {
      logger: options.logger,
      onCommitFailed: storage.onCommitFailed,
      onEngineFault: storage.onEngineFault,
      limits: options.writeLimits,
    });
    const info: StorageInfo = {
      file: store.file,
      durability: store.durability,
      epoch: store.epoch,
      records: loaded.records,
      versionBase: clock.base,
      ignoredTables: loaded.ignored,
      startupMs: performance.now() - started,
    };
    return new LiveStore(checked, host, writes, info, {
      close: () => {
        if (store.isOpen) store.close();
      },
    });
  } catch (error) {
    store.close();
    throw error;
  }
}

/** What the live store holds of its storage besides the write path: how to release it. */
export interface StorageHandle {
  close(): void | Promise<void>;
}

/**
 * A running application's data: the config it serves, the views (`views`: reads,
 * subscriptions, histories) and the one write path (`writes`), over one store. The
 * shortcuts below are what callers use most.
 */
export class LiveStore {
  readonly checked: CheckedConfig;
  readonly storage: StorageInfo;
  readonly views: ViewHost;
  readonly writes: Writes;
  readonly #storage: StorageHandle;
  #observer: AppObserver | undefined;
  #log: LogFollower | undefined;

  constructor(checked: CheckedConfig, views: ViewHost, writes: Writes, info: StorageInfo, storage: StorageHandle) {
    this.checked = checked;
    this.#storage = storage;
    this.views = views;
    this.writes = writes;
    this.storage = info;
  }

  /** See `WritePath.apply`. */
  apply(changes: readonly Change[], authorize?: Authorize, sees?: Sees): Promise<Applied> {
    const observer = this.#observer;
    if (observer === undefined) return this.writes.apply(changes, authorize, sees);
    const started = performance.now();
    const applied = this.writes.apply(changes, authorize, sees);
    // Observed beside the caller's await, not in its way: the caller gets the same promise.
    applied.then(
      () => observer.writeEnded('ok', (performance.now() - started) / 1000),
      (error: unknown) =>
        observer.writeEnded(isAppError(error) ? error.code : 'INTERNAL', (performance.now() - started) / 1000),
    );
    return applied;
  }

  /** Reports writes and publishes to `observer` from now on (the server's metrics). */
  observe(observer: AppObserver): void {
    this.#observer = observer;
    this.views.observe(observer);
  }

  /** Registers the follower of a shared change log (a store other writers feed) for readiness and metrics. */
  followLog(follower: LogFollower): void {
    this.#log = follower;
  }

  /** How far the shared change log is applied here; undefined for a store without one (SQLite). */
  logStatus(): LogStatus | undefined {
    return this.#log?.logStatus();
  }

  snapshot(view: string): ViewSnapshot {
    return this.views.snapshot(view);
  }

  record(table: string, id: string): Record | undefined {
    return this.views.record(table, id);
  }

  records(table: string): IterableIterator<Record> {
    return this.views.records(table);
  }

  history(view: string): UpdateHistory<ViewEvent> | undefined {
    return this.views.history(view);
  }

  listenerCount(view?: string): number {
    return this.views.listenerCount(view);
  }

  engineStats(): ReturnType<ViewHost['engineStats']> {
    return this.views.engineStats();
  }

  /** Transactions and requests committed by this run. */
  commitStats(): GroupCommitStats {
    return this.writes.stats;
  }

  get closed(): boolean {
    return this.views.closed;
  }

  /**
   * Commits the requests already queued, ends every live stream (subscribers see `complete`),
   * refuses further writes and closes the store.
   */
  async close(): Promise<void> {
    await this.writes.close();
    this.views.close();
    await this.#storage.close();
  }
}
