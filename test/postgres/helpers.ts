import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL the tests use: trust auth, user postgres (see docs/testing.md). */
const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** Why the PostgreSQL tests skip here, or undefined when 127.0.0.1:5432 answers. */
export async function postgresMissing(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    const reason = `PostgreSQL tests skipped: nothing usable answers on 127.0.0.1:5432 (${error instanceof Error ? error.message : String(error)})`;
    process.stderr.write(`${reason}\n`);
    return reason;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A database of its own for one test; `drop` removes it (ending whatever still connects to it). */
export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** Runs SQL as any client would (not through the server). */
  sql<T extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<T[]>;
  /** Runs SQL from the maintenance database (for ALTER DATABASE on this one). */
  admin(text: string, values?: unknown[]): Promise<void>;
  drop(): Promise<void>;
}

export async function createDatabase(): Promise<TestDatabase> {
  const name = `lv_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = `postgres://postgres@127.0.0.1:5432/${name}`;
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  return {
    name,
    url,
    sql: async (text, values) => (await client.query(text, values)).rows,
    admin: async (text, values) => {
      const other = new pg.Client({ connectionString: ADMIN_URL });
      await other.connect();
      try {
        await other.query(text, values);
      } finally {
        await other.end();
      }
    },
    drop: async () => {
      await client.end().catch(() => undefined);
      const dropper = new pg.Client({ connectionString: ADMIN_URL });
      await dropper.connect();
      try {
        await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.end();
      }
    },
  };
}
