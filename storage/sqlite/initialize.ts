import type Database from 'better-sqlite3';
import { StoreError } from '../errors.js';
import type { Durability } from '../types.js';

/** Identifies a file written by this module (meta `format`). */
const STORE_FORMAT = 'live-views-graphql/records';
/** The storage format version this code reads and writes (meta `schema_version`). */
export const SCHEMA_VERSION = 1;

/**
 * Takes the exclusive lock, checks or creates the schema and bumps the epoch (one
 * transaction, before anything is written), then switches to WAL and sets the pragmas that
 * `durability` asks for. Returns the new epoch. On a throw the first transaction may still be
 * open: the caller rolls it back and closes `db`.
 */
export function initialize(db: Database.Database, file: string, durability: Durability, memory: boolean): number {
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
    const upsert = db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    );
    upsert.run('epoch', String(epoch));
    upsert.run('opened_at', now);
  }
  db.exec('COMMIT');

  if (!memory) {
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal')
      throw new StoreError('CANNOT_OPEN', `cannot switch ${file} to WAL mode (journal_mode is ${String(mode)})`, {
        file,
      });
  }
  db.pragma(`synchronous = ${durability === 'power' ? 'FULL' : 'NORMAL'}`);
  db.pragma('journal_size_limit = 67108864'); // truncate a WAL that grew past 64 MiB after a checkpoint
  db.pragma('cache_size = -65536'); // 64 MiB page cache
  return epoch;
}
