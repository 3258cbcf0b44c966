/**
 * What the service layer tells a monitor (the server's Prometheus metrics) as it works. Each
 * call sits on a hot path, so an implementation must stay as cheap as a counter increment or
 * a histogram observation: no I/O, no allocation worth naming.
 */
export interface AppObserver {
  /**
   * A write request (one mutation, one batch) ended: `outcome` is `ok` or the refusal's
   * `AppError` code (`INTERNAL` for anything else); `seconds` from the call to its answer,
   * commit and publishing included.
   */
  writeEnded(outcome: string, seconds: number): void;
  /** `events` view updates were published to their topics, which took `seconds`. */
  published(events: number, seconds: number): void;
}

/**
 * How far this instance has applied a change log that other writers feed too (the PostgreSQL
 * store's log follower). Stores without one (SQLite: only this process writes) report none:
 * such an instance is ready as soon as its tables are loaded.
 */
export interface LogStatus {
  /** Whether the follower is reading the log now (false while it reconnects). */
  readonly following: boolean;
  /** Log position of the last change applied to this instance's views. */
  readonly position: number;
  /** The newest log position the follower knows of (its last look at the log's head). */
  readonly head: number;
  /** How long the oldest change committed to the log and not yet applied here has waited, in seconds (0 when caught up). */
  readonly lagSeconds: number;
  /** The highest log position pruning has removed (by any instance), as last seen. */
  readonly prunedThrough?: number;
  /** Log entries this instance's pruner deleted since it started. */
  readonly prunedEntries?: number;
}

/** What a log follower implements so /ready and /metrics can report it (see `LiveStore.followLog`). */
export interface LogFollower {
  logStatus(): LogStatus;
}
