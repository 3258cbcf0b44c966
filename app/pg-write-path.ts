import type pg from 'pg';
import type { CheckedConfig } from '../config/validate.js';
import type { Record } from '../engine/index.js';
import {
  type GroupCommitStats,
  isConnectionError,
  isRetryableError,
  type JsonObject,
  LOG_LOCK,
  type LogFollower,
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

/** A deadlock with another writer (say, a SQL client) is retried this many times before the caller sees UNAVAILABLE. */
const ATTEMPTS = 3;

/**
 * The write path when the tables live in PostgreSQL, where this instance's engine is not the
 * authority (other instances and SQL clients write too). Each request is one PostgreSQL
 * transaction: it takes the log lock first (all log writers are serialised anyway; taking it
 * before reading rules out deadlocks between two of our requests), reads the rows it touches
 * FOR UPDATE, resolves and validates its changes against them (CONFLICT, NOT_FOUND, write
 * rules, limits: the same `ChangeResolver` as the SQLite path), writes them and commits. The
 * capture trigger logs them; the caller is answered once this instance's follower has applied
 * the transaction, with the updates its views emitted for it (read your writes).
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
  readonly #stats = { groups: 0, committed: 0, rejected: 0, largestGroup: 0 };
  #closed = false;

  constructor(
    pool: pg.Pool,
    follower: LogFollower,
    applier: LogApplier,
    rows: RowReader,
    checked: CheckedConfig,
    tables: readonly TableSpec[],
    options: { logger?: Logger | undefined; limits?: Partial<WriteLimits> | undefined } = {},
  ) {
    this.limits = { ...DEFAULT_WRITE_LIMITS, ...options.limits };
    this.#pool = pool;
    this.#follower = follower;
    this.#applier = applier;
    this.#rows = rows;
    this.#logger = options.logger;
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
   * instance's views include it. Refusals are `AppError`s as on the SQLite path; a database
   * out of reach is UNAVAILABLE (retryable).
   */
  async apply(changes: readonly Change[], authorize?: Authorize, sees?: Sees): Promise<Applied> {
    if (this.#closed) throw unavailable();
    const max = this.limits.maxBatchChanges;
    if (changes.length > max) {
      throw new AppError('BAD_INPUT', `a request may hold at most ${max} changes, got ${changes.length}`, {
        limit: 'maxBatchChanges',
        max,
      });
    }
    // Malformed input is refused before a connection is taken.
    this.#resolver.check(changes);
    for (let attempt = 1; ; attempt++) {
      try {
        const { resolved, position } = await this.#transaction(changes, authorize, sees);
        this.#stats.groups++;
        this.#stats.committed++;
        let updates: Applied['updates'] = [];
        if (position !== undefined) {
          try {
            await this.#follower.reached(position);
          } catch {
            throw unavailable('the change was committed, but this server stopped before its views included it');
          }
          updates = this.#applier.take(position);
        }
        return {
          updates,
          records: resolved.map((change) => (change.op === 'DELETE' ? change.before : (change.data as Record))),
        };
      } catch (error) {
        if (isAppError(error)) {
          this.#stats.rejected++;
          throw error;
        }
        if (isRetryableError(error) && attempt < ATTEMPTS) continue;
        throw this.#toAppError(error);
      }
    }
  }

  close(): void {
    this.#closed = true;
  }

  async #transaction(
    changes: readonly Change[],
    authorize: Authorize | undefined,
    sees: Sees | undefined,
  ): Promise<{ resolved: ResolvedChange[]; position: number | undefined }> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      // Whatever keeps a connection from opening (refused, shutting down, too many clients).
      throw unavailable(
        `the database is out of reach: the request was not applied; retry it (${error instanceof Error ? error.message : String(error)})`,
      );
    }
    let position: number | undefined;
    let broken = false;
    try {
      await client.query('BEGIN');
      await client.query(`SELECT pg_advisory_xact_lock(${LOG_LOCK})`);
      const stored = await this.#readForUpdate(client, changes);
      const resolved = this.#resolver.resolve(changes, (table, id) => stored.get(table)?.get(id), sees);
      if (authorize !== undefined) for (const change of resolved) authorize(change);
      let wrote = false;
      for (const change of resolved) if (await this.#write(client, change)) wrote = true;
      if (wrote) {
        const current = await client.query<{ position: string }>(
          `SELECT currval('lv_changes_position')::text AS position`,
        );
        position = Number(current.rows[0]?.position);
        this.#applier.expect(position);
      }
      await client.query('COMMIT');
      this.#follower.wakeUp();
      return { resolved, position };
    } catch (error) {
      if (position !== undefined) this.#applier.take(position);
      broken = isConnectionError(error);
      if (!broken) await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /** The stored records the changes touch, locked until the transaction ends. */
  async #readForUpdate(client: pg.PoolClient, changes: readonly Change[]): Promise<Map<string, Map<string, Record>>> {
    const ids = new Map<string, Set<string>>();
    for (const { table, id } of changes) {
      let set = ids.get(table);
      if (set === undefined) ids.set(table, (set = new Set()));
      set.add(id);
    }
    const stored = new Map<string, Map<string, Record>>();
    for (const [table, set] of ids) {
      const result = await client.query<{ row: JsonObject }>(
        `SELECT to_jsonb(t) AS row FROM ${quote(table)} AS t WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
        [[...set]],
      );
      const records = new Map<string, Record>();
      for (const { row } of result.rows) {
        const record = this.#rows.record(table, row);
        if (record !== undefined) records.set(record.id, record);
      }
      stored.set(table, records);
    }
    return stored;
  }

  /** Writes one resolved change; false when it changed nothing (a DELETE of a missing record). */
  async #write(client: pg.PoolClient, change: ResolvedChange): Promise<boolean> {
    const table = quote(change.table);
    if (change.op === 'DELETE') {
      if (change.before === undefined) return false;
      await client.query(`DELETE FROM ${table} WHERE id = $1`, [change.id]);
      return true;
    }
    const columns = this.#columns.get(change.table) ?? [];
    const record = change.data as Record;
    const values: unknown[] = [change.id];
    const placeholders: string[] = [];
    for (const column of columns) {
      values.push(sqlValue(record[column.name], column));
      placeholders.push(`$${values.length}${column.json ? '::jsonb' : ''}`);
    }
    if (change.op === 'CREATE') {
      const names = ['id', ...columns.map((column) => quote(column.name))].join(', ');
      await client.query(
        `INSERT INTO ${table} (${names}) VALUES ($1${placeholders.map((p) => `, ${p}`).join('')})`,
        values,
      );
    } else {
      if (columns.length === 0) return false;
      const sets = columns.map((column, index) => `${quote(column.name)} = ${placeholders[index]}`).join(', ');
      await client.query(`UPDATE ${table} SET ${sets} WHERE id = $1`, values);
    }
    return true;
  }

  #toAppError(error: unknown): unknown {
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
    const state = sqlState(error);
    if (state === '23505') return new AppError('CONFLICT', 'a record with this id was created concurrently');
    // Class 22 (data exception), 23 (integrity): a value PostgreSQL cannot hold, e.g. a NUL character in text.
    if (state?.startsWith('22') || state?.startsWith('23'))
      return new AppError('BAD_INPUT', `the database refused a value: ${(error as Error).message}`);
    return error;
  }
}

/** A record's field as a query parameter: JSON as its text (cast to jsonb), SQL NULL for a nullable null. */
function sqlValue(value: unknown, column: { json: boolean; nullable: boolean }): unknown {
  if (value === undefined || (value === null && column.nullable)) return null;
  return column.json ? JSON.stringify(value) : value;
}
