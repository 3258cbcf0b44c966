import { describe, expect, test } from 'vitest';
import { eventually } from '../graphql/helpers/server.js';
import { postgresMissing } from './helpers.js';
import {
  converged,
  createUser,
  eachTestDatabase,
  type Instance,
  mutate,
  startInstance,
  subscribe,
  until,
  VIEWS,
} from './processes.js';

/**
 * PostgreSQL out of reach, with real server processes: every connection of the test database
 * terminated (as a PostgreSQL restart does) while new ones are refused. Meanwhile the instances
 * answer mutations with the retryable UNAVAILABLE and /ready with 503; once the database answers
 * again they reconnect by themselves and catch up from their log position — SQL writes made
 * during the outage included — so every copy equals the tables. When the log they would resume
 * from is no longer there (it restarted below their position), they exit 75 with a clear message.
 */
const missing = await postgresMissing();

describe.skipIf(missing !== undefined)('PostgreSQL restarts and dropped connections, with server processes', () => {
  const env = eachTestDatabase(async (db) => {
    await db.admin(`ALTER DATABASE ${db.name} ALLOW_CONNECTIONS true`).catch(() => undefined);
  });

  /** Cuts every connection to the test database but the test's own. */
  async function terminateBackends(): Promise<void> {
    await env.db.sql(
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [env.db.name],
    );
  }

  const ready = (instance: Instance) =>
    fetch(instance.url.replace(/graphql$/, 'ready')).then(async (response) => ({
      status: response.status,
      body: await response.text(),
    }));

  test('instances reconnect and catch up; mutations meanwhile get UNAVAILABLE, /ready says 503', async () => {
    const instances = await Promise.all([startInstance(env.db), startInstance(env.db)]);
    const subscribers = instances.flatMap((instance) =>
      Object.keys(VIEWS).map((view) => subscribe(env.sockets, instance, view)),
    );
    await eventually(() => subscribers.every((s) => s.events > 0), 'every snapshot', 30_000);
    for (const [index, instance] of instances.entries())
      expect((await mutate(instance, ...createUser(`before-${index}`))).ok).toBe(true);

    await env.db.admin(`ALTER DATABASE ${env.db.name} ALLOW_CONNECTIONS false`);
    await terminateBackends();
    for (const instance of instances) {
      await until(async () => (await ready(instance)).status === 503, 'not ready during the outage');
      expect((await ready(instance)).body).toContain('log_not_followed');
      const refused = await mutate(instance, ...createUser('during-outage'));
      expect(refused).toMatchObject({ ok: false, code: 'UNAVAILABLE' });
      expect(refused.ok === false && refused.message).toMatch(/retry/);
    }
    // A client that stayed connected writes during the outage: the instances must catch up with it.
    await env.db.sql(`BEGIN; INSERT INTO users VALUES ('sql-1', 'S', 's@x', 'viewer', true, 3), ('sql-2', 'T', 't@x', 'viewer', false, NULL);
      UPDATE users SET age = 99 WHERE id = 'before-0'; DELETE FROM users WHERE id = 'before-1'; COMMIT`);

    await env.db.admin(`ALTER DATABASE ${env.db.name} ALLOW_CONNECTIONS true`);
    for (const instance of instances)
      await until(async () => (await ready(instance)).status === 200, 'ready again', 60_000);
    // The refused mutation was not applied: it may be sent again.
    expect((await mutate(instances[1] as Instance, ...createUser('during-outage'))).ok).toBe(true);
    expect((await mutate(instances[0] as Instance, ...createUser('after'))).ok).toBe(true);
    await converged(env.db, subscribers);
    for (const subscriber of subscribers) {
      expect(subscriber.problems, subscriber.view).toEqual([]);
      // Followed throughout as deltas: the same stream, never a SNAPSHOT again.
      expect(subscriber.copy.kinds.filter((kind) => kind === 'SNAPSHOT')).toHaveLength(1);
    }
    for (const instance of instances) {
      const messages = instance.logs().map((log) => log.msg);
      expect(messages).toContain('lost the PostgreSQL connection: reconnecting (mutations get UNAVAILABLE meanwhile)');
      expect(messages).toContain('reconnected to PostgreSQL: catching up with the change log');
      expect(instance.process.hasExited).toBe(false);
    }

    // A second drop, this time without refusing new connections: the instances come straight back.
    await terminateBackends();
    await env.db.sql(`INSERT INTO users VALUES ('sql-3', 'U', 'u@x', 'viewer', true, 4)`);
    await converged(env.db, subscribers);
    expect((await mutate(instances[0] as Instance, ...createUser('after-second'))).ok).toBe(true);
    await converged(env.db, subscribers);
  }, 180_000);

  test('a log that restarted below an instance position: it exits 75 with a clear message, a restart serves', async () => {
    const instance = await startInstance(env.db);
    expect((await mutate(instance, ...createUser('u1'))).ok).toBe(true);
    expect((await mutate(instance, ...createUser('u2'))).ok).toBe(true);
    // As if the database were restored from an older backup: positions would be handed out again.
    await env.db.sql('TRUNCATE lv_changes; ALTER SEQUENCE lv_changes_position RESTART');
    await terminateBackends();
    expect(await instance.process.exited).toEqual({ code: 75, signal: null });
    expect(instance.process.stderr()).toMatch(
      /the change log restarted at position 0, below this instance's position \d+/,
    );

    const restarted = await startInstance(env.db);
    const [subscriber] = [subscribe(env.sockets, restarted, 'usersList')];
    expect((await mutate(restarted, ...createUser('u3'))).ok).toBe(true);
    await converged(env.db, [subscriber as NonNullable<typeof subscriber>]);
  }, 120_000);
});
