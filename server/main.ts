import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { ConfigError } from '../config/validate.js';
import { isStoreError, type PruneOptions } from '../storage/index.js';
import { type RunningServer, startServer } from './app.js';
import { LIMIT_FLAG_OPTIONS, LIMIT_USAGE, limitOptions } from './limit-flags.js';
import { createLogger, LOG_LEVELS, type LogLevel } from './logger.js';
import { demoSeed } from './seed.js';
import { stopOnSignals } from './signals.js';

const USAGE = `Usage: tsx server/main.ts [options]

  --port <n>          port (env PORT, default 4000; 0 picks a free one)
  --host <addr>       address to listen on (env HOST, default 127.0.0.1)
  --config <file>     application config: a .ts/.js module (default export) or .json (default: the demo)
  --data <file>       SQLite file holding the tables (env DATA, default ./data/live.sqlite; created when missing)
  --database <url>    keep the tables in PostgreSQL instead (postgres://user@host:port/db, env
                      DATABASE_URL): any number of instances share it, and changes made by any
                      SQL client reach the views (see docs/postgres.md)
  --memory            keep the tables in memory only: nothing is read or written, all is lost at exit
  --seed              add the demo's sample users and posts when the tables are empty (plain npm start
                      does so by itself when it creates the default data file)
  --durability <d>    process: a mutation survives kill -9 (default, WAL + synchronous=NORMAL)
                      power: it also survives power loss (synchronous=FULL; env DURABILITY)
  --history-size <n>  updates kept per view for sinceVersion (default 1000)
  --log-level <l>     debug | info | warn | error | silent (env LOG_LEVEL, default info)
  --max-limit <n>     largest limit of an ad-hoc live query, also its default (default 1000)
  --max-where-depth <n>          deepest nesting of a live query's where (default 6)
  --max-views-per-connection <n> live subscriptions one connection may hold (default 100)
  --view-grace-ms <n> how long a view created on demand outlives its last subscriber (default 5000)
  --drain-ms <n>      on SIGTERM/SIGINT, how long HTTP requests in flight may take to finish (default 10000)
${LIMIT_USAGE}
  --cors-origin <list>           other origins whose pages may call the server, comma-separated
                                 (default none: same origin only; * allows any)
  --allowed-hosts <list>         host names served besides localhost and IP addresses, comma-separated
                                 (.example.com: and its subdomains; against DNS rebinding)
  --ready-max-lag-ms <n>         GET /ready answers 503 while the shared change log is applied further
                                 behind than this (default 5000; PostgreSQL store only)
  --instance-id <name>           this instance's name on the log metrics (env INSTANCE_ID, default host:port)
  --prune-interval-ms <n>        PostgreSQL: how often this instance prunes old change-log entries
                                 (default 60000; 0: never, other instances may)
  --log-lease-ms <n>             PostgreSQL: an instance seen within this keeps the log entries it has not
                                 applied yet (default 600000; give every instance the same values)
  --log-retention-ms <n>         PostgreSQL: entries older than this are pruned even if an instance still
                                 needs them; it then exits 75 (default 86400000; 0: no bound)
  -h, --help          this text

Environment: AUTH_SECRET (at least 32 characters) turns on bearer-token authentication
(HS256 JWTs, see npm run token) and the config's row-level rules; unset, the server runs
open: no authentication and no rules (a warning says so at start).
METRICS_TOKEN (at least 16 characters): GET /metrics then needs Authorization: Bearer <it>;
with AUTH_SECRET set and no METRICS_TOKEN, /metrics is refused. See docs/operations.md.`;

function parseFlags() {
  return parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      config: { type: 'string' },
      data: { type: 'string' },
      database: { type: 'string' },
      memory: { type: 'boolean' },
      seed: { type: 'boolean' },
      durability: { type: 'string' },
      'history-size': { type: 'string' },
      'log-level': { type: 'string' },
      'max-limit': { type: 'string' },
      'max-where-depth': { type: 'string' },
      'max-views-per-connection': { type: 'string' },
      'view-grace-ms': { type: 'string' },
      'drain-ms': { type: 'string' },
      ...LIMIT_FLAG_OPTIONS,
      'cors-origin': { type: 'string', multiple: true },
      'allowed-hosts': { type: 'string', multiple: true },
      'ready-max-lag-ms': { type: 'string' },
      'instance-id': { type: 'string' },
      'prune-interval-ms': { type: 'string' },
      'log-lease-ms': { type: 'string' },
      'log-retention-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  }).values;
}

/**
 * Exit codes: 0 after a graceful stop, 1 on a failure at run time, 2 for bad flags or config
 * (or stored records that do not fit it), 70 when the engine failed applying a change; a data file that cannot be used exits with its
 * `StoreError`'s code: 65 not a store / incompatible / damaged (the table and id named), 73
 * read-only, 74 I/O, 75 locked. Over PostgreSQL: 2 for tables that do not fit the config, 74
 * when the database cannot be reached at start, and 75 at run time when the change log no
 * longer holds what this instance needs (pruned past it, or reset): a restart reloads.
 */
async function main(): Promise<void> {
  let flags: ReturnType<typeof parseFlags>;
  try {
    flags = parseFlags();
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (flags.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }

  const level = flags['log-level'] ?? process.env['LOG_LEVEL'] ?? 'info';
  if (!LOG_LEVELS.includes(level as LogLevel)) usageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const logger = createLogger({ level: level as LogLevel });
  const port = integer(flags.port ?? process.env['PORT'] ?? '4000', '--port', 0, 65535);
  const host = flags.host ?? process.env['HOST'] ?? '127.0.0.1';
  const historySize = integer(flags['history-size'] ?? '1000', '--history-size', 0, 10_000_000);
  if (flags.memory === true && flags.data !== undefined) usageError('--memory and --data exclude each other');
  const database =
    flags.database ?? (flags.data === undefined && flags.memory !== true ? process.env['DATABASE_URL'] : undefined);
  if (flags.database !== undefined && (flags.data !== undefined || flags.memory === true))
    usageError('--database excludes --data and --memory');
  if (database !== undefined && !/^postgres(ql)?:\/\//.test(database))
    usageError('--database (DATABASE_URL) must be a postgres:// URL');
  const file = flags.memory === true ? ':memory:' : (flags.data ?? process.env['DATA'] ?? DEFAULT_DATA);
  const durability = flags.durability ?? process.env['DURABILITY'] ?? 'process';
  if (durability !== 'process' && durability !== 'power')
    usageError(`--durability must be process or power, got "${durability}"`);
  if (file === '') usageError('--data must name a file');
  if (flags.seed === true && flags.config !== undefined) usageError('--seed adds the demo data: not with --config');
  // Plain `npm start` creating its default file gets the demo data; a file the user names
  // (--data, DATA) or --memory starts empty unless --seed says otherwise.
  const seed =
    flags.seed === true ||
    (flags.config === undefined &&
      database === undefined &&
      flags.data === undefined &&
      flags.memory !== true &&
      process.env['DATA'] === undefined &&
      !existsSync(file));

  const authSecret = process.env['AUTH_SECRET'] ?? '';
  if (authSecret !== '' && authSecret.length < 32) usageError('AUTH_SECRET must be at least 32 characters');
  const limit = (
    name: 'max-limit' | 'max-where-depth' | 'max-views-per-connection' | 'view-grace-ms',
    max: number,
  ): number | undefined =>
    flags[name] === undefined ? undefined : integer(flags[name], `--${name}`, name === 'view-grace-ms' ? 0 : 1, max);
  const maxLimit = limit('max-limit', 1_000_000);
  const maxWhereDepth = limit('max-where-depth', 100);
  const maxViewsPerConnection = limit('max-views-per-connection', 1_000_000);
  const graceMs = limit('view-grace-ms', 86_400_000);
  const metricsToken = process.env['METRICS_TOKEN'] ?? '';
  if (metricsToken !== '' && metricsToken.length < 16) usageError('METRICS_TOKEN must be at least 16 characters');
  const readyMaxLagMs =
    flags['ready-max-lag-ms'] === undefined
      ? undefined
      : integer(flags['ready-max-lag-ms'], '--ready-max-lag-ms', 0, 86_400_000);
  const instanceId = flags['instance-id'] ?? process.env['INSTANCE_ID'] ?? '';
  const drainMs = flags['drain-ms'] === undefined ? undefined : integer(flags['drain-ms'], '--drain-ms', 0, 3_600_000);
  const pruning = pruneOptions(flags);
  const { maxPayloadBytes, maxResponseBytes, maxQueuedBytes, maxViewBytes, requestLimits, writeLimits } = limitOptions(
    flags,
    usageError,
  );

  const signals = stopOnSignals(logger);
  let server: RunningServer;
  try {
    const checked = await loadConfig(flags.config);
    server = await startServer({
      checked,
      port,
      host,
      historySize,
      logger,
      ...(authSecret === '' ? {} : { authSecret }),
      ...(maxPayloadBytes === undefined ? {} : { maxPayloadBytes }),
      ...(maxResponseBytes === undefined ? {} : { maxResponseBytes }),
      ...(maxQueuedBytes === undefined ? {} : { maxQueuedBytes }),
      requestLimits,
      writeLimits,
      ...(drainMs === undefined ? {} : { drainMs }),
      ...(metricsToken === '' ? {} : { metricsToken }),
      ...(readyMaxLagMs === undefined ? {} : { readyMaxLagMs }),
      ...(instanceId === '' ? {} : { instanceId }),
      origins: { corsOrigins: list(flags['cors-origin']), allowedHosts: list(flags['allowed-hosts']) },
      liveQueries: {
        ...(graceMs === undefined ? {} : { graceMs }),
        ...(maxViewBytes === undefined ? {} : { maxViewBytes }),
        limits: {
          ...(maxLimit === undefined ? {} : { maxLimit }),
          ...(maxWhereDepth === undefined ? {} : { maxWhereDepth }),
          ...(maxViewsPerConnection === undefined ? {} : { maxViewsPerConnection }),
        },
      },
      storage: {
        file,
        database,
        durability,
        pruning,
        // The change log can no longer be followed: only a restart (which reloads the tables) is safe.
        onStorageLost: (error) => {
          const message = error instanceof Error ? error.message : String(error);
          logger.error('exiting: this instance can no longer follow the PostgreSQL change log; restart it', {
            error: message,
          });
          process.stderr.write(`cannot follow the PostgreSQL change log: ${message}\n`);
          process.exit(isStoreError(error) ? error.exitCode : 1);
        },
        // The engine is ahead of the file: only a restart (which reloads the file) is safe.
        onCommitFailed: (error) => {
          logger.error('exiting: a commit failed, restart to reload the data file', { error });
          process.exit(isStoreError(error) ? error.exitCode : 1);
        },
        // The views may be half-updated: serving them is wrong; a restart rebuilds them from the file.
        onEngineFault: (fault) => {
          logger.error('exiting: the engine failed applying a change, restart to rebuild the views', {
            view: fault.view,
            table: fault.table,
            id: fault.id,
          });
          process.exit(EX_SOFTWARE);
        },
      },
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      logger.error('invalid config', { config: flags.config ?? 'demo', problems: error.problems });
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    if (isStoreError(error)) {
      logger.error(database === undefined ? 'cannot open the data file' : 'cannot use the database', {
        file: error.file ?? file,
        code: error.code,
      });
      process.stderr.write(`${error.message}\n`);
      process.exit(error.exitCode);
    }
    logger.error('start failed', { error });
    process.exit(1);
  }
  const running = server;
  if (seed) await seedDemo(running, logger);
  for (const { table, count } of running.store.storage.ignoredTables) {
    logger.warn('the data file holds a table the config does not list; its records are kept, not served', {
      table,
      records: count,
    });
  }
  logger.info('listening', {
    url: running.url,
    ws: running.wsUrl,
    views: running.store.checked.config.views.map((view) => view.id),
    historySize,
    data: running.store.storage.file,
    durability: running.store.storage.durability,
    records: running.store.storage.records,
    versionBase: running.store.storage.versionBase,
    startupMs: Math.round(running.store.storage.startupMs),
    auth: authSecret === '' ? 'open' : 'bearer',
  });
  if (authSecret === '') {
    logger.warn('AUTH_SECRET is not set: the server runs open (no authentication; row-level rules are not enforced)');
  }
  signals.serving(running); // stops now if a signal came during start-up
}

const DEFAULT_DATA = './data/live.sqlite';
/** sysexits' internal software error: the engine failed applying a change (a bug). */
const EX_SOFTWARE = 70;

/** Adds the demo data in one atomic batch, only to empty tables (never over a user's records). */
async function seedDemo(server: RunningServer, logger: ReturnType<typeof createLogger>): Promise<void> {
  const store = server.store;
  const empty = store.checked.config.tables.every((table) => store.records(table.name).next().done === true);
  if (!empty) {
    logger.warn('not seeding: the tables already hold records');
    return;
  }
  const changes = demoSeed();
  await store.apply(changes);
  logger.info('seeded the demo data', { records: changes.length });
}

function integer(text: string, name: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max)
    usageError(`${name} must be an integer from ${min} to ${max}, got "${text}"`);
  return value;
}

/** The change-log pruning flags (PostgreSQL store); unset ones keep their defaults. */
function pruneOptions(flags: ReturnType<typeof parseFlags>): Partial<PruneOptions> {
  const DAY = 86_400_000;
  const read = (name: 'prune-interval-ms' | 'log-lease-ms' | 'log-retention-ms', min: number, max: number) =>
    flags[name] === undefined ? undefined : integer(flags[name], `--${name}`, min, max);
  const intervalMs = read('prune-interval-ms', 0, DAY);
  const leaseMs = read('log-lease-ms', 100, 30 * DAY);
  const retentionMs = read('log-retention-ms', 0, 365 * DAY);
  return {
    ...(intervalMs === undefined ? {} : { intervalMs }),
    ...(leaseMs === undefined ? {} : { leaseMs }),
    ...(retentionMs === undefined ? {} : { retentionMs }),
  };
}

/** A repeatable, comma-separated flag's values. */
function list(values: readonly string[] | undefined): string[] {
  return (values ?? [])
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter((value) => value !== '');
}

function usageError(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

await main();
