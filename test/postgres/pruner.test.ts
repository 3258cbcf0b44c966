import pg from 'pg';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ensureSchema, LogFollower, type LoggedTransaction, LogPruner, registerInstance } from '../../storage/index.js';
import { eventually } from '../graphql/helpers/server.js';
import { createDatabase, postgresMissing, type TestDatabase } from './helpers.js';
import { until } from './processes.js';

/**
 * The pruner against a real database, without a server: a pruning never removes what a
 * registered follower (one seen within the lease) has not applied yet, forgets followers whose
 * lease ran out, and a follower whose position was pruned past stops with LOG_GAP (exit 75)
 * instead of skipping what it missed.
 */
const missing = await postgresMissing();
const TABLES = [{ name: 'items', columns: [{ name: 'n', type: 'integer', nullable: false }] }];

describe.skipIf(missing !== undefined)('pruning lv_changes', () => {
  let db: TestDatabase;
  const followers: LogFollower[] = [];
  const pools: pg.Pool[] = [];

  beforeEach(async () => {
    db = await createDatabase();
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await ensureSchema(client, TABLES, db.name);
    } finally {
      await client.end();
    }
  });
  afterEach(async () => {
    for (const follower of followers.splice(0)) await follower.stop();
    for (const pool of pools.splice(0)) await pool.end();
    await db.drop();
  });

  function follow(
    instance: string,
    from: number,
    pageSize: number,
  ): { seen: LoggedTransaction[]; follower: LogFollower } {
    const seen: LoggedTransaction[] = [];
    const follower = new LogFollower({
      url: db.url,
      from,
      instance,
      pageSize,
      heartbeatMs: 50,
      apply: (transaction) => seen.push(transaction),
      onGap: (error) => {
        throw error;
      },
    });
    followers.push(follower);
    follower.start();
    return { seen, follower };
  }

  test('pruning deletes what every registered follower applied, never more; a follower pruned past stops with LOG_GAP', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    pools.push(pool);
    const pruner = new LogPruner(pool, { intervalMs: 0, leaseMs: 60_000, retentionMs: 0 });
    const setup = await pool.connect();
    try {
      await registerInstance(setup, 'behind');
    } finally {
      setup.release();
    }
    for (let i = 0; i < 50; i++) await db.sql('INSERT INTO items VALUES ($1, $2)', [`i${i}`, i]);
    follow('ahead', 0, 5000);
    await until(
      async () => (await db.sql(`SELECT 1 FROM lv_instances WHERE instance = 'ahead' AND position = 50`)).length === 1,
      'the follower to apply everything and say so',
    );
    // "behind" registered at position 0 and never moved: nothing goes.
    expect(await pruner.pruneOnce()).toEqual({ deleted: 0, through: 0 });
    await db.sql(`UPDATE lv_instances SET position = 20 WHERE instance = 'behind'`);
    expect(await pruner.pruneOnce()).toEqual({ deleted: 20, through: 20 });
    expect(await db.sql('SELECT min(position)::int AS first FROM lv_changes')).toEqual([{ first: 21 }]);
    // "behind" is forgotten once its lease ran out (here: it never comes back): "ahead" bounds the pruning.
    await db.sql(`UPDATE lv_instances SET seen_at = now() - interval '2 minutes' WHERE instance = 'behind'`);
    expect(await pruner.pruneOnce()).toMatchObject({ deleted: 30, through: 50 });
    expect(await db.sql(`SELECT instance FROM lv_instances`)).toEqual([{ instance: 'ahead' }]);

    // A follower from position 10, now pruned past: LOG_GAP, nothing applied.
    const gaps: Error[] = [];
    const late = new LogFollower({
      url: db.url,
      from: 10,
      instance: 'late',
      apply: () => {
        throw new Error('nothing may be applied past a gap');
      },
      onGap: (error) => gaps.push(error),
    });
    followers.push(late);
    late.start();
    await eventually(() => gaps.length === 1, 'the gap');
    expect(gaps[0]).toMatchObject({ code: 'LOG_GAP', exitCode: 75 });
    expect(gaps[0]?.message).toContain(
      "the change log was pruned through position 50, past this instance's position 10",
    );
  });
});
