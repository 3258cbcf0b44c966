import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { engineDefinition, hasParams } from '../config/types.js';
import type { CheckedConfig } from '../config/validate.js';
import { ConfigError } from '../config/validate.js';
import { Circuit, isEngineError, type Record } from '../engine/index.js';
import {
  cannotConnect,
  DEFAULT_PRUNING,
  ensureSchema,
  LogFollower,
  LogPruner,
  readSnapshot,
  registerInstance,
  StoreError,
  safeLocation,
} from '../storage/index.js';
import { LiveStore, type LiveStoreOptions, type StorageInfo, type StorageOptions } from './live-store.js';
import { LogApplier, LogClock } from './log-applier.js';
import { RowReader, tableSpecs } from './pg-rows.js';
import { PgWritePath } from './pg-write-path.js';
import { ViewHost } from './view-host.js';

/** Connections for mutations (one group at a time) and for the pruner. */
const POOL_SIZE = 4;
/** A connection that does not open within this fails the group at once (UNAVAILABLE) instead of hanging. */
const CONNECT_TIMEOUT_MS = 5000;

/**
 * Start-up over PostgreSQL: creates the missing tables and capture objects (or refuses tables
 * that do not fit), loads every table and the log position in one snapshot, registers the
 * config's views at that position, then follows the log from it (see `LogFollower`,
 * `LogApplier`). Mutations go through `PgWritePath`.
 */
export async function openPostgresLiveStore(
  checked: CheckedConfig,
  options: LiveStoreOptions & { storage: StorageOptions },
  url: string,
): Promise<LiveStore> {
  const started = performance.now();
  const openedAt = Date.now();
  const logger = options.logger;
  const storage = options.storage;
  const location = safeLocation(url);
  const tables = tableSpecs(checked);
  const instance = randomUUID();
  const pruning = { ...DEFAULT_PRUNING, ...storage.pruning };
  const setup = new pg.Client({ connectionString: url });
  setup.on('error', () => undefined); // the awaited query fails too
  try {
    await setup.connect();
  } catch (error) {
    throw cannotConnect(location, error);
  }
  let snapshot: Awaited<ReturnType<typeof readSnapshot>>;
  try {
    await ensureSchema(setup, tables, location);
    // Before the load: pruning keeps, from now on, everything above the snapshot about to be read.
    await registerInstance(setup, instance);
    snapshot = await readSnapshot(
      setup,
      tables.map((table) => table.name),
    );
  } catch (error) {
    if (error instanceof StoreError) throw error;
    throw cannotConnect(location, error);
  } finally {
    await setup.end().catch(() => undefined);
  }

  const rows = new RowReader(checked, (table, id, reason) =>
    logger?.error?.('a row does not fit the config: it is not served', { table, id, reason }),
  );
  const circuit = new Circuit({ tables: checked.config.tables.map((table) => table.name) });
  let records = 0;
  for (const [table, tableRows] of snapshot.rows) {
    const loaded: Record[] = [];
    for (const row of tableRows) {
      const record = rows.record(table, row);
      if (record !== undefined) loaded.push(record);
    }
    records += circuit.load(table, loaded);
  }
  const clock = new LogClock(snapshot.position);
  // Assigned below: the follower needs the applier, which needs the host.
  let follower: LogFollower | undefined;
  const host = new ViewHost(circuit, clock, {
    logger,
    logVersions: true,
    reached: (version) => (follower === undefined ? Promise.resolve() : follower.reached(version)),
    ...(options.historySize === undefined ? {} : { historySize: options.historySize }),
  });
  for (const view of checked.config.views) {
    if (hasParams(view)) continue;
    try {
      circuit.registerView(engineDefinition(view), {}, { startVersion: clock.now() });
    } catch (error) {
      if (isEngineError(error)) throw new ConfigError([`view "${view.id}": ${error.message}`]);
      throw error;
    }
    host.adopt(view.id);
  }
  const applier = new LogApplier(circuit, clock, host, rows, {
    logger,
    onEngineFault: (fault) => storage.onEngineFault?.(fault),
  });
  let lostConnection = false;
  follower = new LogFollower({
    url,
    from: snapshot.position,
    instance,
    // Several heartbeats per lease, so that one late heartbeat does not let a pruning pass this instance.
    heartbeatMs: Math.min(5000, Math.max(50, pruning.leaseMs / 4)),
    apply: (transaction) => applier.apply(transaction),
    onGap: (error) => {
      logger?.error?.('cannot follow the change log: the views stop', { error: error.message });
      host.stop(error);
      storage.onStorageLost?.(error);
    },
    onConnectionChange: (connected, error) => {
      if (connected && !lostConnection) return; // the first connection
      lostConnection = !connected;
      if (connected) logger?.warn('reconnected to PostgreSQL: catching up with the change log', { database: location });
      else
        logger?.warn('lost the PostgreSQL connection: reconnecting (mutations get UNAVAILABLE meanwhile)', {
          database: location,
          error: error instanceof Error ? error.message : String(error),
        });
    },
  });
  const pool = new pg.Pool({
    connectionString: url,
    max: POOL_SIZE,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    application_name: 'lv-writer',
  });
  pool.on('error', () => undefined); // an idle connection broke: the pool replaces it
  const writes = new PgWritePath(pool, follower, applier, rows, checked, tables, {
    logger,
    limits: options.writeLimits,
  });
  const pruner = new LogPruner(pool, pruning, {
    onPruned: ({ deleted, through }) => logger?.info?.('pruned the change log', { deleted, through }),
    onError: (error) =>
      logger?.warn('pruning the change log failed; retrying at the next interval', {
        error: error instanceof Error ? error.message : String(error),
      }),
  });
  follower.start();
  pruner.start();
  const info: StorageInfo = {
    file: location,
    // PostgreSQL's own settings decide (synchronous_commit, fsync); by default a commit survives power loss.
    durability: 'power',
    epoch: 1,
    records,
    versionBase: snapshot.position,
    ignoredTables: [],
    startupMs: performance.now() - started,
  };
  const live = new LiveStore(checked, host, writes, info, {
    close: async () => {
      await pruner.stop();
      await follower.stop();
      await pool.end().catch(() => undefined);
    },
  });
  live.followLog({
    logStatus: () => {
      const { connected, position, head, caughtUpAt, prunedThrough } = follower.status();
      // Behind the head seen at the last read: the wait is at most the time since the log was last read to its end.
      const behind = position < head || caughtUpAt === undefined;
      const since = caughtUpAt?.getTime() ?? openedAt;
      return {
        following: connected,
        position,
        head,
        lagSeconds: behind ? Math.max(0, Date.now() - since) / 1000 : 0,
        prunedThrough,
        prunedEntries: pruner.deleted,
      };
    },
  });
  return live;
}
