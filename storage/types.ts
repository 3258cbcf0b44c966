/**
 * The storage contract: what the service layer (and `GroupCommitter`) may rely on, whichever
 * database holds the records. `sqlite/` implements it today; nothing outside this folder may
 * depend on which implementation it talks to.
 */

/**
 * What a transaction that returned survives.
 * - `process` (default): the death of the process (kill -9, OOM kill, uncaught exception).
 *   A power loss, kernel panic or VM reset may lose the last transactions — whole ones only;
 *   the stored state stays consistent.
 * - `power`: power loss too (as far as the disk honours fsync). Usually costs one fsync per
 *   transaction, which group commit amortises.
 */
export type Durability = 'process' | 'power';

export type ChangeOp = 'CREATE' | 'UPDATE' | 'DELETE';

type JsonValue = null | boolean | number | string | JsonValue[] | { [field: string]: JsonValue };
export type JsonObject = { [field: string]: JsonValue };

/**
 * One record change to persist. The store does not re-validate engine rules (CONFLICT,
 * NOT_FOUND, no-op updates): validation is the engine's job. `CREATE` and `UPDATE` both write
 * `record` (the full record, as the engine stores it) with an upsert; `DELETE` removes the row
 * (deleting a missing row is a no-op) and ignores `record`.
 */
export interface StoreChange {
  readonly table: string;
  readonly op: ChangeOp;
  readonly id: string;
  readonly record?: unknown;
}

/** A stored record, as `load()` yields it: `data` is the JSON object that was committed. */
export interface StoredRecord {
  readonly table: string;
  readonly id: string;
  readonly data: JsonObject;
}

/** A stored record of a known table, as `loadRecords` yields it. */
export type LoadedRecord = Omit<StoredRecord, 'table'>;

/** The writer handed to `Store.transaction` callbacks. */
export interface StoreTransaction {
  /** Writes changes inside the open transaction (validated first: a malformed change throws `BAD_CHANGE` before any of them is written). */
  write(changes: readonly StoreChange[]): void;
  /**
   * Runs `fn` in a savepoint: if it throws, whatever it wrote is rolled back, the rest of the
   * transaction stays, and the error is rethrown. If the database itself aborted the whole
   * transaction (disk full, I/O error), throws `TRANSACTION_ABORTED` instead.
   */
  savepoint<T>(fn: () => T): T;
}

/**
 * An open store. Every method is synchronous: when `commit` or `transaction` returns, the
 * transaction is durable (see `Durability`), which is what lets `GroupCommitter` acknowledge
 * callers and publish changes right after it. Errors are `StoreError`s; every method but
 * `close` throws `CLOSED` once the store is closed.
 */
export interface Store {
  /**
   * Where the records live, for messages and logs: an absolute file path, ':memory:', or a
   * database URL (never with its password).
   */
  readonly location: string;
  /** The same as `location` (the name callers used first). */
  readonly file: string;
  readonly durability: Durability;
  /**
   * Incremented (and committed) at every open; 1 for a new store. Versions handed out by one
   * run of the server can be tagged with it, so they are never confused with another run's.
   */
  readonly epoch: number;
  /** The storage format version of the stored data. */
  readonly schemaVersion: number;
  readonly isOpen: boolean;
  /**
   * Streams every stored record (optionally of one table), ordered by table then id (code-point
   * order). Do not write while iterating. Both this and `loadRecords` throw `CORRUPT`, naming the
   * table and id, for a record they cannot read or that is not a JSON object stored under its id.
   */
  load(table?: string): IterableIterator<StoredRecord>;
  /**
   * The records of one table (each id with the JSON object committed under it), ordered by id,
   * for a bulk load at start-up; may be faster than `load` per record (the SQLite store reads
   * them in chunks of `chunk`). Do not write while iterating.
   */
  loadRecords(table: string, chunk?: number): IterableIterator<LoadedRecord>;
  /** The tables holding at least one record, with their record counts, ordered by table. */
  tables(): { table: string; count: number }[];
  /** Writes a batch in one transaction: all of it, or (on any error) none of it. Durable (see `Durability`) when it returns. */
  commit(changes: readonly StoreChange[]): void;
  /**
   * Runs `fn` in one transaction (a savepoint when nested) and commits; rolls back if it
   * throws. Throws `TRANSACTION_ABORTED` when the database aborted or failed to commit it:
   * then nothing of it was written.
   */
  transaction<T>(fn: (tx: StoreTransaction) => T): T;
  /** Free-form metadata (the keys `format`, `schema_version` and `epoch` are reserved). */
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
  /** Closes the store and releases what it holds (file lock, connection). Idempotent. */
  close(): void;
}
