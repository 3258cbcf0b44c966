/**
 * The storage module's only error type. `code` says what went wrong; `exitCode` is the
 * process exit status a server should use when the error stops its start-up (sysexits.h).
 */
export type StoreErrorCode =
  /** The file exists but is not a SQLite database (its first bytes are not the SQLite header). Left untouched. */
  | 'NOT_A_DATABASE'
  /** The file is a SQLite database, but not one written by this storage module. Left untouched. */
  | 'NOT_A_STORE'
  /** The file was written by another storage format version. Left untouched. */
  | 'INCOMPATIBLE_VERSION'
  /** Another process (another running server) holds the file's exclusive lock. Left untouched. */
  | 'LOCKED'
  /** The file or its directory cannot be written (permissions, read-only file system). */
  | 'READ_ONLY'
  /** Any other failure to open or create the file (I/O error, not a regular file, …). */
  | 'CANNOT_OPEN'
  /** SQLite reports the database as malformed. */
  | 'CORRUPT'
  /** A change given to `commit` / `write` is malformed (nothing was written). */
  | 'BAD_CHANGE'
  /** SQLite rolled the whole transaction back on its own (disk full, I/O error): nothing of it was written. */
  | 'TRANSACTION_ABORTED'
  /** The store (or group committer) is closed. */
  | 'CLOSED'
  /** A PostgreSQL table named like a config table exists with columns that do not fit it. Left untouched. */
  | 'INCOMPATIBLE_TABLE'
  /**
   * The PostgreSQL change log no longer holds what this instance needs to stay up to date (it
   * was pruned past its position, or reset below it): a restart, which reloads the tables, is the only safe way on.
   */
  | 'LOG_GAP';

const EXIT_CODES: { readonly [code in StoreErrorCode]: number } = {
  NOT_A_DATABASE: 65, // EX_DATAERR
  NOT_A_STORE: 65,
  INCOMPATIBLE_VERSION: 65,
  CORRUPT: 65,
  LOCKED: 75, // EX_TEMPFAIL: try again once the other server stopped
  READ_ONLY: 73, // EX_CANTCREAT
  CANNOT_OPEN: 74, // EX_IOERR
  TRANSACTION_ABORTED: 74,
  BAD_CHANGE: 70, // EX_SOFTWARE: the caller passed a malformed change
  CLOSED: 70,
  INCOMPATIBLE_TABLE: 2, // as a bad config: change the config or the table
  LOG_GAP: 75, // EX_TEMPFAIL: a restart (a fresh load) succeeds
};

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  /** The database file concerned (absolute path, or ':memory:'), when there is one. */
  readonly file: string | undefined;
  /** Suggested process exit status when this error aborts a server's start-up. */
  readonly exitCode: number;

  constructor(code: StoreErrorCode, message: string, options: { file?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StoreError';
    this.code = code;
    this.file = options.file;
    this.exitCode = EXIT_CODES[code];
  }
}

export function isStoreError(error: unknown): error is StoreError {
  return error instanceof StoreError;
}
