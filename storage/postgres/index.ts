/**
 * The PostgreSQL store: the served tables live in a PostgreSQL database that any number of
 * server instances (and any other SQL client) share; a trigger logs every committed change in
 * commit order, and each instance follows that log. See docs/postgres.md.
 */
export { quote, type TableSpec } from './columns.js';
export { cannotConnect, isConnectionError, isRetryableError, safeLocation, sqlState } from './errors.js';
export { registerInstance } from './instances.js';
export type { LoggedTransaction } from './log-entry.js';
export { LogFollower } from './log-follower.js';
export { DEFAULT_PRUNING, HOLD_LIMIT_MS, LogPruner, type PruneOptions } from './pruner.js';
export { ensureSchema, LOG_LOCK, PART_SETTING } from './schema.js';
export { readSnapshot } from './snapshot.js';
