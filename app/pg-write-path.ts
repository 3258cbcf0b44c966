import pg from 'pg';
import type { CheckedConfig } from '../config/validate.js';
import type { Record } from '../engine/index.js';
import {
  type GroupCommitStats,
  HOLD_LIMIT_MS,
  isConnectionError,
  isRetryableError,
  type JsonObject,
  LOG_LOCK,
  type LogFollower,
  PART_SETTING,
  quote,
  sqlState,
  type TableSpec,
} from '../storage/index.js';
import { type Change, ChangeResolver, type ResolvedChange, type Sees } from './change-resolver.js';
import { AppError, isAppError, unavailable } from './errors.js';
import type { LogApplier } from './log-applier.js';
import type { RowReader } from './pg-rows.js';
import type { Logger } from './view-host.js';
import { DEFAULT_WRITE_LIMITS, type WriteLimits } from './write-limits.js';
import type { Applied, Authorize, Writes } from './write-path.js';

const ignoreError = (): void => undefined;

/** A deadlock with another writer (say, a SQL client) is retried this many times before the callers see UNAVAILABLE. */
const ATTEMPTS = 3;
/** Requests committed in one PostgreSQL transaction at most. */
const MAX_GROUP = 256;
/** How long a committed request waits for this instance's views before it is answered UNAVAILABLE. */
const REACH_TIMEOUT_MS = 10_000;
/** Waiting for a lock (the log lock, a row a SQL client holds) longer than this fails the attempt (55P03, retried). */
const LOCK_TIMEOUT = '10s';

interface Pending {
  readonly changes: readonly Change[];
  readonly authorize: Authorize | undefined;
  readonly sees: Sees | undefined;
  readonly resolve: (applied: Applied) => void;
  readonly reject: (error: unknown) => void;
}

/** A request of the group, resolved and written (its part of the transaction). */
interface Staged {
  readonly pending: Pending;
  readonly part: number;
  readonly resolved: readonly ResolvedChange[];
  readonly statements: readonly string[];
}

interface Committed {
  readonly txid: string;
  /** The log position of the transaction's last entry (undefined when it wrote nothing). */
  readonly position: number | undefined;
  readonly staged: readonly Staged[];
  readonly refused: readonly { pending: Pending; error: unknown }[];
}

/** Every position is taken under the log lock, which the writer holds: the sequence's last value is its own last entry. */
const LAST_POSITION = `SELECT pg_sequence_last_value('lv_changes_position')::text AS position`;

/** The group's writes, sent as one batch, failed: redo the group one request at a time. */
class BatchFailed extends Error {}

/**
 * The write path when the tables live in PostgreSQL, where this instance's engine is not the
 * authority (other instances and SQL clients write too). Group commit, as on SQLite: requests
 * queue, and whatever queued while the previous group was being committed goes into the next
 * PostgreSQL transaction (one at a time per instance; log writers are serialised anyway):
 *
 *   BEGIN; take the log lock; read every row the group touches FOR UPDATE   (one round trip)
 *   per request, in arrival order: resolve and validate its changes against those rows and the
 *     earlier requests' results (CONFLICT, NOT_FOUND, write rules, limits: the same
 *     `ChangeResolver` as the SQLite path); a refused request drops out alone
 *   per request: mark its part (`PART_SETTING`), write its rows; then COMMIT (one round trip)
 *
 * Taking the log lock before reading rules out deadlocks between our groups. If the batched
 * writes fail (a value PostgreSQL refuses, a row a SQL client inserted meanwhile), the group is
 * redone one request at a time, each in a savepoint, so only the failing request is refused.
 * The capture trigger logs each request's rows as its own part, so followers apply and version
 * each request separately. A caller is answered once this instance's follower has applied its
 * part, with the updates its views emitted for it (read your writes).
 */
export class PgWritePath implements Writes {
  readonly limits: WriteLimits;
  readonly #pool: pg.Pool;
  readonly #follower: LogFollower;
  readonly #applier: LogApplier;
  readonly #rows: RowReader;
  readonly #resolver: ChangeResolver;
  readonly #columns = new Map<string, readonly { name: string; json: boolean; nullable: boolean }[]>();
  readonly #logger: Logger | undefined;
  readonly #reachTimeoutMs: number;
  readonly #stats = { groups: 0, committed: 0, rejected: 0, largestGroup: 0 };
  #queue: Pending[] = [];
  #draining: Promise<void> | undefined;
  /** Committed groups whose callers wait for this instance's views. */
  readonly #acknowledging = new Set<Promise<void>>();
  #closed = false;

  constructor(
    pool: pg.Pool,
    follower: LogFollower,
    applier: LogApplier,
    rows: RowReader,
    checked: CheckedConfig,
    tables: readonly TableSpec[],
    options: {
      logger?: Logger | undefined;
      limits?: Partial<WriteLimits> | undefined;
      reachTimeoutMs?: number | undefined;
    } = {},
  ) {
    this.limits = { ...DEFAULT_WRITE_LIMITS, ...options.limits };
    this.#pool = pool;
    this.#follower = follower;
    this.#applier = applier;
    this.#rows = rows;
    this.#logger = options.logger;
    this.#reachTimeoutMs = options.reachTimeoutMs ?? REACH_TIMEOUT_MS;
    this.#resolver = new ChangeResolver(checked, this.limits);
    for (const table of tables) {
      this.#columns.set(
        table.name,
        table.columns.map((column) => ({
          name: column.name,
          json: column.type === 'jsonb',
          nullable: column.nullable,
        })),
      );
    }
  }

  get stats(): GroupCommitStats {
    return { ...this.#stats };
  }

  /**
   * Applies `changes` in one PostgreSQL transaction (all or none) and resolves once this
   * instance's views include them. Refusals are `AppError`s as on the SQLite path; a database
   * out of reach is UNAVAILABLE (retryable).
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
    try {
      // Malformed input is refused before it joins a group.
      this.#resolver.check(changes);
      for (const { table, id } of changes) checkText(id, table, id, 'id');
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<Applied>((resolve, reject) => {
      this.#queue.push({ changes, authorize, sees, resolve, reject });
      // Requests of the same event-loop turn share the first group.
      this.#draining ??= new Promise<void>((started) => setImmediate(started)).then(() => this.#drain());
    });
  }

  /** Commits what is queued and answers its callers, then refuses further requests. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#draining;
    await Promise.all(this.#acknowledging);
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const group = this.#queue.splice(0, MAX_GROUP);
      await this.#commitGroup(group);
    }
    this.#draining = undefined;
  }

  /** Commits one group (retrying deadlocks) and settles every caller; never throws. */
  async #commitGroup(group: readonly Pending[]): Promise<void> {
    this.#stats.groups++;
    this.#stats.largestGroup = Math.max(this.#stats.largestGroup, group.length);
    let oneByOne = false;
    for (let attempt = 1; ; attempt++) {
      let committed: Committed;
      try {
        committed = await this.#transaction(group, oneByOne);
      } catch (error) {
        if (error instanceof BatchFailed && !oneByOne) {
          oneByOne = true;
          attempt--;
          continue;
        }
        if (isRetryableError(error) && attempt < ATTEMPTS) continue;
        const failure = this.#groupError(error);
        this.#stats.rejected += group.length;
        for (const pending of group) pending.reject(failure);
        return;
      }
      this.#stats.rejected += committed.refused.length;
      for (const { pending, error } of committed.refused) pending.reject(error);
      const acknowledged = this.#acknowledge(committed);
      this.#acknowledging.add(acknowledged);
      void acknowledged.finally(() => this.#acknowledging.delete(acknowledged));
      return;
    }
  }

  /** Answers a committed group's callers once this instance's views include it. */
  async #acknowledge({ txid, position, staged }: Committed): Promise<void> {
    if (position !== undefined) {
      try {
        await this.#reached(position);
      } catch (error) {
        for (const { pending, part } of staged) {
          this.#applier.take(txid, part);
          pending.reject(error);
        }
        this.#stats.rejected += staged.length;
        return;
      }
    }
    this.#stats.committed += staged.length;
    for (const { pending, part, resolved, statements } of staged) {
      pending.resolve({
        updates: statements.length === 0 ? [] : this.#applier.take(txid, part),
        records: resolved.map((change) => (change.op === 'DELETE' ? change.before : (change.data as Record))),
      });
    }
  }

  /** Resolves when the follower applied `position`; UNAVAILABLE when it stopped or takes too long. */
  async #reached(position: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.#follower.reached(position),
        new Promise<void>((_, reject) => {
          timer = setTimeout(() => reject(new Error('timeout')), this.#reachTimeoutMs);
        }),
      ]);
    } catch {
      throw unavailable(
        'the change was committed, but this server could not follow the change log to include it in its views (the database may be out of reach); do not retry a create',
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * One attempt at the group's transaction. Throws `BatchFailed` when the batched writes failed
   * (then `oneByOne` isolates the failing requests), or the database's error for the whole group.
   */
  async #transaction(group: readonly Pending[], oneByOne: boolean): Promise<Committed> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      // Whatever keeps a connection from opening (refused, shutting down, too many clients, timeout).
      throw unavailable(
        `the database is out of reach: the request was not applied; retry it (${error instanceof Error ? error.message : String(error)})`,
      );
    }
    // A checked-out connection that breaks between two queries (its session ended by PostgreSQL,
    // say) emits 'error': unheard, that would end the process. The next query fails instead.
    client.on('error', ignoreError);
    const expected: { txid: string; part: number }[] = [];
    let broken = false;
    try {
      const { txid, stored } = await this.#begin(client, group);
      const staged: Staged[] = [];
      const refused: { pending: Pending; error: unknown }[] = [];
      let position: number | undefined;
      // The records as the requests staged so far left them (undefined: deleted).
      const written = new Map<string, Record | undefined>();
      const lookup = (table: string, id: string): Record | undefined => {
        const key = `${table}\u0000${id}`;
        return written.has(key) ? written.get(key) : stored.get(table)?.get(id);
      };
      for (const [part, pending] of group.entries()) {
        let request: Staged;
        try {
          request = { pending, part, ...this.#stage(pending, lookup) };
        } catch (error) {
          refused.push({ pending, error });
          continue;
        }
        if (request.statements.length > 0) {
          if (oneByOne) {
            const outcome = await this.#writeAlone(client, request);
            if ('refusal' in outcome) {
              refused.push({ pending, error: outcome.refusal });
              continue;
            }
            position = outcome.position;
          }
          this.#applier.expect(txid, part);
          expected.push({ txid, part });
        }
        staged.push(request);
        for (const change of request.resolved)
          written.set(
            `${change.table}\u0000${change.id}`,
            change.op === 'DELETE' ? undefined : (change.data as Record),
          );
      }
      if (oneByOne) {
        await client.query('COMMIT');
      } else {
        const writes = staged.flatMap(({ part, statements }) =>
          statements.length === 0 ? [] : [markPart(part), ...statements],
        );
        if (writes.length === 0) {
          await client.query('COMMIT');
        } else {
          let results: pg.QueryResult[];
          try {
            results = (await client.query(
              `${writes.join(';\n')};\n${LAST_POSITION};\nCOMMIT`,
            )) as unknown as pg.QueryResult[];
          } catch (error) {
            if (isConnectionError(error) || isRetryableError(error)) throw error;
            throw new BatchFailed((error as Error).message, { cause: error });
          }
          position = Number((results[results.length - 2]?.rows[0] as { position: string } | undefined)?.position);
        }
      }
      expected.length = 0;
      this.#follower.wakeUp();
      return { txid, position, staged, refused };
    } catch (error) {
      for (const { txid, part } of expected) this.#applier.take(txid, part);
      broken = isConnectionError(error);
      if (!broken) await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.off('error', ignoreError);
      client.release(broken);
    }
  }

  /**
   * BEGIN, the log lock, the transaction id, and the stored records the group touches, locked
   * until the transaction ends: one round trip.
   */
  async #begin(
    client: pg.PoolClient,
    group: readonly Pending[],
  ): Promise<{ txid: string; stored: Map<string, Map<string, Record>> }> {
    const ids = new Map<string, Set<string>>();
    for (const { changes } of group) {
      for (const { table, id } of changes) {
        let set = ids.get(table);
        if (set === undefined) ids.set(table, (set = new Set()));
        set.add(id);
      }
    }
    const tables = [...ids.keys()].sort();
    const statements = [
      'BEGIN',
      `SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`,
      // A process stopped inside this transaction (SIGSTOP, a paused VM) would hold the log lock,
      // which every writer of the database takes, until it resumes: PostgreSQL ends it instead.
      `SET LOCAL idle_in_transaction_session_timeout = ${HOLD_LIMIT_MS}`,
      `SELECT pg_advisory_xact_lock(${LOG_LOCK})`,
      'SELECT pg_current_xact_id()::text AS txid',
      ...tables.map(
        (table) =>
          `SELECT to_jsonb(t) AS row FROM ${quote(table)} AS t WHERE id IN (${[...(ids.get(table) as Set<string>)].map(literal).join(', ')}) FOR UPDATE`,
      ),
    ];
    const results = (await client.query(statements.join(';\n'))) as unknown as pg.QueryResult[];
    const txid = (results[4]?.rows[0] as { txid?: string } | undefined)?.txid;
    if (txid === undefined) throw new Error('the transaction id did not come back');
    const stored = new Map<string, Map<string, Record>>();
    tables.forEach((table, index) => {
      const records = new Map<string, Record>();
      for (const { row } of (results[5 + index]?.rows ?? []) as { row: JsonObject }[]) {
        const record = this.#rows.record(table, row);
        if (record !== undefined) records.set(record.id, record);
      }
      stored.set(table, records);
    });
    return { txid, stored };
  }

  /** Resolves, checks and authorizes one request against `lookup`; its SQL statements. Throws its refusal. */
  #stage(
    { changes, authorize, sees }: Pending,
    lookup: (table: string, id: string) => Record | undefined,
  ): { resolved: ResolvedChange[]; statements: string[] } {
    const resolved = this.#resolver.resolve(changes, lookup, sees);
    if (authorize !== undefined) for (const change of resolved) authorize(change);
    checkConflicts(resolved, lookup);
    const statements: string[] = [];
    for (const change of resolved) {
      const statement = this.#statement(change);
      if (statement !== undefined) statements.push(statement);
    }
    return { resolved, statements };
  }

  /**
   * Writes one request in a savepoint: the log position after it, or its refusal when
   * PostgreSQL refused one of its rows (the savepoint is then rolled back). A broken connection
   * or a deadlock is thrown (the whole group fails or is retried).
   */
  async #writeAlone(client: pg.PoolClient, request: Staged): Promise<{ position: number } | { refusal: unknown }> {
    await client.query(`SAVEPOINT lv_request; ${markPart(request.part)}`);
    for (const change of request.resolved) {
      const statement = this.#statement(change);
      if (statement === undefined) continue;
      try {
        await client.query(statement);
      } catch (error) {
        if (isConnectionError(error) || isRetryableError(error)) throw error;
        await client.query('ROLLBACK TO SAVEPOINT lv_request');
        return { refusal: this.#rowError(error, change) };
      }
    }
    const results = (await client.query(
      `RELEASE SAVEPOINT lv_request; ${LAST_POSITION}`,
    )) as unknown as pg.QueryResult<{ position: string }>[];
    return { position: Number(results[1]?.rows[0]?.position) };
  }

  /** One resolved change as SQL with its values inlined; undefined when it changes nothing (a DELETE of a missing record). */
  #statement(change: ResolvedChange): string | undefined {
    const table = quote(change.table);
    const id = literal(change.id);
    if (change.op === 'DELETE')
      return change.before === undefined ? undefined : `DELETE FROM ${table} WHERE id = ${id}`;
    const columns = this.#columns.get(change.table) ?? [];
    const record = change.data as Record;
    const values = columns.map((column) => {
      const value = sqlValue(record[column.name], column);
      if (typeof value === 'string' && !column.json) checkText(value, change.table, change.id, column.name);
      return literal(value);
    });
    if (change.op === 'CREATE') {
      const names = ['id', ...columns.map((column) => quote(column.name))].join(', ');
      return `INSERT INTO ${table} (${names}) VALUES (${[id, ...values].join(', ')})`;
    }
    if (columns.length === 0) return undefined;
    const sets = columns.map((column, index) => `${quote(column.name)} = ${values[index]}`).join(', ');
    return `UPDATE ${table} SET ${sets} WHERE id = ${id}`;
  }

  /** PostgreSQL refused one row of a request. */
  #rowError(error: unknown, change: ResolvedChange): unknown {
    const { table, id } = change;
    const state = sqlState(error);
    if (state === '23505') return new AppError('CONFLICT', `${table} '${id}' already exists`, { table, id });
    // Class 22 (data exception), 23 (integrity): a value PostgreSQL cannot hold, e.g. a NUL character in JSON.
    if (state?.startsWith('22') || state?.startsWith('23'))
      return new AppError('BAD_INPUT', `the database refused a value: ${(error as Error).message}`, { table, id });
    return error;
  }

  /** What every caller of a group that failed as a whole is told. */
  #groupError(error: unknown): unknown {
    if (isAppError(error)) return error;
    if (isConnectionError(error)) {
      this.#logger?.warn('a mutation failed: PostgreSQL is out of reach', {
        error: error instanceof Error ? error.message : String(error),
      });
      return unavailable(
        'the database is out of reach: the request was not applied (or, if the connection broke while committing, its outcome is unknown); retry it',
      );
    }
    if (isRetryableError(error))
      return unavailable('the request collided with concurrent writes and was not applied; retry it');
    return error;
  }
}

/**
 * A CREATE of a record that exists (whether or not the writer may read it), as the engine
 * refuses it on SQLite. `lookup` is the state before the request; its own earlier changes count.
 */
function checkConflicts(
  resolved: readonly ResolvedChange[],
  lookup: (table: string, id: string) => Record | undefined,
): void {
  const own = new Map<string, boolean>();
  resolved.forEach((change, index) => {
    const key = `${change.table}\u0000${change.id}`;
    const exists = own.has(key) ? own.get(key) : lookup(change.table, change.id) !== undefined;
    if (change.op === 'CREATE' && exists) {
      const where = resolved.length > 1 ? `changes[${index}]: ` : '';
      throw new AppError('CONFLICT', `${where}${change.table} '${change.id}' already exists`, {
        table: change.table,
        id: change.id,
      });
    }
    own.set(key, change.op !== 'DELETE');
  });
}

/** PostgreSQL's text cannot hold NUL; refused here, before it could reach a statement. */
function checkText(value: string, table: string, id: string, field: string): void {
  if (value.includes('\u0000'))
    throw new AppError(
      'BAD_INPUT',
      `the database refused a value: ${table} '${id}' ${field}: text cannot hold a NUL character`,
      {
        table,
        id,
        field,
      },
    );
}

/** Marks the rows written next as request `part` of the transaction (see `PART_SETTING`). */
function markPart(part: number): string {
  return `SELECT set_config('${PART_SETTING}', '${part}', true)`;
}

/** A value as a SQL literal (PostgreSQL casts it to the column's type). */
function literal(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return pg.escapeLiteral(String(value));
}

/** A record's field as a value: JSON as its text, SQL NULL for a nullable null. */
function sqlValue(value: unknown, column: { json: boolean; nullable: boolean }): unknown {
  if (value === undefined || (value === null && column.nullable)) return null;
  return column.json ? JSON.stringify(value) : value;
}
