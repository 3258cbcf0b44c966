import { execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** The engine module's shape, whichever commit it comes from. */
export type EngineModule = typeof import('../../engine/index.js');

/**
 * The engine of another commit (`git archive <revision> engine`), imported beside the
 * current one so a benchmark can compare the two designs in one process, on the same data.
 */
export async function importEngineAt(revision: string): Promise<EngineModule> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'engine-baseline-'));
  execFileSync('sh', ['-c', `git archive "$1" engine | tar -x -C "$2"`, 'sh', revision, dir]);
  symlinkSync(path.resolve('node_modules'), path.join(dir, 'node_modules'));
  return (await import(pathToFileURL(path.join(dir, 'engine', 'index.ts')).href)) as EngineModule;
}
