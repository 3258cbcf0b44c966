/**
 * Where an instance stands with its storage, for readiness checks and metrics (GET /ready,
 * GET /metrics). With SQLite the one process is the authority: it is always caught up.
 */
export interface StorageStatus {
  readonly kind: 'sqlite' | 'postgres';
  /** The tables are loaded and the config's views registered. */
  readonly loaded: boolean;
  /** The database answers (PostgreSQL: the log follower's connection is up). */
  readonly connected: boolean;
  /** The last change applied to the views: the change log position (PostgreSQL), or requests committed by this run (SQLite). */
  readonly position: number;
  /** The highest position known to be committed (PostgreSQL: as of the follower's last read). */
  readonly head: number;
  /** How stale the views may be, in ms: time since the follower last read the log to its end (0 for SQLite). */
  readonly lagMs: number;
}
