import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnProcess, type TestProcess } from '../process-groups.js';

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

/** Runs test/storage/fixtures/store-child.ts in a real second Node process, as its own process group. */
export function runChild(args: string[], options: { uid?: number; gid?: number } = {}): TestProcess {
  return spawnProcess(process.execPath, ['--import', 'tsx', childScript, ...args], { cwd: repoRoot, ...options });
}

/** Runs the child to completion and returns its JSON report and exit code. */
export async function runChildToEnd(args: string[], options: { uid?: number; gid?: number } = {}) {
  const child = runChild(args, options);
  child.child.stdin.end();
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
