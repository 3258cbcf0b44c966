import { closeSync, constants, mkdirSync, openSync, readSync, statSync, accessSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from './errors.js';
import type { ChangeOp, Durability, JsonObject, Store, StoreChange, StoredRecord, StoreTransaction } from './types.js';

/** Identifies a file written by this module (meta `format`). */
export const STORE_FORMAT = 'live-views-graphql/records';
/** The storage format version this code reads and writes (meta `schema_version`). */
export const SCHEMA_VERSION = 1;

export interface StoreOptions {
  /** Path of the SQLite file (created with its directory when missing), or ':memory:'. */
  file: string;
  /** Default 'process'. See `Durability`. */
  durability?: Durability;
  /** How long to wait for another process's lock before failing with `LOCKED`. Default 500 ms. */
  lockTimeoutMs?: number;
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');
const RESERVED_META = new Set(['format', 'schema_version', 'epoch']);
const OPS: ReadonlySet<string> = new Set<ChangeOp>(['CREATE', 'UPDATE', 'DELETE']);

/** A change checked and serialised; `json === null` is a delete. */
interface Encoded {
  readonly table: string;
  readonly id: string;
  readonly json: string | null;
}

/**
 * Opens (or creates) a store. Throws a `StoreError` — leaving an existing file's bytes as they
 * were — when the file is not a SQLite database (`NOT_A_DATABASE`), is another application's
 * database (`NOT_A_STORE`), has another format version (`INCOMPATIBLE_VERSION`), is held by
 * another running process (`LOCKED`), or cannot be written (`READ_ONLY`).
 */
export function openStore(options: StoreOptions): Store {
  const durability = options.durability ?? 'process';
  if (durability !== 'process' && durability !== 'power') {
    throw new TypeError(`durability must be 'process' or 'power', not ${JSON.stringify(durability)}`);
  }
  if (options.file === ':memory:') return initialize(new Database(':memory:'), ':memory:', durability, true);

  const file = resolve(options.file);
  const exists = inspectFile(file);
  checkWritable(file, exists);
  let db: Database.Database;
  try {
    db = new Database(file, { timeout: options.lockTimeoutMs ?? 500 });
  } catch (error) {
    throw openError(error, file);
  }
  try {
    return initialize(db, file, durability, false);
  } catch (error) {
    try {
      if (db.inTransaction) db.exec('ROLLBACK');
    } catch {
      // closing below releases everything anyway
    }
    db.close();
    throw openError(error, file);
  }
}

/** Checks the file without SQLite (so nothing writes to it): true when it exists and is not empty. */
function inspectFile(file: string): boolean {
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new StoreError('CANNOT_OPEN', `${file} is not a regular file`, { file });
    size = stat.size;
  } catch (error) {
    if (error instanceof StoreError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw openError(error, file);
  }
  if (size === 0) return false; // an empty file is a new database (SQLite treats it so)
  const header = Buffer.alloc(SQLITE_HEADER.length);
  let read = 0;
  try {
    const fd = openSync(file, 'r');
    try {
      read = readSync(fd, header, 0, header.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw openError(error, file);
  }
  if (read < header.length || !header.equals(SQLITE_HEADER)) {
    throw new StoreError('NOT_A_DATABASE', `${file} is not a SQLite database (its first bytes are not the SQLite header); it was left untouched`, {
      file,
    });
  }
  return true;
}

/** The directory must be writable (SQLite creates `-wal` / `-journal` files beside the database), and so must the file. */
function checkWritable(file: string, exists: boolean): void {
  const dir = dirname(file);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw openError(error, file, `cannot create the directory ${dir}`);
  }
  for (const [path, what] of [
    [dir, `the directory ${dir} is not writable (the store creates ${file}-wal beside the database)`],
    ...(exists ? [[file, `the file ${file} is not writable`] as const] : []),
  ] as const) {
    try {
      accessSync(path, constants.W_OK);
    } catch (error) {
      throw openError(error, file, what);
    }
  }
}

function openError(error: unknown, file: string, context?: string): StoreError {
  if (error instanceof StoreError) return error;
  const code = (error as { code?: unknown }).code;
  const detail = error instanceof Error ? error.message : String(error);
  const say = (what: string) => `${context ?? what}: ${detail}`;
  if (typeof code === 'string') {
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code.startsWith('SQLITE_READONLY') || code === 'SQLITE_PERM') {
      return new StoreError('READ_ONLY', `cannot write the store ${file}: ${say('permission denied or read-only file system')}`, { file, cause: error });
    }
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      return new StoreError(
        'LOCKED',
        `the store ${file} is locked by another process (is another server running on this file?); it was left untouched`,
        { file, cause: error },
      );
    }
    if (code === 'SQLITE_NOTADB') {
      return new StoreError('NOT_A_DATABASE', `${file} is not a SQLite database; it was left untouched`, { file, cause: error });
    }
    if (code.startsWith('SQLITE_CORRUPT')) {
      return new StoreError('CORRUPT', `the store ${file} is corrupt: ${detail}`, { file, cause: error });
    }
    if (code.startsWith('SQLITE_CANTOPEN')) {
      return new StoreError('CANNOT_OPEN', `cannot open the store ${file} (is its directory writable?): ${detail}`, { file, cause: error });
    }
  }
  return new StoreError('CANNOT_OPEN', `cannot open the store ${file}: ${say('error')}`, { file, cause: error });
}

/**
 * Takes the exclusive lock, checks or creates the schema and bumps the epoch (one
 * transaction, before anything is written), then switches to WAL.
 */
function initialize(db: Database.Database, file: string, durability: Durability, memory: boolean): Store {
  // EXCLUSIVE locking mode: the first transaction takes an exclusive lock on the file and the
  // connection keeps it until it is closed. Another process can neither read nor write
  // meanwhile, and the OS drops the lock when the holder dies (kill -9 included), so there is
  // no stale lock to clean up. Entering WAL in this mode keeps the WAL index in heap memory
  // (no -shm file).
  db.pragma('locking_mode = EXCLUSIVE');
  db.exec('BEGIN EXCLUSIVE'); // SQLITE_BUSY here when another process holds the file
  const objects = db.prepare<[], { type: string; name: string }>("SELECT type, name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'").all();
  let epoch: number;
  const now = new Date().toISOString();
  if (objects.length === 0) {
    db.exec(`
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE records (tbl TEXT NOT NULL, id TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (tbl, id)) WITHOUT ROWID;
    `);
    epoch = 1;
    const insert = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
    insert.run('format', STORE_FORMAT);
    insert.run('schema_version', String(SCHEMA_VERSION));
    insert.run('epoch', String(epoch));
    insert.run('created_at', now);
    insert.run('opened_at', now);
  } else {
    const names = new Set(objects.filter((o) => o.type === 'table').map((o) => o.name));
    const list = [...names].slice(0, 5).join(', ');
    if (!names.has('meta')) {
      throw new StoreError('NOT_A_STORE', `${file} is a SQLite database but not a live-views store (tables: ${list}); it was left untouched`, { file });
    }
    const meta = new Map(
      db
        .prepare<[], { key: unknown; value: unknown }>('SELECT key, value FROM meta')
        .all()
        .map((row) => [String(row.key), String(row.value)]),
    );
    if (meta.get('format') !== STORE_FORMAT) {
      throw new StoreError('NOT_A_STORE', `${file} is a SQLite database but not a live-views store (meta format: ${meta.get('format') ?? 'none'}); it was left untouched`, {
        file,
      });
    }
    const version = meta.get('schema_version');
    if (version !== String(SCHEMA_VERSION)) {
      throw new StoreError(
        'INCOMPATIBLE_VERSION',
        `the store ${file} has storage format version ${version ?? 'none'}, but this server reads version ${SCHEMA_VERSION}; it was left untouched (use a matching server version, or another --data file)`,
        { file },
      );
    }
    if (!names.has('records')) {
      throw new StoreError('CORRUPT', `the store ${file} has no records table`, { file });
    }
    const previous = Number(meta.get('epoch'));
    if (!Number.isSafeInteger(previous) || previous < 0) {
      throw new StoreError('CORRUPT', `the store ${file} has an invalid epoch ${JSON.stringify(meta.get('epoch'))}`, { file });
    }
    epoch = previous + 1;
    const upsert = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    upsert.run('epoch', String(epoch));
    upsert.run('opened_at', now);
  }
  db.exec('COMMIT');

  if (!memory) {
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') throw new StoreError('CANNOT_OPEN', `cannot switch ${file} to WAL mode (journal_mode is ${String(mode)})`, { file });
  }
  db.pragma(`synchronous = ${durability === 'power' ? 'FULL' : 'NORMAL'}`);
  db.pragma('journal_size_limit = 67108864'); // truncate a WAL that grew past 64 MiB after a checkpoint
  db.pragma('cache_size = -65536'); // 64 MiB page cache
  return new SqliteStore(db, file, durability, epoch);
}

class SqliteStore implements Store {
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

  constructor(db: Database.Database, file: string, durability: Durability, epoch: number) {
    this.#db = db;
    this.file = file;
    this.durability = durability;
    this.epoch = epoch;
    this.#upsert = db.prepare('INSERT INTO records (tbl, id, data) VALUES (?, ?, ?) ON CONFLICT (tbl, id) DO UPDATE SET data = excluded.data');
    this.#delete = db.prepare('DELETE FROM records WHERE tbl = ? AND id = ?');
    this.#loadAll = db.prepare<[]>('SELECT tbl, id, data FROM records ORDER BY tbl, id').raw(true);
    this.#loadTable = db.prepare<[string]>('SELECT tbl, id, data FROM records WHERE tbl = ? ORDER BY id').raw(true);
    // Keyset pagination on the primary key; max(id) (BINARY collation, as `id > ?`) is where the next chunk starts.
    this.#loadChunk = db
      .prepare<[string, string, number]>(
        "SELECT max(id), '[' || group_concat(data, ',') || ']' FROM (SELECT id, data FROM records WHERE tbl = ? AND id > ? ORDER BY id LIMIT ?)",
      )
      .raw(true);
    this.#begin = db.prepare('BEGIN IMMEDIATE');
    this.#commit = db.prepare('COMMIT');
    this.#rollback = db.prepare('ROLLBACK');
    this.#savepoint = db.prepare('SAVEPOINT store_sp');
    this.#release = db.prepare('RELEASE store_sp');
    this.#rollbackTo = db.prepare('ROLLBACK TO store_sp');
    this.#getMeta = db.prepare<[string]>('SELECT value FROM meta WHERE key = ?').pluck(true);
    this.#setMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    this.#tx = {
      write: (changes) => this.#write(encodeAll(changes)),
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
    const rows = table === undefined ? this.#loadAll.iterate() : this.#loadTable.iterate(table);
    for (const row of rows as IterableIterator<[string, string, string]>) {
      yield { table: row[0], id: row[1], data: JSON.parse(row[2]) as JsonObject };
    }
  }

  *loadRecords(table: string, chunk = 10_000): IterableIterator<JsonObject> {
    this.#assertOpen();
    let after = '';
    for (;;) {
      const [last, json] = this.#loadChunk.get(table, after, chunk) as [string | null, string | null];
      if (last === null || json === null) return;
      yield* JSON.parse(json) as JsonObject[];
      after = last;
    }
  }

  tables(): { table: string; count: number }[] {
    this.#assertOpen();
    return this.#db.prepare<[], { table: string; count: number }>('SELECT tbl AS "table", count(*) AS count FROM records GROUP BY tbl ORDER BY tbl').all();
  }

  commit(changes: readonly StoreChange[]): void {
    this.#assertOpen();
    const encoded = encodeAll(changes); // a malformed change fails before the transaction starts
    if (encoded.length === 0) return;
    this.transaction(() => this.#write(encoded));
  }

  transaction<T>(fn: (tx: StoreTransaction) => T): T {
    this.#assertOpen();
    const db = this.#db;
    if (db.inTransaction) return this.#inSavepoint(() => fn(this.#tx));
    this.#begin.run();
    let result: T;
    try {
      result = fn(this.#tx);
    } catch (error) {
      if (db.inTransaction) this.#rollback.run();
      throw error;
    }
    if (!db.inTransaction) {
      throw new StoreError('TRANSACTION_ABORTED', 'SQLite rolled the transaction back (disk full or I/O error); nothing of it was written', {
        file: this.file,
      });
    }
    try {
      this.#commit.run();
    } catch (error) {
      if (db.inTransaction) this.#rollback.run();
      throw new StoreError('TRANSACTION_ABORTED', `commit failed, nothing of the transaction was written: ${(error as Error).message}`, {
        file: this.file,
        cause: error,
      });
    }
    return result;
  }

  getMeta(key: string): string | undefined {
    this.#assertOpen();
    const value: unknown = this.#getMeta.get(key);
    return value === undefined || value === null ? undefined : String(value);
  }

  setMeta(key: string, value: string): void {
    this.#assertOpen();
    if (RESERVED_META.has(key)) throw new StoreError('BAD_CHANGE', `meta key '${key}' is reserved`, { file: this.file });
    if (typeof key !== 'string' || typeof value !== 'string') throw new StoreError('BAD_CHANGE', 'meta keys and values are strings', { file: this.file });
    this.#setMeta.run(key, value);
  }

  close(): void {
    if (!this.#open) return;
    this.#open = false;
    if (this.#db.inTransaction) this.#rollback.run();
    this.#db.close();
  }

  #write(encoded: readonly Encoded[]): void {
    for (const change of encoded) {
      if (change.json === null) this.#delete.run(change.table, change.id);
      else this.#upsert.run(change.table, change.id, change.json);
    }
  }

  #inSavepoint<T>(fn: () => T): T {
    const db = this.#db;
    if (!db.inTransaction) throw new StoreError('TRANSACTION_ABORTED', 'no transaction is open (SQLite rolled it back)', { file: this.file });
    this.#savepoint.run();
    let result: T;
    try {
      result = fn();
    } catch (error) {
      if (!db.inTransaction) {
        if (error instanceof StoreError && error.code === 'TRANSACTION_ABORTED') throw error;
        throw new StoreError('TRANSACTION_ABORTED', `SQLite rolled the whole transaction back: ${(error as Error).message}`, {
          file: this.file,
          cause: error,
        });
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

function encodeAll(changes: readonly StoreChange[]): Encoded[] {
  if (!Array.isArray(changes)) throw new StoreError('BAD_CHANGE', 'changes must be an array');
  return changes.map(encode);
}

function encode(change: StoreChange, index: number): Encoded {
  const at = `changes[${index}]`;
  if (typeof change !== 'object' || change === null) throw new StoreError('BAD_CHANGE', `${at}: a change must be an object`);
  const { table, op, id, record } = change;
  if (typeof table !== 'string' || table.length === 0) throw new StoreError('BAD_CHANGE', `${at}: table must be a non-empty string`);
  if (typeof id !== 'string' || id.length === 0) throw new StoreError('BAD_CHANGE', `${at}: id must be a non-empty string`);
  if (!OPS.has(op)) throw new StoreError('BAD_CHANGE', `${at}: op must be CREATE, UPDATE or DELETE, not ${JSON.stringify(op)}`);
  if (op === 'DELETE') return { table, id, json: null };
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    throw new StoreError('BAD_CHANGE', `${at}: ${op} ${table} '${id}' needs a record (a JSON object)`);
  }
  const recordId = (record as { id?: unknown }).id;
  if (recordId !== undefined && recordId !== id) {
    throw new StoreError('BAD_CHANGE', `${at}: record.id ${JSON.stringify(recordId)} differs from the change's id '${id}'`);
  }
  let json: string;
  try {
    json = JSON.stringify(record);
  } catch (error) {
    throw new StoreError('BAD_CHANGE', `${at}: ${table} '${id}' is not serialisable to JSON: ${(error as Error).message}`, { cause: error });
  }
  return { table, id, json };
}
