import { describe, expect, test } from 'vitest';
import { LOG_LOCK } from '../../storage/postgres/schema.js';
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
} from './processes.js';

/**
 * An instance stopped (SIGSTOP, a paused VM) inside its write transaction, holding the log
 * lock that every writer of the database takes: PostgreSQL ends its session once it has been
 * idle in that transaction for 10 s, so the other instances' writes go on; when it resumes,
 * the requests it was committing are answered UNAVAILABLE (nothing of them was applied), it
 * keeps serving, and every copy converges.
 */
const missing = await postgresMissing();

describe.skipIf(missing !== undefined)('an instance stalled inside its write transaction', () => {
  const env = eachTestDatabase();

  /**
   * Whether a session holds the log lock while idle in its transaction: waiting for its stopped
   * process (a session still running its last statement would commit and let go by itself).
   */
  async function logLockHeldIdle(): Promise<boolean> {
    const rows = await env.db.sql(
      `SELECT count(*)::int AS held FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND ((l.classid::bigint << 32) | l.objid::bigint) = ${LOG_LOCK}
          AND a.state = 'idle in transaction'`,
    );
    return Number(rows[0]?.['held'] ?? 0) > 0;
  }

  /** Keeps `instance` writing (one request at a time) until `stop` is set; what each answered. */
  function keepWriting(instance: Instance, prefix: string, stop: { done: boolean }): Promise<string[]> {
    return (async () => {
      const answers: string[] = [];
      for (let i = 0; !stop.done; i++) {
        const result = await mutate(instance, ...createUser(`${prefix}${i}`)).catch((error: Error) => ({
          ok: false as const,
          code: `fetch: ${error.message}`,
        }));
        answers.push(result.ok ? 'ok' : result.code);
      }
      return answers;
    })();
  }

  test('the others keep writing; the stalled one answers UNAVAILABLE for what it held, then serves', async () => {
    const [a, b] = await Promise.all([startInstance(env.db), startInstance(env.db)]);
    const onA = subscribe(env.sockets, a, 'usersList');
    const onB = subscribe(env.sockets, b, 'usersList');
    await eventually(() => onA.events > 0 && onB.events > 0, 'the snapshots', 30_000);

    // Stop B while it holds the log lock: with B writing back to back, it usually does at once.
    const stop = { done: false };
    const writes = keepWriting(b, 'b', stop);
    let held = false;
    for (let attempt = 0; attempt < 200 && !held; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 5 + (attempt % 7)));
      b.process.signal('SIGSTOP');
      // Long enough for a statement B had sent to finish.
      await new Promise((resolve) => setTimeout(resolve, 50));
      held = await logLockHeldIdle();
      if (!held) b.process.signal('SIGCONT');
    }
    expect(held).toBe(true);

    // A writes while B is stopped: through once PostgreSQL ended B's idle transaction.
    const started = Date.now();
    expect(await mutate(a, ...createUser('a1'))).toEqual({ ok: true });
    expect(Date.now() - started).toBeLessThan(25_000);
    expect(await logLockHeldIdle()).toBe(false);

    b.process.signal('SIGCONT');
    stop.done = true;
    const answers = await writes;
    // What B was committing when it stopped was not applied and said so; B serves again.
    expect(answers.filter((answer) => answer !== 'ok').every((answer) => answer === 'UNAVAILABLE')).toBe(true);
    expect(await mutate(b, ...createUser('b-after'))).toEqual({ ok: true });
    expect(b.process.hasExited).toBe(false);
    await converged(env.db, [onA, onB]);
    const stored = await env.db.sql(`SELECT count(*)::int AS n FROM users WHERE id IN ('a1', 'b-after')`);
    expect(stored[0]?.['n']).toBe(2);
  }, 120_000);
});
