import type Database from 'better-sqlite3';
import { StoreError } from '../errors.js';
import type { Durability } from '../types.js';

/** Identifies a file written by this module (meta `format`). */
const STORE_FORMAT = 'live-views-graphql/records';
/** The storage format version this code reads and writes (meta `schema_version`). */
export const SCHEMA_VERSION = 1;

/** What `initialize` found. */
export interface Initialized {
  /** This open's epoch: 1 for a new file, else the stored one + 1 (stored by `stamp` with the first write). */
  readonly epoch: number;
  /** False for an existing file: nothing was written to it yet, see `stamp`. */
  readonly stamped: boolean;
}

/**
 * Takes the exclusive lock and checks the schema of an existing file, writing nothing to it
 * (its epoch and `opened_at` are stored by `stamp`, with the first write this open makes, so a
 * file that fails to load keeps its bytes); a new file gets its schema and switches to WAL at
 * once. Then sets the pragmas that `durability` asks for. On a throw the first transaction may
 * still be open: the caller rolls it back and closes `db`.
 */
export function initialize(db: Database.Database, file: string, durability: Durability, memory: boolean): Initialized {
  // EXCLUSIVE locking mode: the first transaction takes an exclusive lock on the file and the
  // connection keeps it until it is closed. Another process can neither read nor write
  // meanwhile, and the OS drops the lock when the holder dies (kill -9 included), so there is
  // no stale lock to clean up. Entering WAL in this mode keeps the WAL index in heap memory
  // (no -shm file).
  db.pragma('locking_mode = EXCLUSIVE');
  db.exec('BEGIN EXCLUSIVE'); // SQLITE_BUSY here when another process holds the file
  const objects = db
    .prepare<[], { type: string; name: string }>("SELECT type, name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'")
    .all();
  let epoch: number;
  const now = new Date().toISOString();
  const created = objects.length === 0;
  if (created) {
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
      throw new StoreError(
        'NOT_A_STORE',
        `${file} is a SQLite database but not a live-views store (tables: ${list}); it was left untouched`,
        { file },
      );
    }
    const meta = new Map(
      db
        .prepare<[], { key: unknown; value: unknown }>('SELECT key, value FROM meta')
        .all()
        .map((row) => [String(row.key), String(row.value)]),
    );
    if (meta.get('format') !== STORE_FORMAT) {
      throw new StoreError(
        'NOT_A_STORE',
        `${file} is a SQLite database but not a live-views store (meta format: ${meta.get('format') ?? 'none'}); it was left untouched`,
        {
          file,
        },
      );
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
      throw new StoreError('CORRUPT', `the store ${file} has an invalid epoch ${JSON.stringify(meta.get('epoch'))}`, {
        file,
      });
    }
    epoch = previous + 1;
  }
  db.exec('COMMIT'); // in EXCLUSIVE locking mode the lock stays, written to or not

  if (created && !memory) useWal(db, file);
  db.pragma(`synchronous = ${durability === 'power' ? 'FULL' : 'NORMAL'}`);
  db.pragma('journal_size_limit = 67108864'); // truncate a WAL that grew past 64 MiB after a checkpoint
  db.pragma('cache_size = -65536'); // 64 MiB page cache
  return { epoch, stamped: created };
}

/**
 * Before the first write of an open to an existing file, outside any transaction: switches the
 * file to WAL when it is not yet in it (a change to its header).
 */
export function prepareFirstWrite(db: Database.Database, file: string, memory: boolean): void {
  if (!memory && db.pragma('journal_mode', { simple: true }) !== 'wal') useWal(db, file);
}

/** Inside the first write transaction of an open to an existing file: stores its epoch and opening time. */
export function stamp(db: Database.Database, epoch: number): void {
  const upsert = db.prepare(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  );
  upsert.run('epoch', String(epoch));
  upsert.run('opened_at', new Date().toISOString());
}

function useWal(db: Database.Database, file: string): void {
  const mode = db.pragma('journal_mode = WAL', { simple: true });
  if (mode !== 'wal')
    throw new StoreError('CANNOT_OPEN', `cannot switch ${file} to WAL mode (journal_mode is ${String(mode)})`, {
      file,
    });
}
