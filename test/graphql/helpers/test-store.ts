import type { StorageOptions } from '../../../app/index.js';
import type { RunningServer } from '../../../server/app.js';
import { createDatabase, type TestDatabase } from '../../postgres/helpers.js';

/**
 * Which store the end-to-end suites run against: `TEST_STORE=postgres` (set by the vitest
 * project `postgres`) gives every test server a fresh PostgreSQL database of its own; otherwise
 * SQLite in memory.
 */
export const testStore: 'sqlite' | 'postgres' = process.env['TEST_STORE'] === 'postgres' ? 'postgres' : 'sqlite';

/** Databases created in this test file and not dropped yet (see `dropLeftoverDatabases`). */
const open = new Set<TestDatabase>();

/**
 * Starts a server on the selected store. On PostgreSQL the database is created first and
 * dropped when the server closes or fails to start.
 */
export async function withTestStore(
  storage: StorageOptions,
  start: (storage: StorageOptions) => Promise<RunningServer>,
): Promise<RunningServer> {
  if (testStore === 'sqlite') return start(storage);
  const database = await createDatabase();
  open.add(database);
  const drop = async (): Promise<void> => {
    open.delete(database);
    await database.drop();
  };
  let server: RunningServer;
  try {
    server = await start({ ...storage, database: database.url });
  } catch (error) {
    await drop();
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    ...server,
    close: () =>
      (closing ??= (async () => {
        try {
          await server.close();
        } finally {
          await drop();
        }
      })()),
  };
}

/**
 * The storage flags of a server process (`server/main.ts`) on the selected store: `--memory`,
 * or `--database` with a fresh PostgreSQL database, dropped after the test file (kill the
 * process first: `DROP DATABASE … WITH (FORCE)` would cut it off).
 */
export async function storeFlags(): Promise<string[]> {
  if (testStore === 'sqlite') return ['--memory'];
  const database = await createDatabase();
  open.add(database);
  return ['--database', database.url];
}

/**
 * After a test file: drops the databases of servers a failed or timed-out test never closed
 * (`DROP DATABASE … WITH (FORCE)` ends the connections of such a server).
 */
export async function dropLeftoverDatabases(): Promise<void> {
  const left = [...open];
  open.clear();
  await Promise.all(left.map((database) => database.drop().catch(() => undefined)));
}
