import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { markdownList } from './markdown.js';

/** Where and how a benchmark ran, for the header of its report. Generic: no engine imports. */
export interface RunEnvironment {
  readonly date: string;
  readonly node: string;
  readonly v8: string;
  readonly platform: string;
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly heapLimitMiB: number;
  /** 1-minute load average when the run started (other processes share the cores). */
  readonly loadAverage: number;
  readonly command: string;
}

/**
 * Describes the current process. `command` is what a reader types to reproduce the run;
 * environment variables whose name starts with one of `envPrefixes` are shown before it.
 */
export function describeEnvironment(command: string, envPrefixes: readonly string[] = ['BENCH_']): RunEnvironment {
  const cpus = os.cpus();
  const env = Object.entries(process.env)
    .filter(([name]) => envPrefixes.some((prefix) => name.startsWith(prefix)))
    .map(([name, value]) => `${name}=${value ?? ''}`)
    .sort();
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    memoryGiB: os.totalmem() / 2 ** 30,
    heapLimitMiB: v8.getHeapStatistics().heap_size_limit / 2 ** 20,
    loadAverage: os.loadavg()[0] ?? 0,
    command: [...env, command].join(' '),
  };
}

export function environmentMarkdown(env: RunEnvironment): string {
  const loadAtEnd = os.loadavg()[0] ?? 0;
  return markdownList([
    `Date: ${env.date}`,
    `Command: \`${env.command}\``,
    `Node.js ${env.node} (V8 ${env.v8}), ${env.platform}`,
    `Machine: ${env.cores} cores (${env.cpuModel}), ${env.memoryGiB.toFixed(1)} GiB RAM, V8 heap limit ${Math.round(env.heapLimitMiB)} MiB`,
    `Load average (1 min) at start / end: ${env.loadAverage.toFixed(2)} / ${loadAtEnd.toFixed(2)}` +
      (Math.max(env.loadAverage, loadAtEnd) > env.cores
        ? ` (above ${env.cores}: other processes competed for the cores)`
        : ''),
  ]);
}

/**
 * Makes sure the process runs with at least `heapMiB` of V8 heap and a callable `gc`:
 * when it does not, runs this same script again in a child node with those flags and exits
 * with its status (so `tsx script.ts` works without NODE_OPTIONS). Returns in the child.
 */
export function ensureNodeFlags(options: { heapMiB: number }): void {
  const limitMiB = v8.getHeapStatistics().heap_size_limit / 2 ** 20;
  if (limitMiB >= options.heapMiB * 0.9 || process.env.__BENCH_REEXEC === '1') return;
  const args = [
    ...process.execArgv,
    `--max-old-space-size=${options.heapMiB}`,
    '--expose-gc',
    ...process.argv.slice(1),
  ];
  const child = spawnSync(process.execPath, args, { stdio: 'inherit', env: { ...process.env, __BENCH_REEXEC: '1' } });
  process.exit(child.status ?? 1);
}

/** A full garbage collection when the runtime allows one (`--expose-gc`), else nothing. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc ?? exposedGc();
  gc?.();
}

let cachedGc: (() => void) | undefined | null = null;
function exposedGc(): (() => void) | undefined {
  if (cachedGc === null) {
    try {
      v8.setFlagsFromString('--expose-gc');
      cachedGc = vm.runInNewContext('gc') as () => void;
    } catch {
      cachedGc = undefined;
    }
  }
  return cachedGc;
}

/** Writes a report, creating its folder. Returns the path written. */
export function writeReport(file: string, text: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
  return file;
}

/** Integers from a comma-separated environment variable (`10000,100000`), or the default. */
export function envIntegers(name: string, fallback: readonly number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return [...fallback];
  const values = raw.split(',').map((part) => Number(part.trim().replace(/_/g, '')));
  for (const value of values) {
    if (!Number.isSafeInteger(value) || value <= 0)
      throw new Error(`${name}: '${raw}' is not a list of positive integers`);
  }
  return values;
}

/** A positive number from an environment variable, or the default. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}: '${raw}' is not a positive number`);
  return value;
}
