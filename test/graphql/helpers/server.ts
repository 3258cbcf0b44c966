import type { StorageOptions } from '../../../app/index.js';
import { loadConfig } from '../../../config/load.js';
import type { CheckedConfig } from '../../../config/validate.js';
import { type RunningServer, type ServerOptions, startServer } from '../../../server/app.js';
import { createLogger, type LogLevel } from '../../../server/logger.js';
import { withTestStore } from './test-store.js';

export interface TestServerOptions {
  readonly historySize?: number;
  readonly checked?: CheckedConfig;
  /** Receives the server's log lines instead of stderr. */
  readonly log?: (line: string) => void;
  /** Default: in memory (`:memory:`), for the tests that do not test durability. */
  readonly storage?: StorageOptions;
  /** Turns on bearer tokens and row-level rules. */
  readonly authSecret?: string;
  readonly liveQueries?: ServerOptions['liveQueries'];
  readonly maxPayloadBytes?: number;
  readonly maxQueuedBytes?: number;
  readonly requestLimits?: ServerOptions['requestLimits'];
  readonly writeLimits?: ServerOptions['writeLimits'];
  readonly origins?: ServerOptions['origins'];
  readonly readyMaxLagMs?: number;
  readonly metricsToken?: string;
}

/** In memory: the write path is the durable one (SQLite, group commit), without a file. */
const IN_MEMORY: StorageOptions = { file: ':memory:' };

/**
 * A real server on 127.0.0.1 and a free port, its tables in memory unless `storage` says
 * otherwise, or in a fresh PostgreSQL database under `TEST_STORE=postgres` (see test-store.ts);
 * logs only errors (TEST_LOG_LEVEL overrides).
 */
export async function startTestServer(options: TestServerOptions = {}): Promise<RunningServer> {
  return withTestStore(options.storage ?? IN_MEMORY, (storage) => startWith(options, storage));
}

async function startWith(options: TestServerOptions, storage: StorageOptions): Promise<RunningServer> {
  return startServer({
    checked: options.checked ?? (await loadConfig()),
    port: 0,
    host: '127.0.0.1',
    logger: createLogger({
      level: (process.env['TEST_LOG_LEVEL'] as LogLevel | undefined) ?? 'error',
      write: options.log ?? ((line) => void process.stderr.write(`${line}\n`)),
    }),
    ...(options.historySize === undefined ? {} : { historySize: options.historySize }),
    storage,
    ...(options.authSecret === undefined ? {} : { authSecret: options.authSecret }),
    ...(options.liveQueries === undefined ? {} : { liveQueries: options.liveQueries }),
    ...(options.maxPayloadBytes === undefined ? {} : { maxPayloadBytes: options.maxPayloadBytes }),
    ...(options.maxQueuedBytes === undefined ? {} : { maxQueuedBytes: options.maxQueuedBytes }),
    ...(options.requestLimits === undefined ? {} : { requestLimits: options.requestLimits }),
    ...(options.writeLimits === undefined ? {} : { writeLimits: options.writeLimits }),
    ...(options.origins === undefined ? {} : { origins: options.origins }),
    ...(options.readyMaxLagMs === undefined ? {} : { readyMaxLagMs: options.readyMaxLagMs }),
    ...(options.metricsToken === undefined ? {} : { metricsToken: options.metricsToken }),
  });
}

/** Resolves once `condition` holds, polling; rejects with `label` after `timeoutMs`. */
export async function eventually(condition: () => boolean, label: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Sends a GraphQL request over HTTP and throws if it is answered with errors. */
export async function mutateOk(server: RunningServer, query: string, variables: object = {}): Promise<void> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { errors?: unknown[] };
  if (body.errors !== undefined) throw new Error(`${query}: ${JSON.stringify(body.errors)}`);
}
