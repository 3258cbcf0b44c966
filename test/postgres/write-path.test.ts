import pg from 'pg';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { type AppError, type Change, type LiveStore, openLiveStore } from '../../app/index.js';
import { loadConfig } from '../../config/load.js';
import { eventually } from '../graphql/helpers/server.js';
import { createDatabase, postgresMissing, type TestDatabase } from './helpers.js';

/**
 * The PostgreSQL write path through the service layer: concurrent requests share one
 * transaction (group commit) yet each is validated, refused and versioned alone, and a
 * database out of reach answers every request with the retryable UNAVAILABLE instead of
 * leaving it hanging.
 */
const missing = await postgresMissing();
const LOG_LOCK = 7_628_141_001;

const user = (id: string, age: number | null = 30): Change => ({
  table: 'users',
  op: 'CREATE',
  id,
  data: { name: `N${id}`, email: `${id}@x`, role: 'viewer', active: true, age },
});

describe.skipIf(missing !== undefined)('the PostgreSQL write path', () => {
  let db: TestDatabase;
  let store: LiveStore | undefined;
  const clients: pg.Client[] = [];

  beforeEach(async () => {
    db = await createDatabase();
    store = await openLiveStore(await loadConfig(), { storage: { file: '', database: db.url } });
  });
  afterEach(async () => {
    await db.admin(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`);
    for (const client of clients.splice(0)) await client.end().catch(() => undefined);
    await store?.close();
    store = undefined;
    await db.drop();
  });

  async function connect(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: db.url });
    client.on('error', () => undefined);
    clients.push(client);
    await client.connect();
    return client;
  }

  function live(): LiveStore {
    return store as LiveStore;
  }

  test('concurrent requests share a transaction; each is refused alone and answered with its own version', async () => {
    await db.sql(`INSERT INTO users VALUES ('old', 'Old', 'o@x', 'viewer', true, 1)`);
    // Refused by PostgreSQL only (the config does not know it): the group is redone one request at a time.
    await db.sql('ALTER TABLE users ADD CONSTRAINT sane_age CHECK (age IS NULL OR age < 150)');
    await eventually(() => live().record('users', 'old') !== undefined, 'the SQL insert');
    const requests: Change[][] = [
      [user('a')],
      [user('b')],
      [user('a')], // a CONFLICT with the first request of the same group
      [user('old')], // a CONFLICT with a stored row
      [user('c', 200)], // refused by the CHECK constraint
      [user('d'), { table: 'users', op: 'UPDATE', id: 'nobody', data: { age: 1 } }], // NOT_FOUND: none of it applies
      [{ table: 'users', op: 'UPDATE', id: 'b', data: { age: 31 } }], // sees the group's own earlier write
      [{ table: 'users', op: 'DELETE', id: 'missing' }], // changes nothing
      [user('e')],
    ];
    const outcomes = await Promise.allSettled(requests.map((changes) => live().apply(changes)));
    const codes = outcomes.map((outcome) =>
      outcome.status === 'fulfilled' ? 'ok' : [(outcome.reason as AppError).code, (outcome.reason as AppError).details],
    );
    expect(codes).toEqual([
      'ok',
      'ok',
      ['CONFLICT', { table: 'users', id: 'a' }],
      ['CONFLICT', { table: 'users', id: 'old' }],
      ['BAD_INPUT', { table: 'users', id: 'c' }],
      ['NOT_FOUND', { table: 'users', id: 'nobody' }],
      'ok',
      'ok',
      'ok',
    ]);
    expect(live().commitStats().largestGroup).toBe(requests.length);
    // Each applied request has its own version of usersList, in arrival order.
    const versions = outcomes.flatMap((outcome) =>
      outcome.status === 'fulfilled'
        ? outcome.value.updates.filter((update) => update.view === 'usersList').map((update) => update.version)
        : [],
    );
    expect(versions).toHaveLength(4);
    expect([...versions].sort((x, y) => x - y)).toEqual(versions);
    expect(new Set(versions).size).toBe(4);
    const rows = await db.sql<{ id: string; age: number }>('SELECT id, age FROM users ORDER BY id');
    expect(rows).toEqual([
      { id: 'a', age: 30 },
      { id: 'b', age: 31 },
      { id: 'e', age: 30 },
      { id: 'old', age: 1 },
    ]);
    expect([...live().records('users')].map((record) => record.id).sort()).toEqual(['a', 'b', 'e', 'old']);
  });

  test('a connection dropped while a request waits: UNAVAILABLE, and the next request succeeds', async () => {
    await live().apply([user('first')]);
    // A SQL client holds the log lock: the next request waits for it.
    const holder = await connect();
    await holder.query(`BEGIN; SELECT pg_advisory_xact_lock(${LOG_LOCK})`);
    // Settled into a value at once: its rejection must not go unhandled while we look for its backend.
    const waiting = live()
      .apply([user('second')])
      .then(
        () => 'applied',
        (error: unknown) => error,
      );
    const killer = await connect();
    for (;;) {
      const killed = await killer.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'lv-writer' AND wait_event_type = 'Lock'`,
        [db.name],
      );
      if (killed.rowCount === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await waiting).toMatchObject({ code: 'UNAVAILABLE' });
    await holder.query('COMMIT');
    await live().apply([user('second')]);
    expect((await db.sql('SELECT id FROM users ORDER BY id')).map((row) => row['id'])).toEqual(['first', 'second']);
  });

  test('committed while the log cannot be followed: UNAVAILABLE saying so, then the views catch up', async () => {
    await live().apply([user('first')]); // leaves a writer connection open in the pool
    await db.admin(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS false`);
    await db.sql(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = 'lv-follower'`,
      [db.name],
    );
    await eventually(() => live().logStatus()?.following === false, 'the follower to notice');
    await expect(live().apply([user('second')])).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringMatching(/was committed/),
    });
    expect((await db.sql('SELECT id FROM users ORDER BY id')).map((row) => row['id'])).toEqual(['first', 'second']);
    await db.admin(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`);
    await eventually(() => live().record('users', 'second') !== undefined, 'the follower to catch up', 20_000);
  });
});
