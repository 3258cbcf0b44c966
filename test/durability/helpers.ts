import { print } from 'graphql';
import type { Record as EngineRecord } from '../../engine/index.js';
import { openStore } from '../../storage/index.js';
import { AllViewsDocument, type AllViewsQuery } from '../graphql/generated/graphql.js';
import { spawnProcess, type TestProcess } from '../process-groups.js';
import { repoRoot } from '../storage/helpers.js';

export { canRunAsNobody, digest, listing, tempDir } from '../storage/helpers.js';

/** One JSON log line of the server. */
export type LogLine = { readonly msg?: string; readonly level?: string; readonly [field: string]: unknown };

/** `server/main.ts` in a child process (its own process group), as a user runs it. */
export interface ServerProcess {
  readonly process: TestProcess;
  readonly child: TestProcess['child'];
  /** Its JSON log lines (stdout), parsed. */
  readonly logs: LogLine[];
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

/** Spawns `node --import tsx server/main.ts ...args` from the repository root. */
export function spawnServer(
  args: readonly string[],
  options: { uid?: number; gid?: number; env?: { [name: string]: string } } = {},
): ServerProcess {
  const started = spawnProcess(process.execPath, ['--import', 'tsx', 'server/main.ts', ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...options.env },
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
  });
  return serverProcess(started);
}

/** The log of a process running `server/main.ts`, however it was started. */
export function serverProcess(started: TestProcess): ServerProcess {
  return {
    process: started,
    child: started.child,
    get logs() {
      return started.lines.map(parseLog);
    },
    exited: started.exited,
    stderr: () => started.stderr(),
  };
}

function parseLog(line: string): LogLine {
  try {
    return JSON.parse(line) as LogLine;
  } catch {
    return { msg: line };
  }
}

/** Waits for the `listening` line, however long start-up takes; returns it (with `url`). */
export async function listening(server: ServerProcess): Promise<LogLine & { url: string }> {
  const line = await server.process.waitForLine((text) => parseLog(text).msg === 'listening');
  return parseLog(line) as LogLine & { url: string };
}

/** Starts a server on a free port and waits until it listens. */
export async function startServerProcess(
  args: readonly string[],
): Promise<{ server: ServerProcess; url: string; ready: LogLine }> {
  const server = spawnServer(['--port', '0', ...args]);
  try {
    const ready = await listening(server);
    return { server, url: ready.url, ready };
  } catch (error) {
    await server.process.killGroup();
    throw error;
  }
}

/** SIGTERM, then waits for the exit; returns the exit code. */
export async function stopServer(server: ServerProcess): Promise<number | null> {
  if (server.process.hasExited) return server.child.exitCode;
  server.process.signal('SIGTERM');
  return (await server.exited).code;
}

export interface GraphQLResponse<T> {
  readonly data?: T | null;
  readonly errors?: readonly { message: string; extensions?: { code?: string } }[];
}

/** One GraphQL operation over HTTP. */
export async function gql<T = { [field: string]: unknown }>(
  url: string,
  query: string,
  variables: object = {},
): Promise<GraphQLResponse<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GraphQLResponse<T>;
}

/** Like `gql`, throwing on any error. */
export async function must<T = { [field: string]: unknown }>(
  url: string,
  query: string,
  variables: object = {},
): Promise<T> {
  const result = await gql<T>(url, query, variables);
  if (result.errors !== undefined || result.data == null) throw new Error(JSON.stringify(result.errors));
  return result.data;
}

/** Every demo view's rows and `views { id version rowCount hash }`. */
export function allViews(url: string): Promise<AllViewsQuery> {
  return must<AllViewsQuery>(url, print(AllViewsDocument));
}

/** Every record in a store file (which no server may hold), by table then id. */
export function readStoreFile(file: string): Map<string, Map<string, EngineRecord>> {
  const store = openStore({ file, lockTimeoutMs: 2000 });
  try {
    const tables = new Map<string, Map<string, EngineRecord>>();
    for (const { table, id, data } of store.load()) {
      let records = tables.get(table);
      if (records === undefined) tables.set(table, (records = new Map()));
      records.set(id, data as EngineRecord);
    }
    return tables;
  } finally {
    store.close();
  }
}
