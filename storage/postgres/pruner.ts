import type pg from 'pg';
import { PRUNE_LOCK } from './schema.js';

/** When and how far `lv_changes` is pruned (every instance should be given the same values). */
export interface PruneOptions {
  /** How often this instance tries to prune, in ms; 0: it never does (others may). */
  readonly intervalMs: number;
  /** An instance whose heartbeat is younger than this keeps every entry above its applied position. */
  readonly leaseMs: number;
  /**
   * Entries older than this are pruned even when a live instance still needs them (a bound on
   * the log's size; that instance then exits, see docs/postgres.md); 0: no such bound.
   */
  readonly retentionMs: number;
}

export const DEFAULT_PRUNING: PruneOptions = {
  intervalMs: 60_000,
  leaseMs: 600_000,
  retentionMs: 86_400_000,
};

/** Entries deleted per transaction: a long backlog goes in several short transactions. */
const BATCH = 50_000;
/** How long a transaction holding a lock (pruning, registering, a write group) may sit idle, its process stalled, before PostgreSQL ends it and the lock is free. */
export const HOLD_LIMIT_MS = 10_000;

/** What one pruning did. */
export interface PruneResult {
  /** Entries deleted. */
  readonly deleted: number;
  /** The highest position pruning has removed so far (`lv_pruned.through`). */
  readonly through: number;
}

/**
 * Deletes old `lv_changes` entries, at most one instance at a time (a transaction-level
 * advisory lock, tried: whoever finds it taken skips this round). The rule, in one transaction:
 * - `safe` = the lowest position in `lv_instances` among the instances seen within the lease
 *   (the log's head when there are none: a starting instance loads a snapshot, see `registerInstance`);
 * - `aged` = the highest position logged longer than the retention ago;
 * - delete every entry at or below `max(safe, aged)`, and raise `lv_pruned.through` to it in the
 *   same transaction, so that a follower that needed a deleted entry notices instead of skipping it;
 * - forget instances not seen within the lease (they no longer hold anything back).
 */
export class LogPruner {
  readonly #pool: pg.Pool;
  readonly #options: PruneOptions;
  readonly #onPruned: ((result: PruneResult) => void) | undefined;
  readonly #onError: ((error: unknown) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  #deleted = 0;

  constructor(
    pool: pg.Pool,
    options: PruneOptions,
    hooks: { onPruned?: (result: PruneResult) => void; onError?: (error: unknown) => void } = {},
  ) {
    this.#pool = pool;
    this.#options = options;
    this.#onPruned = hooks.onPruned;
    this.#onError = hooks.onError;
  }

  /** Entries this instance's pruner deleted since it started. */
  get deleted(): number {
    return this.#deleted;
  }

  start(): void {
    if (this.#options.intervalMs <= 0 || this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.#round().finally(() => {
        this.#running = undefined;
        this.start();
      });
    }, this.#options.intervalMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  async #round(): Promise<void> {
    try {
      let total = 0;
      let through = 0;
      for (;;) {
        const result = await this.pruneOnce();
        if (result === undefined) return; // another instance is pruning
        total += result.deleted;
        through = result.through;
        if (result.deleted < BATCH || this.#stopped) break;
      }
      if (total > 0) this.#onPruned?.({ deleted: total, through });
    } catch (error) {
      this.#onError?.(error);
    }
  }

  /** One pruning transaction: what it did, or undefined when another instance holds the prune lock. */
  async pruneOnce(): Promise<PruneResult | undefined> {
    const client = await this.#pool.connect();
    // A checked-out connection that breaks between two queries (ended by PostgreSQL, say) emits
    // 'error': unheard, that would end the process. The next query fails, and the round with it.
    const ignore = (): void => undefined;
    client.on('error', ignore);
    let broken = false;
    try {
      await client.query('BEGIN');
      // A process stopped inside this transaction (SIGSTOP, a paused VM) would hold the prune lock
      // for good, blocking every pruning and every instance's registration: PostgreSQL ends it.
      await client.query(`SET LOCAL idle_in_transaction_session_timeout = ${HOLD_LIMIT_MS}`);
      const locked = await client.query<{ locked: boolean }>(
        `SELECT pg_try_advisory_xact_lock(${PRUNE_LOCK}) AS locked`,
      );
      if (locked.rows[0]?.locked !== true) {
        await client.query('ROLLBACK');
        return undefined;
      }
      const lease = this.#options.leaseMs / 1000;
      const retention = this.#options.retentionMs / 1000;
      const bounds = await client.query<{ safe: string | null; head: string | null; through: string }>(
        `SELECT (SELECT min(position) FROM lv_instances WHERE seen_at > now() - make_interval(secs => $1))::text AS safe,
                (SELECT max(position) FROM lv_changes)::text AS head,
                coalesce((SELECT max(through) FROM lv_pruned), 0)::text AS through`,
        [lease],
      );
      const row = bounds.rows[0];
      const through = Number(row?.through ?? 0);
      let target = through;
      if (row?.head != null) {
        const head = Number(row.head);
        target = Math.max(target, Math.min(row.safe === null ? head : Number(row.safe), head));
        if (retention > 0) {
          // Positions follow commit order and logged_at is taken under the log lock: the oldest entries come first.
          const aged = await client.query<{ position: string | null }>(
            `SELECT max(position)::text AS position FROM
               (SELECT position, logged_at FROM lv_changes ORDER BY position LIMIT $1) AS oldest
              WHERE logged_at < now() - make_interval(secs => $2)`,
            [BATCH, retention],
          );
          target = Math.max(target, Number(aged.rows[0]?.position ?? 0));
        }
      }
      let deleted = 0;
      if (target > through) {
        // At most BATCH entries per transaction.
        const cap = await client.query<{ position: string }>(
          'SELECT position::text AS position FROM lv_changes ORDER BY lv_changes.position OFFSET $1 LIMIT 1',
          [BATCH - 1],
        );
        if (cap.rows[0] !== undefined) target = Math.min(target, Number(cap.rows[0].position));
        const removed = await client.query('DELETE FROM lv_changes WHERE position <= $1', [target]);
        deleted = removed.rowCount ?? 0;
        await client.query(
          `INSERT INTO lv_pruned (singleton, through) VALUES (true, $1)
             ON CONFLICT (singleton) DO UPDATE SET through = greatest(lv_pruned.through, excluded.through)`,
          [target],
        );
      }
      await client.query('DELETE FROM lv_instances WHERE seen_at <= now() - make_interval(secs => $1)', [lease]);
      await client.query('COMMIT');
      this.#deleted += deleted;
      return { deleted, through: Math.max(through, target) };
    } catch (error) {
      broken = true;
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.off('error', ignore);
      client.release(broken);
    }
  }
}
