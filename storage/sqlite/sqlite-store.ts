/**
 * The SQLite store: the tables' records in one SQLite file (better-sqlite3 v12), DESIGN §5.
 * `openSqliteStore` (open.ts) checks the file and opens it; this class is the open store.
 *
 * File layout (storage format version 1, `SCHEMA_VERSION`):
 *   records(tbl TEXT, id TEXT, data TEXT  -- the record as JSON, PRIMARY KEY (tbl, id)) WITHOUT ROWID
 *   meta(key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID
 *     format          'live-views-graphql/records' — tells our files from other SQLite files
 *     schema_version  '1' — any other value: INCOMPATIBLE_VERSION, file untouched
 *     epoch           1 for a new file; each later open that writes stores the previous + 1
 *                     with its first write (an open that only reads, or fails to load, leaves it)
 *     created_at, opened_at   ISO timestamps (opened_at: of the last open that wrote); other keys
 *                     are free (`getMeta` / `setMeta`)
 * One generic records table: a config that adds a table or a (nullable) field works on an
 * existing file unchanged. Records of a table that the config no longer lists stay in the file
 * (`tables()` lists what is stored; the server decides whether to ignore them or refuse).
 *
 * Guarantees
 * - Atomicity: `commit(changes)` (and every `transaction`) is one SQLite transaction: after a
 *   crash at any point, either all of it is in the file or none of it.
 * - Durability (`durability` option; WAL mode in both cases):
 *   'process' (default, synchronous=NORMAL): when `commit` returns, the transaction is in the WAL
 *     file (in the OS page cache): it survives the death of the process (kill -9, OOM kill,
 *     crash). It is NOT guaranteed to survive power loss, a kernel panic or a VM reset: the last
 *     commits before such an event may be lost — whole transactions, the file stays consistent.
 *   'power' (synchronous=FULL): the WAL is fsync'ed before `commit` returns: a returned commit also
 *     survives power loss, provided the disk honours fsync. Costs one fsync per transaction,
 *     which group commit (`GroupCommitter`) amortises.
 * - Exclusivity: the file is opened with `locking_mode=EXCLUSIVE` and an exclusive lock is taken
 *   by the open transaction and held until `close()`. A second server (any other process,
 *   including the sqlite3 shell) gets `LOCKED` and writes nothing; the OS releases the lock when
 *   the holder dies, so a crash never leaves a stale lock. (POSIX advisory locks: do not put the
 *   file on a network file system.) No -shm file is used.
 * - Refusals leave the file's bytes untouched: the SQLite header ('SQLite format 3\0') is checked
 *   with plain fs reads before SQLite opens the file (a 0-byte file counts as new); format,
 *   version and lock are checked inside the first transaction, which writes nothing to an
 *   existing file; the epoch, `opened_at` and (if needed) WAL mode are written only with the
 *   first write the caller makes — after it loaded the records. So a file that fails to open or
 *   to load keeps its bytes. (One exception: a file left in WAL mode with a non-empty -wal file
 *   by a crash gets its WAL checkpointed when we close it — its content is preserved, its bytes
 *   may change.)
 * - Damage found while reading records (SQLite reports a malformed page; a record's JSON does
 *   not parse, is not an object, or its `id` is not the id it is stored under) is a `CORRUPT`
 *   error naming the table and the id at fault (for a malformed page: the last id read before
 *   it).
 * - The store does not re-check engine rules: CREATE and UPDATE are upserts, DELETE of a missing
 *   row is a no-op. Validation belongs to the engine.
 */
import type Database from 'better-sqlite3';
import { type EncodedChange, encodeChanges } from '../encode-changes.js';
import { StoreError } from '../errors.js';
import type {
  Durability,
  JsonObject,
  LoadedRecord,
  Store,
  StoreChange,
  StoredRecord,
  StoreTransaction,
} from '../types.js';
import { type Initialized, prepareFirstWrite, SCHEMA_VERSION, stamp } from './initialize.js';

const RESERVED_META = new Set(['format', 'schema_version', 'epoch']);

/**
 * An open SQLite file, initialised by `initialize` (lock held, schema checked, epoch bumped).
 * Owns the connection and its prepared statements; `close` releases both.
 */
export class SqliteStore implements Store {
  readonly file: string;
  readonly durability: Durability;
  readonly epoch: number;
  readonly schemaVersion = SCHEMA_VERSION;
  readonly #db: Database.Database;
  readonly #upsert: Database.Statement<[string, string, string]>;
  readonly #delete: Database.Statement<[string, string]>;
  readonly #loadAll: Database.Statement<[]>;
  readonly #loadTable: Database.Statement<[string]>;
  readonly #loadChunk: Database.Statement<[string, string, number]>;
  readonly #loadOne: Database.Statement<[string, string]>;
  readonly #scan: Database.Statement<[]>;
  readonly #begin: Database.Statement<[]>;
  readonly #commit: Database.Statement<[]>;
  readonly #rollback: Database.Statement<[]>;
  readonly #savepoint: Database.Statement<[]>;
  readonly #release: Database.Statement<[]>;
  readonly #rollbackTo: Database.Statement<[]>;
  readonly #getMeta: Database.Statement<[string]>;
  readonly #setMeta: Database.Statement<[string, string]>;
  readonly #tx: StoreTransaction;
  #open = true;
  /** Whether this open's epoch is in the file (see `initialize`). */
  #stamped: boolean;

  constructor(db: Database.Database, file: string, durability: Durability, opened: Initialized) {
    this.#db = db;
    this.file = file;
    this.durability = durability;
    this.epoch = opened.epoch;
    this.#stamped = opened.stamped;
    this.#upsert = db.prepare(
      'INSERT INTO records (tbl, id, data) VALUES (?, ?, ?) ON CONFLICT (tbl, id) DO UPDATE SET data = excluded.data',
    );
    this.#delete = db.prepare('DELETE FROM records WHERE tbl = ? AND id = ?');
    this.#loadAll = db.prepare<[]>('SELECT tbl, id, data FROM records ORDER BY tbl, id').raw(true);
    this.#loadTable = db.prepare<[string]>('SELECT tbl, id, data FROM records WHERE tbl = ? ORDER BY id').raw(true);
    // Keyset pagination on the primary key; max(id) (BINARY collation, as `id > ?`) is where the
    // next chunk starts. The ids come along to check each record against the id it is stored under.
    this.#loadChunk = db
      .prepare<[string, string, number]>(
        "SELECT max(id), json_group_array(id), '[' || group_concat(data, ',') || ']' FROM (SELECT id, data FROM records WHERE tbl = ? AND id > ? ORDER BY id LIMIT ?)",
      )
      .raw(true);
    this.#loadOne = db.prepare<[string, string]>('SELECT data FROM records WHERE tbl = ? AND id = ?').pluck(true);
    this.#scan = db.prepare<[]>('SELECT tbl, id FROM records ORDER BY tbl, id').raw(true);
    this.#begin = db.prepare('BEGIN IMMEDIATE');
    this.#commit = db.prepare('COMMIT');
    this.#rollback = db.prepare('ROLLBACK');
    this.#savepoint = db.prepare('SAVEPOINT store_sp');
    this.#release = db.prepare('RELEASE store_sp');
    this.#rollbackTo = db.prepare('ROLLBACK TO store_sp');
    this.#getMeta = db.prepare<[string]>('SELECT value FROM meta WHERE key = ?').pluck(true);
    this.#setMeta = db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    );
    this.#tx = {
      write: (changes) => this.#write(encodeChanges(changes)),
      savepoint: (fn) => this.#inSavepoint(fn),
    };
  }

  /** The absolute path of the file, or ':memory:'. */
  get location(): string {
    return this.file;
  }

  get isOpen(): boolean {
    return this.#open;
  }

  *load(table?: string): IterableIterator<StoredRecord> {
    this.#assertOpen();
    const rows = this.#reading(() => (table === undefined ? this.#loadAll.iterate() : this.#loadTable.iterate(table)));
    try {
      for (;;) {
        const next = this.#reading(() => (rows as IterableIterator<[string, string, string]>).next());
        if (next.done === true) return;
        const [tbl, id, json] = next.value;
        yield { table: tbl, id, data: this.#record(tbl, id, json) };
      }
    } finally {
      rows.return?.(); // a caller that stops early frees the statement
    }
  }

  /** Reads `chunk` records per query and parses each chunk with one `JSON.parse`: about 1.5–2× faster than `load` per record. */
  *loadRecords(table: string, chunk = 10_000): IterableIterator<LoadedRecord> {
    this.#assertOpen();
    let after = '';
    for (;;) {
      const [last, ids, json] = this.#reading(() => this.#loadChunk.get(table, after, chunk)) as [
        string | null,
        string,
        string | null,
      ];
      if (last === null || json === null) return;
      const keys = JSON.parse(ids) as string[];
      const records = this.#chunk(table, keys, json);
      for (let i = 0; i < records.length; i++) yield { id: keys[i] as string, data: records[i] as JsonObject };
      after = last;
    }
  }

  tables(): { table: string; count: number }[] {
    this.#assertOpen();
    return this.#reading(() =>
      this.#db
        .prepare<[], { table: string; count: number }>(
          'SELECT tbl AS "table", count(*) AS count FROM records GROUP BY tbl ORDER BY tbl',
        )
        .all(),
    );
  }

  commit(changes: readonly StoreChange[]): void {
    this.#assertOpen();
    const encoded = encodeChanges(changes); // a malformed change fails before the transaction starts
    if (encoded.length === 0) return;
    this.transaction(() => this.#write(encoded));
  }

  transaction<T>(fn: (tx: StoreTransaction) => T): T {
    this.#assertOpen();
    const db = this.#db;
    if (db.inTransaction) return this.#inSavepoint(() => fn(this.#tx));
    const stamping = !this.#stamped;
    if (stamping) prepareFirstWrite(db, this.file, this.file === ':memory:');
    this.#begin.run();
    let result: T;
    try {
      if (stamping) stamp(db, this.epoch);
      result = fn(this.#tx);
    } catch (error) {
      if (db.inTransaction) this.#rollback.run();
      throw error;
    }
    if (!db.inTransaction) {
      throw new StoreError(
        'TRANSACTION_ABORTED',
        'SQLite rolled the transaction back (disk full or I/O error); nothing of it was written',
        {
          file: this.file,
        },
      );
    }
    try {
      this.#commit.run();
    } catch (error) {
      if (db.inTransaction) this.#rollback.run();
      throw new StoreError(
        'TRANSACTION_ABORTED',
        `commit failed, nothing of the transaction was written: ${(error as Error).message}`,
        {
          file: this.file,
          cause: error,
        },
      );
    }
    if (stamping) this.#stamped = true;
    return result;
  }

  /** Runs a read; a malformed page becomes a `CORRUPT` error naming the last record read before it. */
  #reading<T>(read: () => T): T {
    try {
      return read();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')) {
        throw new StoreError(
          'CORRUPT',
          `the store ${this.file} is damaged: ${this.#whereDamaged()}: ${(error as Error).message}; it was left untouched`,
          { file: this.file, cause: error },
        );
      }
      throw error;
    }
  }

  /** Scans the records in key order to the first unreadable one (an error path: may read the whole file). */
  #whereDamaged(): string {
    let last: [string, string] | undefined;
    try {
      for (const row of this.#scan.iterate() as IterableIterator<[string, string]>) last = row;
    } catch {
      return last === undefined
        ? 'the first record cannot be read'
        : `the record after ${last[0]} '${last[1]}' cannot be read`;
    }
    return 'a page of the file cannot be read';
  }

  /** The records of one chunk, each checked against the id it is stored under. */
  #chunk(table: string, ids: readonly string[], json: string): JsonObject[] {
    let records: unknown;
    try {
      records = JSON.parse(json);
    } catch {
      records = undefined;
    }
    if (
      Array.isArray(records) &&
      records.length === ids.length &&
      records.every((record, i) => isRecord(record) && isStoredUnder(record['id'], ids[i] as string))
    ) {
      return records as JsonObject[];
    }
    // One of them is at fault: find it (its message names it).
    for (const id of ids) this.#record(table, id, this.#reading(() => this.#loadOne.get(table, id)) as string);
    throw new StoreError('CORRUPT', `the store ${this.file} is damaged: table ${table} cannot be read as JSON`, {
      file: this.file,
    });
  }

  /** One stored record, checked: a JSON object whose `id` is the id it is stored under. */
  #record(table: string, id: string, json: string): JsonObject {
    let data: unknown;
    let problem: string | undefined;
    try {
      data = JSON.parse(json);
    } catch (error) {
      problem = `its JSON does not parse (${(error as Error).message})`;
    }
    if (problem === undefined && !isRecord(data)) problem = 'it is not a JSON object';
    else if (problem === undefined && !isStoredUnder((data as JsonObject)['id'], id))
      problem = `its id field is ${JSON.stringify((data as JsonObject)['id'])}`;
    if (problem !== undefined) {
      throw new StoreError(
        'CORRUPT',
        `the store ${this.file} is damaged: record ${table} '${id}': ${problem}; it was left untouched`,
        { file: this.file },
      );
    }
    return data as JsonObject;
  }

  getMeta(key: string): string | undefined {
    this.#assertOpen();
    const value: unknown = this.#getMeta.get(key);
    return value === undefined || value === null ? undefined : String(value);
  }

  setMeta(key: string, value: string): void {
    this.#assertOpen();
    if (RESERVED_META.has(key))
      throw new StoreError('BAD_CHANGE', `meta key '${key}' is reserved`, { file: this.file });
    if (typeof key !== 'string' || typeof value !== 'string')
      throw new StoreError('BAD_CHANGE', 'meta keys and values are strings', { file: this.file });
    if (this.#db.inTransaction) this.#setMeta.run(key, value);
    else this.transaction(() => this.#setMeta.run(key, value));
  }

  /** Closes the file (checkpointing the WAL) and releases the lock. Idempotent. */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    if (this.#db.inTransaction) this.#rollback.run();
    this.#db.close();
  }

  #write(encoded: readonly EncodedChange[]): void {
    for (const change of encoded) {
      if (change.json === null) this.#delete.run(change.table, change.id);
      else this.#upsert.run(change.table, change.id, change.json);
    }
  }

  #inSavepoint<T>(fn: () => T): T {
    const db = this.#db;
    if (!db.inTransaction)
      throw new StoreError('TRANSACTION_ABORTED', 'no transaction is open (SQLite rolled it back)', {
        file: this.file,
      });
    this.#savepoint.run();
    let result: T;
    try {
      result = fn();
    } catch (error) {
      if (!db.inTransaction) {
        if (error instanceof StoreError && error.code === 'TRANSACTION_ABORTED') throw error;
        throw new StoreError(
          'TRANSACTION_ABORTED',
          `SQLite rolled the whole transaction back: ${(error as Error).message}`,
          {
            file: this.file,
            cause: error,
          },
        );
      }
      this.#rollbackTo.run();
      this.#release.run();
      throw error;
    }
    this.#release.run();
    return result;
  }

  #assertOpen(): void {
    if (!this.#open) throw new StoreError('CLOSED', `the store ${this.file} is closed`, { file: this.file });
  }
}

/** Whether a record's `id` field fits the key it is stored under (the store does not require the field). */
function isStoredUnder(field: unknown, id: string): boolean {
  return field === undefined || field === id;
}

function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
