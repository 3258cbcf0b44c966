import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { Durability, Store } from '../types.js';
import { checkWritable, inspectFile } from './file-checks.js';
import { initialize } from './initialize.js';
import { openError } from './open-error.js';
import { SqliteStore } from './sqlite-store.js';

export interface SqliteStoreOptions {
  /** Path of the SQLite file (created with its directory when missing), or ':memory:'. */
  file: string;
  /** Default 'process'. See `Durability`. */
  durability?: Durability;
  /** How long to wait for another process's lock before failing with `LOCKED`. Default 500 ms. */
  lockTimeoutMs?: number;
}

/**
 * Opens (or creates) a SQLite store. Throws a `StoreError` — leaving an existing file's bytes
 * as they were — when the file is not a SQLite database (`NOT_A_DATABASE`), is another
 * application's database (`NOT_A_STORE`), has another format version (`INCOMPATIBLE_VERSION`),
 * is held by another running process (`LOCKED`), or cannot be written (`READ_ONLY`).
 */
export function openSqliteStore(options: SqliteStoreOptions): Store {
  const durability = options.durability ?? 'process';
  if (durability !== 'process' && durability !== 'power') {
    throw new TypeError(`durability must be 'process' or 'power', not ${JSON.stringify(durability)}`);
  }
  if (options.file === ':memory:') {
    const db = new Database(':memory:');
    return new SqliteStore(db, ':memory:', durability, initialize(db, ':memory:', durability, true));
  }

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
    return new SqliteStore(db, file, durability, initialize(db, file, durability, false));
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
