import type { CheckedConfig } from '../config/validate.js';
import {
  type Circuit,
  checkChange,
  type EngineFault,
  isEngineFault,
  type Operation,
  type Record,
  type RecordChange,
  type ViewUpdate,
} from '../engine/index.js';
import { type GroupCommitStats, GroupCommitter, type Store, type StoreTransaction } from '../storage/index.js';
import { AppError, toAppError, unavailable, withAppErrors } from './errors.js';
import { RecordValidator } from './record-validator.js';
import type { VersionClock } from './version-clock.js';
import type { Logger, ViewHost } from './view-host.js';
import { checkJsonDepth, DEFAULT_WRITE_LIMITS, type WriteLimits } from './write-limits.js';

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
 * applies anything; throwing refuses the whole request (row-level write rules).
 */
export type Authorize = (change: ResolvedChange) => void;

/**
 * Whether the writer may read a stored record (its read rule). A record it may not read is
 * absent for its writes: an update is `NOT_FOUND` and a delete changes nothing, exactly as for
 * a missing id, so no answer tells a hidden record from a missing one.
 */
export type Sees = (table: string, record: Record) => boolean;

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
export class WritePath {
  readonly #circuit: Circuit;
  readonly #clock: VersionClock;
  readonly #host: ViewHost;
  readonly #committer: GroupCommitter<Request, Applied>;
  readonly #validators = new Map<string, RecordValidator>();
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
    for (const table of checked.config.tables) this.#validators.set(table.name, new RecordValidator(table));
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
   * With `sees`, stored records the writer may not read are absent for it (see `Sees`).
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
    const resolved = this.#resolve(changes, sees);
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

  /** Each field's value (a record itself is not a level). */
  #checkDepth(data: unknown, what: string): void {
    const max = this.limits.maxJsonDepth;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      checkJsonDepth(data, max, what);
      return;
    }
    for (const [field, value] of Object.entries(data))
      checkJsonDepth(value, max, `${what}: field '${field}'`, { field });
  }

  #checkSize(record: Record, table: string, id: string, where: string): void {
    const max = this.limits.maxRecordBytes;
    const bytes = Buffer.byteLength(JSON.stringify(record));
    if (bytes > max) {
      throw new AppError('BAD_INPUT', `${where}${table} '${id}' is ${bytes} bytes as JSON, more than ${max}`, {
        table,
        id,
        limit: 'maxRecordBytes',
        max,
      });
    }
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

  /**
   * Turns requested changes into engine changes with whole, validated records: the one
   * validation pass. The engine's `checkChange` judges the change itself (table, id, operation,
   * data), with the engine's messages; the table's `RecordValidator` judges the fields.
   */
  #resolve(changes: readonly Change[], sees: Sees | undefined): ResolvedChange[] {
    const pending = new Map<string, Record | undefined>();
    const tableExists = (table: string): boolean => this.#validators.has(table);
    return changes.flatMap((change, index): ResolvedChange[] => {
      const where = changes.length > 1 ? `changes[${index}]: ` : '';
      const { table, op, id } = change;
      // Before anything walks the data recursively: a hostile depth must not overflow the stack.
      this.#checkDepth(change.data, `${where}${table} '${id}'`);
      // A patch is checked as data before it is merged (the merged record is whole).
      const patch = withAppErrors(() => checkChange(tableExists, table, op, id, change.data, where));
      const validator = this.#validators.get(table) as RecordValidator;
      const key = `${table}\u0000${id}`;
      // Records this request wrote are the writer's own; stored ones it may not read are absent.
      const stored = pending.has(key) ? pending.get(key) : this.#circuit.getRecord(table, id);
      const hidden = !pending.has(key) && stored !== undefined && sees !== undefined && !sees(table, stored);
      const before = hidden ? undefined : stored;
      if (op === 'DELETE') {
        if (hidden) return []; // as deleting a missing id: nothing changes
        pending.set(key, undefined);
        return [{ table, op, id, before }];
      }
      if (op === 'UPDATE' && before === undefined) {
        throw new AppError('NOT_FOUND', `${where}${table} '${id}' does not exist`, { table, id });
      }
      const record = validator.check(id, op === 'UPDATE' ? { ...before, ...patch } : { ...patch }, where);
      this.#checkSize(record, table, id, where);
      pending.set(key, record);
      return [{ table, op, id, data: record, before }];
    });
  }
}
