/**
 * Storage (DESIGN §5): where the tables' records are durable. The service layer talks to the
 * `Store` interface (types.ts) and writes through a `GroupCommitter`; `openStore` opens the
 * SQLite implementation (sqlite/, whose main file describes the file layout and guarantees).
 * Errors are `StoreError`s with a `code` and a suggested process `exitCode`.
 */
export { StoreError, isStoreError, type StoreErrorCode } from './errors.js';
export type { ChangeOp, Durability, JsonObject, JsonValue, Store, StoreChange, StoredRecord, StoreTransaction } from './types.js';
export { SCHEMA_VERSION, STORE_FORMAT } from './sqlite/initialize.js';
export { openSqliteStore as openStore, type SqliteStoreOptions as StoreOptions } from './sqlite/open.js';
export { GroupCommitter, type GroupCommitOptions, type GroupCommitStats } from './group-commit.js';
