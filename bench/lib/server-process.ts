import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** One JSON log line of `server/main.ts`. */
export type ServerLog = { readonly msg?: string; readonly level?: string; readonly [field: string]: unknown };

export interface ServerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly url: string;
  /** The `listening` line (with `startupMs`, `records`, …). */
  readonly ready: ServerLog;
  /** From spawn to the `listening` line, in ms (process start, module loading, data load, views, port). */
  readonly wallMs: number;
  readonly logs: ServerLog[];
  /** SIGTERM, then the `stopped` line (null if it exited without one). */
  stop(): Promise<ServerLog | null>;
}

/** Spawns `server/main.ts` (through tsx, as `npm start` does) from `root` and waits until it listens. */
export async function startServerProcess(
  root: string,
  args: readonly string[],
  nodeArgs: readonly string[] = [],
): Promise<ServerProcess> {
  const started = performance.now();
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', 'server/main.ts', '--port', '0', ...args], {
    cwd: root,
  });
  const logs: ServerLog[] = [];
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const ready = await new Promise<ServerLog>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const entry = JSON.parse(line) as ServerLog;
      logs.push(entry);
      if (entry.msg === 'listening') resolve(entry);
      else if (entry.level === 'error' || entry.level === 'warn') process.stderr.write(`server: ${line}\n`);
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${stderr}`)));
  });
  const wallMs = performance.now() - started;
  return {
    child,
    url: String(ready['url']),
    ready,
    wallMs,
    logs,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      return logs.find((log) => log.msg === 'stopped') ?? null;
    },
  };
}

/**
 * CPU seconds (user + system) a process has used, from /proc (Linux); NaN elsewhere. Other
 * processes on the machine slow the wall clock down; CPU time is what the server itself costs.
 */
export function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** Peak resident set size of a process in MiB (VmHWM, Linux); NaN elsewhere. */
export function peakRssMiB(pid: number | undefined): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('VmHWM:'));
    return Number(line?.split(/\s+/)[1]) / 1024;
  } catch {
    return Number.NaN;
  }
}
