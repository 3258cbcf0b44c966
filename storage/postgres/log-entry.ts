import type { JsonObject } from '../types.js';

/** One row of `lv_changes`. */
export interface LogEntry {
  readonly position: number;
  readonly table: string;
  /** UPSERT: the row now holds `data`; DELETE: row `id` is gone; TRUNCATE: every row of `table` is gone. */
  readonly op: 'UPSERT' | 'DELETE' | 'TRUNCATE';
  readonly id: string | null;
  readonly data: JsonObject | null;
}

/**
 * One committed transaction's log entries, in order; `position` is its last one. A server's
 * group commit writes several requests in one transaction, each marked as a `part` of it: each
 * part is then a `LoggedTransaction` of its own (applied and versioned as if committed alone,
 * in log order), so every request gets its own version on every instance.
 */
export interface LoggedTransaction {
  readonly position: number;
  /** The PostgreSQL transaction id (`xid8` as text). */
  readonly txid: string;
  /** The request of a group commit, or null for a whole transaction of any other writer. */
  readonly part: number | null;
  readonly entries: readonly LogEntry[];
  /** When its first entry was logged (the database's clock), for lag. */
  readonly loggedAt: Date;
}
