import pg from 'pg';
import { StoreError } from '../errors.js';
import { sqlState } from './errors.js';
import { recordPosition, unregisterInstance } from './instances.js';
import type { LogEntry, LoggedTransaction } from './log-entry.js';
import { LOG_CHANNEL } from './schema.js';

export interface LogFollowerOptions {
  readonly url: string;
  /** The position the caller's state includes (its snapshot's). */
  readonly from: number;
  /**
   * Applies one committed transaction (or part of one, see `LoggedTransaction`) to the caller's
   * state; called in log order, exactly once per transaction above `from`, synchronously (nothing else runs between two calls' reads).
   */
  readonly apply: (transaction: LoggedTransaction) => void;
  /**
   * The log no longer holds what this instance needs (pruned past its position, or reset below
   * it): its state can no longer be brought up to date. A `StoreError` `LOG_GAP`.
   */
  readonly onGap: (error: StoreError) => void;
  readonly onConnectionChange?: (connected: boolean, error?: unknown) => void;
  /** Safety net when a notification is lost (default 1,000 ms). */
  readonly pollMs?: number;
  /** Log rows read per query (default 5,000). */
  readonly pageSize?: number;
  /** How often this instance records its position in `lv_instances` (default 5,000 ms); keep it well below the prune lease. */
  readonly heartbeatMs?: number;
  /** This instance's key in `lv_instances` (registered before its snapshot was read, see `registerInstance`). */
  readonly instance: string;
}

/** What monitoring needs to know about a follower. */
export interface FollowerStatus {
  readonly connected: boolean;
  /** The last applied position. */
  readonly position: number;
  /** The highest position seen in the log (at the last read). */
  readonly head: number;
  /** When the follower last read the log up to its end. */
  readonly caughtUpAt: Date | undefined;
  /** The highest position pruning had removed, at the last read. */
  readonly prunedThrough: number;
}

const RECONNECT_MS = [100, 250, 500, 1000, 2000];

/**
 * Follows `lv_changes` from a position: LISTENs on the capture channel (woken at every commit
 * that logged changes) and polls as a fallback, reads `position > last` in pages, and hands each
 * whole transaction to `apply`. A dropped connection is re-opened (with back-off) and reading
 * resumes where it stopped, so a PostgreSQL restart only delays changes. Positions are taken in
 * commit order, so a transaction is never visible before one with a lower position.
 */
export class LogFollower {
  readonly #options: LogFollowerOptions;
  #position: number;
  #head: number;
  #connected = false;
  #caughtUpAt: Date | undefined;
  #client: pg.Client | undefined;
  #stopped = false;
  #wake: (() => void) | undefined;
  #dirty = false;
  readonly #waiters = new Map<number, Set<{ resolve: () => void; reject: (error: Error) => void }>>();
  #running: Promise<void> | undefined;
  #lastHeartbeat = 0;
  /** Settles when `stop` is called: what the loop awaits must not outlive it. */
  readonly #halted: Promise<void>;
  #halt: () => void = () => undefined;
  #prunedThrough = 0;

  constructor(options: LogFollowerOptions) {
    this.#options = options;
    this.#position = options.from;
    this.#head = options.from;
    this.#halted = new Promise((resolve) => {
      this.#halt = resolve;
    });
  }

  start(): void {
    this.#running ??= this.#run();
  }

  get position(): number {
    return this.#position;
  }

  status(): FollowerStatus {
    return {
      connected: this.#connected,
      position: this.#position,
      head: Math.max(this.#head, this.#position),
      caughtUpAt: this.#caughtUpAt,
      prunedThrough: this.#prunedThrough,
    };
  }

  /** Resolves once every transaction up to `position` is applied. */
  reached(position: number): Promise<void> {
    if (position <= this.#position) return Promise.resolve();
    this.wakeUp();
    if (this.#stopped) return Promise.reject(new StoreError('CLOSED', 'the log follower stopped'));
    return new Promise((resolve, reject) => {
      let set = this.#waiters.get(position);
      if (set === undefined) this.#waiters.set(position, (set = new Set()));
      set.add({ resolve, reject });
    });
  }

  /** Reads the log now (after a commit this process made, without waiting for its notification). */
  wakeUp(): void {
    this.#dirty = true;
    this.#wake?.();
  }

  /** Stops following; whoever waits in `reached` gets a `StoreError` `CLOSED`. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#halt();
    for (const waiters of this.#waiters.values())
      for (const { reject } of waiters) reject(new StoreError('CLOSED', 'the log follower stopped'));
    this.#waiters.clear();
    this.#wake?.();
    const client = this.#client;
    this.#client = undefined;
    if (client !== undefined) {
      // No longer holds back pruning (best effort: the lease expires anyway).
      await withTimeout(unregisterInstance(client, this.#options.instance).catch(() => undefined));
      await endQuietly(client);
    }
    await this.#running;
  }

  async #run(): Promise<void> {
    let attempt = 0;
    while (!this.#stopped) {
      try {
        await this.#connect();
        attempt = 0;
        while (!this.#stopped) {
          this.#dirty = false;
          await this.#catchUp();
          await this.#heartbeat();
          if (!this.#dirty) await this.#sleep(this.#options.pollMs ?? 1000);
        }
      } catch (error) {
        if (this.#stopped) break;
        if (error instanceof StoreError) {
          this.#options.onGap(error);
          return;
        }
        // The log table or sequence is gone (the capture objects dropped): nothing to resume from.
        if (sqlState(error) === '42P01') {
          this.#options.onGap(
            new StoreError(
              'LOG_GAP',
              `the change log is gone (${(error as Error).message}): restart to reload the tables`,
              {
                cause: error,
              },
            ),
          );
          return;
        }
        this.#setConnected(false, error);
        const client = this.#client;
        this.#client = undefined;
        client?.removeAllListeners('notification');
        if (client !== undefined) await endQuietly(client);
        await this.#sleep(RECONNECT_MS[Math.min(attempt++, RECONNECT_MS.length - 1)] as number, false);
      }
    }
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.#options.url,
      application_name: 'lv-follower',
      connectionTimeoutMillis: 5000,
      keepAlive: true,
    });
    // A broken connection also rejects the query in flight; the loop reconnects.
    client.on('error', () => this.#wake?.());
    client.on('notification', () => this.wakeUp());
    this.#client = client;
    // pg's connect() never settles when the client is ended while connecting (as `stop` does).
    await Promise.race([client.connect(), this.#halted]);
    if (this.#stopped) throw new Error('stopped');
    await client.query(`LISTEN ${LOG_CHANNEL}`);
    await this.#checkNotReset(client);
    this.#setConnected(true);
  }

  /**
   * The log's sequence below this instance's position means the log was reset (the `lv_`
   * objects recreated, the database restored from a backup): positions would be reissued for
   * other changes, so following on would apply the wrong ones or wait forever.
   */
  async #checkNotReset(client: pg.Client): Promise<void> {
    const result = await client.query<{ head: string }>(
      'SELECT (CASE WHEN is_called THEN last_value ELSE last_value - 1 END)::text AS head FROM lv_changes_position',
    );
    const head = Number(result.rows[0]?.head ?? 0);
    if (head < this.#position) {
      throw new StoreError(
        'LOG_GAP',
        `the change log restarted at position ${head}, below this instance's position ${this.#position} ` +
          '(the database was restored or its lv_ objects recreated): restart to reload the tables',
      );
    }
  }

  #setConnected(connected: boolean, error?: unknown): void {
    if (this.#connected === connected) return;
    this.#connected = connected;
    this.#options.onConnectionChange?.(connected, error);
  }

  /** Waits `ms`, or less when a notification, `wakeUp` or `stop` (or, while reconnecting, only `stop`) comes first. */
  #sleep(ms: number, wakeable = true): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = wakeable ? done : () => (this.#stopped ? done() : undefined);
    });
  }

  async #catchUp(): Promise<void> {
    const client = this.#client as pg.Client;
    const pageSize = this.#options.pageSize ?? 5000;
    let pending: LogEntry[] = [];
    let pendingKey: string | undefined;
    let pendingTxid = '';
    let pendingPart: number | null = null;
    let pendingAt: Date | undefined;
    let after = this.#position;
    for (;;) {
      const before = this.#position;
      const page = await client.query<{
        position: string;
        txid: string;
        part: number | null;
        table_name: string;
        op: LogEntry['op'];
        id: string | null;
        data: LogEntry['data'];
        logged_at: Date;
      }>(
        // Ordered by the column, not by the output `position` (text: '100' < '99').
        `SELECT position::text, txid::text, part, table_name, op, id, data, logged_at FROM lv_changes
          WHERE position > $1 ORDER BY lv_changes.position LIMIT $2`,
        [after, pageSize],
      );
      // Read after the page: a pruning that removed anything we needed has committed by now.
      const pruned = await client.query<{ through: string }>('SELECT through::text FROM lv_pruned');
      const through = Number(pruned.rows[0]?.through ?? 0);
      this.#prunedThrough = through;
      if (through > before) {
        throw new StoreError(
          'LOG_GAP',
          `the change log was pruned through position ${through}, past this instance's position ${before} ` +
            '(it was away or behind for longer than the prune lease or the retention): it cannot catch up; restart it to reload the tables',
        );
      }
      for (const row of page.rows) {
        const position = Number(row.position);
        // Delivering out of order would drop transactions for good (`#deliver` skips old positions).
        if (!(position > after)) {
          throw new StoreError('CORRUPT', `the change log was read out of order: position ${position} after ${after}`);
        }
        // A transaction's parts are contiguous: a new key ends the pending part.
        const key = `${row.txid}/${row.part ?? ''}`;
        if (pendingKey !== undefined && key !== pendingKey)
          this.#deliver(pendingTxid, pendingPart, pending, pendingAt as Date);
        if (pendingKey !== key) {
          pending = [];
          pendingKey = key;
          pendingTxid = row.txid;
          pendingPart = row.part;
          pendingAt = row.logged_at;
        }
        pending.push({ position, table: row.table_name, op: row.op, id: row.id, data: row.data });
        after = position;
        this.#head = Math.max(this.#head, position);
      }
      if (page.rows.length < pageSize) {
        // The end of the visible log: a transaction is visible whole, so the last one is complete.
        if (pending.length > 0) this.#deliver(pendingTxid, pendingPart, pending, pendingAt as Date);
        this.#caughtUpAt = new Date();
        return;
      }
      // A long catch-up keeps its heartbeat, so that pruning keeps what it still needs.
      await this.#heartbeat();
    }
  }

  #deliver(txid: string, part: number | null, entries: readonly LogEntry[], loggedAt: Date): void {
    const last = entries[entries.length - 1];
    if (last === undefined || last.position <= this.#position) return;
    this.#options.apply({ position: last.position, txid, part, entries, loggedAt });
    this.#position = last.position;
    for (const [position, resolvers] of this.#waiters) {
      if (position > this.#position) continue;
      this.#waiters.delete(position);
      for (const { resolve } of resolvers) resolve();
    }
  }

  /** Records this instance's position, so that pruning keeps what it still needs. */
  async #heartbeat(): Promise<void> {
    const now = Date.now();
    if (now - this.#lastHeartbeat < (this.#options.heartbeatMs ?? 5000)) return;
    this.#lastHeartbeat = now;
    await recordPosition(this.#client as pg.Client, this.#options.instance, this.#position);
  }
}

/** Closes a connection that may be broken: `end()` of a client whose socket died can wait forever. */
async function endQuietly(client: pg.Client): Promise<void> {
  await withTimeout(client.end().catch(() => undefined));
}

/** Waits for `promise`, or 1 s at most. */
async function withTimeout(promise: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise,
    new Promise((resolve) => {
      timer = setTimeout(resolve, 1000);
    }),
  ]);
  clearTimeout(timer);
}
