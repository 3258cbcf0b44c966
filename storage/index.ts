/**
 * Storage (DESIGN §5): where the tables' records are durable. The service layer talks to the
 * `Store` interface (types.ts) and writes through a `GroupCommitter`; `openStore` opens the
 * SQLite implementation (sqlite/, whose main file describes the file layout and guarantees).
 * Errors are `StoreError`s with a `code` and a suggested process `exitCode`.
 */
export { isStoreError, StoreError, type StoreErrorCode } from './errors.js';
export { type GroupCommitStats, GroupCommitter } from './group-commit.js';
export {
  cannotConnect,
  DEFAULT_PRUNING,
  ensureSchema,
  HOLD_LIMIT_MS,
  isConnectionError,
  isRetryableError,
  LOG_LOCK,
  LogFollower,
  type LoggedTransaction,
  LogPruner,
  PART_SETTING,
  type PruneOptions,
  quote,
  readSnapshot,
  registerInstance,
  safeLocation,
  sqlState,
  type TableSpec,
} from './postgres/index.js';
export { SCHEMA_VERSION } from './sqlite/initialize.js';
export { openSqliteStore as openStore } from './sqlite/open.js';
export type {
  Durability,
  JsonObject,
  LoadedRecord,
  Store,
  StoreChange,
  StoredRecord,
  StoreTransaction,
} from './types.js';
