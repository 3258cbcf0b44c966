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

/** One committed transaction's log entries, in order; `position` is its last one. */
export interface LoggedTransaction {
  readonly position: number;
  readonly entries: readonly LogEntry[];
  /** When its first entry was logged (the database's clock), for lag. */
  readonly loggedAt: Date;
}
