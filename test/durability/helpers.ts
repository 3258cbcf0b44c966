import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { print } from 'graphql';
import type { Record as EngineRecord } from '../../engine/index.js';
import { openStore } from '../../storage/index.js';
import { AllViewsDocument, type AllViewsQuery } from '../graphql/generated/graphql.js';
import { repoRoot } from '../storage/helpers.js';

export { canRunAsNobody, digest, listing, tempDir } from '../storage/helpers.js';

/** One JSON log line of the server. */
export type LogLine = { readonly msg?: string; readonly level?: string; readonly [field: string]: unknown };

/** `server/main.ts` in a child process, as a user runs it. */
export interface ServerProcess {
  readonly child: ChildProcessWithoutNullStreams;
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
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...options.env },
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
  });
  const logs: LogLine[] = [];
  let err = '';
  createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      logs.push(JSON.parse(line) as LogLine);
    } catch {
      logs.push({ msg: line });
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, logs, exited, stderr: () => err };
}

/** Waits for the `listening` line; returns it (with `url`). */
async function listening(server: ServerProcess, timeoutMs = 60_000): Promise<LogLine & { url: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = server.logs.find((log) => log.msg === 'listening');
    if (line !== undefined) return line as LogLine & { url: string };
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      throw new Error(
        `the server exited (${server.child.exitCode ?? server.child.signalCode}) before listening: ${server.stderr()}`,
      );
    }
    if (Date.now() > deadline) throw new Error(`the server did not start within ${timeoutMs} ms: ${server.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
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
    server.child.kill('SIGKILL');
    throw error;
  }
}

/** SIGTERM, then waits for the exit; returns the exit code. */
export async function stopServer(server: ServerProcess): Promise<number | null> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return server.child.exitCode;
  server.child.kill('SIGTERM');
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
