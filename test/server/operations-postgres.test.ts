import pg from 'pg';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import type { RunningServer } from '../../server/app.js';
import { eventually, startTestServer } from '../graphql/helpers/server.js';
import { createDatabase, postgresMissing, type TestDatabase } from '../postgres/helpers.js';
import { parseExposition } from './prometheus-text.js';

/**
 * /ready and the log metrics with the PostgreSQL store's real log follower: ready once it
 * follows the log, its position moving with writes by any SQL client; 503 `log_not_followed`
 * while it cannot reach the database (liveness unaffected), ready again once it caught up.
 */
const missing = await postgresMissing();

/** `ALTER DATABASE` on the test database, from another one (a database cannot close itself). */
async function allowConnections(name: string, allow: boolean): Promise<void> {
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  try {
    await admin.query(`ALTER DATABASE ${name} ALLOW_CONNECTIONS ${allow}`);
  } finally {
    await admin.end();
  }
}

describe.skipIf(missing !== undefined)('operations endpoints over PostgreSQL', () => {
  let db: TestDatabase;
  let server: RunningServer | undefined;

  beforeEach(async () => {
    db = await createDatabase();
  });
  afterEach(async () => {
    await allowConnections(db.name, true).catch(() => undefined);
    await server?.close();
    server = undefined;
    await db.drop();
  });

  test('/ready follows the log follower through a lost database connection', async () => {
    server = await startTestServer({ storage: { file: '', database: db.url }, log: () => undefined });
    const running = server;
    const base = running.url.replace(/\/graphql$/, '');
    const ready = async () => {
      const response = await fetch(`${base}/ready`);
      return {
        status: response.status,
        body: (await response.json()) as { reason?: string; log?: { position: number; lagSeconds: number } },
      };
    };
    const metrics = async () => parseExposition(await (await fetch(`${base}/metrics`)).text());

    // Until the follower has connected (it starts once the snapshot is loaded), 503 log_not_followed.
    let answer = await ready();
    if (answer.status !== 200) expect(answer.body).toMatchObject({ ready: false, reason: 'log_not_followed' });
    // Ready may come before the follower's first read of the log ends (the lag is then the time
    // since the start, within the bound): wait for that read too.
    const started = Date.now() + 30_000;
    while ((answer.status !== 200 || answer.body.log?.lagSeconds !== 0) && Date.now() < started) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      answer = await ready();
    }
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ ready: true, log: { following: true, lagSeconds: 0 } });
    const start = answer.body.log?.position ?? Number.NaN;

    // A write by another SQL client: the follower applies it and publishes its updates.
    await db.sql(
      `INSERT INTO users (id, name, email, role, active, age) VALUES ('u1', 'Ann', 'a@x', 'admin', true, 30)`,
    );
    await eventually(() => running.store.record('users', 'u1') !== undefined, 'the SQL write applied');
    let exposition = await metrics();
    const instance = exposition.samples.find((s) => s.name === 'liveviews_log_position')?.labels;
    expect(instance).toEqual({ instance_id: expect.stringMatching(/:\d+$/) });
    expect(exposition.value('liveviews_log_position', instance)).toBeGreaterThan(start);
    expect(exposition.value('liveviews_log_head_position', instance)).toBe(
      exposition.value('liveviews_log_position', instance),
    );
    expect(exposition.value('liveviews_log_following', instance)).toBe(1);
    expect(exposition.value('liveviews_events_published_total')).toBeGreaterThanOrEqual(3); // usersList, usersCount, activeUsers
    expect(exposition.value('liveviews_mutations_total', { outcome: 'ok' })).toBeUndefined(); // not a mutation of ours

    // The database refuses new connections and drops the server's: the follower cannot resume.
    await allowConnections(db.name, false);
    await db.sql(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
    );
    let last = await ready();
    const deadline = Date.now() + 30_000;
    while (last.status === 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      last = await ready();
    }
    expect(last).toMatchObject({ status: 503, body: { ready: false, reason: 'log_not_followed' } });
    expect((await fetch(`${base}/health`)).status).toBe(200);
    exposition = await metrics();
    expect(exposition.value('liveviews_log_following', instance)).toBe(0);

    // Written meanwhile (this client stayed connected); once connections are allowed the follower catches up.
    await db.sql(
      `INSERT INTO users (id, name, email, role, active, age) VALUES ('u2', 'Bo', 'b@x', 'viewer', true, 40)`,
    );
    await allowConnections(db.name, true);
    await eventually(() => running.store.record('users', 'u2') !== undefined, 'the follower to catch up', 30_000);
    answer = await ready();
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ ready: true, log: { following: true } });
  });
});
