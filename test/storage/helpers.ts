import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const childScript = join(repoRoot, 'test/storage/fixtures/store-child.ts');

/** A fresh temp directory, removed by the returned cleanup. */
export function tempDir(prefix = 'store-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A digest of a file's bytes (or 'missing'). */
export function digest(file: string): string {
  return existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : 'missing';
}

export function listing(dir: string): string[] {
  return readdirSync(dir).sort();
}

export interface Child {
  readonly process: ChildProcess;
  /** Complete stdout lines received so far. */
  readonly lines: string[];
  /** Resolves with the first line matching `test` (rejects if the child exits first). */
  waitFor(test: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

/** Runs test/storage/fixtures/store-child.ts in a real second Node process. */
export function runChild(args: string[], options: { uid?: number; gid?: number } = {}): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', childScript, ...args], {
    cwd: repoRoot,
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
  });
  const lines: string[] = [];
  let partial = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    for (const wake of waiters) wake();
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    child.on('exit', (code, signal) => {
      for (const wake of waiters) wake();
      done({ code, signal });
    });
  });
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  const waitFor = (test: (line: string) => boolean, timeoutMs = 30_000) =>
    new Promise<string>((resolvePromise, reject) => {
      const timer = setTimeout(
        () => finish(new Error(`timed out waiting for the child; stdout: ${lines.join('\n')} stderr: ${err}`)),
        timeoutMs,
      );
      const finish = (error?: Error, line?: string) => {
        clearTimeout(timer);
        waiters.delete(check);
        if (error) reject(error);
        else resolvePromise(line as string);
      };
      const check = () => {
        const line = lines.find(test);
        if (line !== undefined) finish(undefined, line);
        else if (hasExited || child.exitCode !== null || child.signalCode !== null)
          finish(
            new Error(
              `the child exited (${child.exitCode ?? child.signalCode}); stdout: ${lines.join('\n')} stderr: ${err}`,
            ),
          );
      };
      waiters.add(check);
      check();
    });
  return { process: child, lines, waitFor, exited, stderr: () => err };
}

/** Runs the child to completion and returns its JSON report and exit code. */
export async function runChildToEnd(args: string[], options: { uid?: number; gid?: number } = {}) {
  const child = runChild(args, options);
  child.process.stdin?.end();
  const { code } = await child.exited;
  const line = child.lines.find((l) => l.startsWith('{'));
  if (line === undefined) throw new Error(`no report from the child (exit ${code}); stderr: ${child.stderr()}`);
  return {
    report: JSON.parse(line) as { ok: boolean; code?: string; message?: string; epoch?: number },
    exitCode: code,
  };
}

/** Whether a child can run as `nobody` (root spawning with another uid) — the only way to test permissions as root. */
export function canRunAsNobody(): boolean {
  const result = spawnSync(process.execPath, ['-e', 'process.exit(process.getuid() === 65534 ? 0 : 1)'], {
    uid: 65534,
    gid: 65534,
    cwd: repoRoot,
  });
  return result.status === 0;
}
