import pg from 'pg';
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
} from './processes.js';

/**
 * Pruning `lv_changes`, with real server processes (docs/postgres.md, "Pruning"): entries every
 * live instance has applied are deleted; an instance that is behind (here: stopped with SIGSTOP,
 * its heartbeat silent) keeps what it needs for as long as its lease runs, and catches up when it
 * resumes; one away longer than the lease (or behind by more than the retention) finds the log
 * pruned past its position and exits 75 with a clear message rather than skip changes — and a
 * restart loads a fresh snapshot and serves.
 */
const missing = await postgresMissing();
const PRUNE_EVERY = '200';

describe.skipIf(missing !== undefined)('pruning the change log, with server processes', () => {
  let writer: pg.Client | undefined;
  const env = eachTestDatabase(async () => {
    await writer?.end().catch(() => undefined);
    writer = undefined;
  });

  const one = async (text: string): Promise<number> => Number(Object.values((await env.db.sql(text))[0] ?? {})[0] ?? 0);
  const through = () => one('SELECT coalesce(max(through), 0)::bigint AS through FROM lv_pruned');
  const head = () => one(`SELECT coalesce(max(position), 0)::bigint FROM lv_changes`);
  const logged = () => one('SELECT count(*)::int FROM lv_changes');

  /** `count` pairs of single-row SQL transactions, as another application would write. */
  async function sqlWrites(from: number, count: number): Promise<void> {
    if (writer === undefined) {
      writer = new pg.Client({ connectionString: env.db.url });
      await writer.connect();
    }
    for (let i = from; i < from + count; i++) {
      await writer.query(
        `INSERT INTO users (id, name, email, role, active, age) VALUES ($1, 'SQL', 's@x', 'viewer', $2, $3)
           ON CONFLICT (id) DO UPDATE SET age = excluded.age, active = excluded.active`,
        [`s${i % 25}`, i % 2 === 0, i],
      );
      await writer.query(
        `INSERT INTO posts (id, "authorId", title, published, likes) VALUES ($1, $2, 'T', true, $3)
           ON CONFLICT (id) DO UPDATE SET likes = excluded.likes`,
        [`p${i % 15}`, `s${i % 25}`, i],
      );
    }
  }

  /** The position `instance` reports on /metrics. */
  async function position(instance: Instance): Promise<number> {
    const text = await fetch(instance.url.replace(/graphql$/, 'metrics')).then((response) => response.text());
    return Number(/^liveviews_log_position\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? -1);
  }

  test('a stalled instance keeps what it needs while its lease runs, and catches up; caught-up entries are pruned', async () => {
    const args = ['--prune-interval-ms', PRUNE_EVERY, '--log-lease-ms', '20000'];
    const [a, b] = await Promise.all([startInstance(env.db, args), startInstance(env.db, args)]);
    const onB = ['usersList', 'topPosts', 'postsPerAuthor'].map((view) => subscribe(env.sockets, b, view));
    const onA = subscribe(env.sockets, a, 'topPosts');
    await eventually(() => [...onB, onA].every((s) => s.events > 0), 'the snapshots', 30_000);

    // Applied everywhere: pruned.
    await sqlWrites(0, 20);
    const first = await head();
    await until(async () => (await through()) >= first, 'the applied entries to be pruned');
    expect(await logged()).toBe(0);

    // B stops (no heartbeat, no reading) while the log grows; A keeps pruning what it applied.
    const stalledAt = await position(b);
    b.process.signal('SIGSTOP');
    try {
      await sqlWrites(20, 40);
      expect((await mutate(a, ...createUser('while-b-stalled'))).ok).toBe(true);
      const last = await head();
      await until(async () => (await position(a)) >= last, 'A to apply everything');
      // A negative can only be watched for a while: ten of A's pruning rounds; what B still needs stays.
      await new Promise((resolve) => setTimeout(resolve, 10 * Number(PRUNE_EVERY)));
      expect(await through()).toBeLessThanOrEqual(stalledAt);
      expect(await logged()).toBeGreaterThanOrEqual(last - stalledAt);
    } finally {
      b.process.signal('SIGCONT');
    }
    // B resumes: it catches up from its position, as deltas, and is pruned past afterwards.
    await converged(env.db, [...onB, onA]);
    for (const subscriber of [...onB, onA]) {
      expect(subscriber.problems, subscriber.view).toEqual([]);
      expect(subscriber.copy.kinds.filter((kind) => kind === 'SNAPSHOT')).toHaveLength(1);
    }
    const end = await head();
    await until(async () => (await through()) >= end, 'everything applied to be pruned');
    expect(b.process.hasExited).toBe(false);
    // Metrics show it: whoever pruned counted entries; both saw how far.
    const metrics = await fetch(a.url.replace(/graphql$/, 'metrics')).then((response) => response.text());
    expect(metrics).toMatch(/^liveviews_log_pruned_through_position\{[^}]*\} \d+/m);
    // Whichever instance took the prune lock says so.
    expect([a, b].some((instance) => instance.logs().some((log) => log.msg === 'pruned the change log'))).toBe(true);
  }, 180_000);

  // The retention must stay well above how far a running instance lags on a loaded machine (it would be pruned past too).
  for (const { why, args } of [
    { why: 'away longer than its lease', args: ['--log-lease-ms', '3000'] },
    { why: 'behind by more than the retention', args: ['--log-lease-ms', '600000', '--log-retention-ms', '5000'] },
  ]) {
    test(`an instance ${why} finds the log pruned past it: exit 75 with a clear message; a restart serves`, async () => {
      const flags = ['--prune-interval-ms', PRUNE_EVERY, ...args];
      const [a, b] = await Promise.all([startInstance(env.db, flags), startInstance(env.db, flags)]);
      const onB = subscribe(env.sockets, b, 'usersList');
      await eventually(() => onB.events > 0, 'the snapshot', 30_000);
      await sqlWrites(0, 5);
      const stalledAt = await head();
      await until(async () => (await position(b)) >= stalledAt, 'B to apply the first writes');

      b.process.signal('SIGSTOP');
      try {
        await sqlWrites(5, 10);
        // Pruned past B's position: its lease ran out, or the entries it needs grew too old.
        await until(async () => (await through()) > stalledAt, 'the log to be pruned past B', 60_000);
      } finally {
        b.process.signal('SIGCONT');
      }
      expect(await b.process.exited).toEqual({ code: 75, signal: null });
      expect(b.process.stderr()).toMatch(
        new RegExp(`the change log was pruned through position \\d+, past this instance's position ${stalledAt}`),
      );
      // Its subscriber was never given a delta that skipped the pruned changes.
      expect(onB.problems).toEqual([]);
      await eventually(() => onB.ended, 'the stream to end');

      const restarted = await startInstance(env.db, flags);
      const again = subscribe(env.sockets, restarted, 'usersList');
      expect((await mutate(restarted, ...createUser('after'))).ok).toBe(true);
      await converged(env.db, [again, subscribe(env.sockets, a, 'usersList')]);
    }, 180_000);
  }
});
