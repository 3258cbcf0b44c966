import type { CheckedConfig } from '../config/validate.js';
import { type Circuit, type EngineFault, isEngineFault, type Record, type ViewUpdate } from '../engine/index.js';
import { type GroupCommitStats, GroupCommitter, type Store, type StoreTransaction } from '../storage/index.js';
import { type Change, ChangeResolver, type ResolvedChange, type Sees } from './change-resolver.js';
import { AppError, toAppError, unavailable } from './errors.js';
import type { VersionClock } from './version-clock.js';
import type { Logger, ViewHost } from './view-host.js';
import { DEFAULT_WRITE_LIMITS, type WriteLimits } from './write-limits.js';

/**
 * Called with each resolved change of a request, inside its savepoint and before the engine
 * applies anything; throwing refuses the whole request (row-level write rules).
 */
export type Authorize = (change: ResolvedChange) => void;

export type { Change, ResolvedChange, Sees } from './change-resolver.js';

/** A write path: the one way requests change records, whatever store holds them. */
export interface Writes {
  readonly limits: WriteLimits;
  /** Transactions and requests committed by this run. */
  readonly stats: GroupCommitStats;
  /** With `sees`, stored records the writer may not read are absent for it (see `Sees`). */
  apply(changes: readonly Change[], authorize?: Authorize, sees?: Sees): Promise<Applied>;
  /** Finishes what is queued, then refuses further requests. */
  close(): void | Promise<void>;
}

export interface Applied {
  /** One update per view whose result changed, each already published. */
  readonly updates: readonly ViewUpdate[];
  /** Per change: the record after it, or for a DELETE the record it removed (if any). */
  readonly records: readonly (Record | undefined)[];
}

interface Request {
  readonly changes: readonly Change[];
  readonly authorize?: Authorize | undefined;
  readonly sees?: Sees | undefined;
}

/**
 * The single write path. `apply` queues a request (a list of changes) on the one
 * `GroupCommitter`: requests that arrive in the same event-loop turn share a transaction,
 * each staged in arrival order in its own savepoint — resolve and validate its changes
 * against the engine's current state, check the write rules, write them, apply them to the
 * engine (all or nothing), count it on the version clock (the group's versions were reserved
 * before its first savepoint). A refused request rolls back its savepoint and only its caller
 * gets the error. After COMMIT the updates are published in
 * commit order (so each view's in version order), and only then do the callers' promises
 * resolve. Everything from BEGIN to publishing runs synchronously, so no reader sees the
 * engine ahead of the store; if COMMIT fails, the host stops and `onCommitFailed` runs.
 */
export class WritePath implements Writes {
  readonly #circuit: Circuit;
  readonly #clock: VersionClock;
  readonly #host: ViewHost;
  readonly #committer: GroupCommitter<Request, Applied>;
  readonly #resolver: ChangeResolver;
  readonly #logger: Logger | undefined;
  readonly #onEngineFault: ((fault: EngineFault) => void) | undefined;
  readonly limits: WriteLimits;
  #closed = false;

  constructor(
    store: Store,
    circuit: Circuit,
    clock: VersionClock,
    host: ViewHost,
    checked: CheckedConfig,
    options: {
      logger?: Logger | undefined;
      onCommitFailed?: ((error: unknown) => void) | undefined;
      onEngineFault?: ((fault: EngineFault) => void) | undefined;
      limits?: Partial<WriteLimits> | undefined;
    } = {},
  ) {
    this.limits = { ...DEFAULT_WRITE_LIMITS, ...options.limits };
    this.#logger = options.logger;
    this.#onEngineFault = options.onEngineFault;
    this.#circuit = circuit;
    this.#clock = clock;
    this.#host = host;
    this.#resolver = new ChangeResolver(checked, this.limits);
    this.#committer = new GroupCommitter<Request, Applied>(store, {
      // Versions for every request of the group are reserved before any is staged (see VersionClock).
      begin: (requests) => clock.reserve(requests.length),
      stage: (request, tx) => this.#stage(request, tx),
      committed: (staged) => {
        for (const { result } of staged) host.publish(result.updates);
      },
      commitFailed: (error) => {
        if (this.#closed) return;
        this.#closed = true;
        options.logger?.error?.('commit failed: the engine is ahead of the store, the server stops', { error });
        host.stop(error);
        options.onCommitFailed?.(error);
      },
    });
  }

  /**
   * Applies `changes` atomically (all or none: in the store and in the engine) and resolves
   * once they are committed and their updates published. Rejects with an `AppError`
   * (`BAD_INPUT`, `NOT_FOUND`, `CONFLICT`, or whatever `authorize` throws) and changes nothing
   * when any change is refused; more changes than `limits.maxBatchChanges` are refused first.
   */
  apply(changes: readonly Change[], authorize?: Authorize, sees?: Sees): Promise<Applied> {
    if (this.#closed) return Promise.reject(unavailable());
    const max = this.limits.maxBatchChanges;
    if (changes.length > max) {
      return Promise.reject(
        new AppError('BAD_INPUT', `a request may hold at most ${max} changes, got ${changes.length}`, {
          limit: 'maxBatchChanges',
          max,
        }),
      );
    }
    return this.#committer.submit({ changes, authorize, sees });
  }

  get stats(): GroupCommitStats {
    return { ...this.#committer.stats };
  }

  /** Commits what is queued, then refuses further requests. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#committer.close();
  }

  /** One request, inside the group's transaction and its own savepoint (see the class comment). */
  #stage({ changes, authorize, sees }: Request, tx: StoreTransaction): Applied {
    if (this.#host.closed) throw unavailable();
    const resolved = this.#resolver.resolve(changes, (table, id) => this.#circuit.getRecord(table, id), sees);
    if (authorize !== undefined) for (const change of resolved) authorize(change);
    if (resolved.length === 0) return { updates: [], records: [] };
    tx.write(resolved.map(({ table, op, id, data }) => ({ table, op, id, record: data })));
    const [single] = resolved;
    let updates: readonly ViewUpdate[];
    try {
      updates =
        resolved.length === 1 && single !== undefined
          ? this.#circuit.ingestSingle(single.table, single.op, single.id, single.data)
          : this.#circuit.ingestBatch(resolved);
    } catch (error) {
      if (isEngineFault(error)) this.#faulted(error, resolved);
      throw toAppError(error);
    }
    // Counted only once applied, so a refused request leaves no gap in the versions.
    this.#clock.tick();
    return {
      updates,
      records: resolved.map((change) =>
        change.op === 'DELETE' ? change.before : this.#circuit.getRecord(change.table, change.id),
      ),
    };
  }

  /**
   * The engine failed midway through applying a request (a bug): views may be half-updated.
   * This request's savepoint rolls back (it is neither stored nor answered); from now on every
   * read and write is refused, and `onEngineFault` runs — the process should exit, so that a
   * restart rebuilds the engine from the file, which holds exactly the acknowledged requests.
   */
  #faulted(fault: EngineFault, changes: readonly ResolvedChange[]): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#logger?.error?.('engine fault: views may be half-updated, the server stops serving them', {
      view: fault.view,
      changes: changes.map(({ table, op, id, data }) => ({ table, op, id, data })),
      error: fault,
    });
    this.#host.stop(fault);
    this.#onEngineFault?.(fault);
  }
}
