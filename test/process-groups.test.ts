import { existsSync, readFileSync } from 'node:fs';
import { afterEach, expect, test } from 'vitest';
import { killProcessGroups, spawnProcess } from './process-groups.js';

/**
 * The cleanup every process-starting test relies on: it kills what a child started too (a
 * shell's background job here, `npm start`'s node in real life), not only the child.
 */
afterEach(killProcessGroups);

/** Alive and not a zombie waiting to be reaped. */
function running(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (!existsSync(stat)) return false;
  const state = readFileSync(stat, 'utf8').split(') ')[1]?.[0];
  return state !== 'Z' && state !== 'X';
}

test('killProcessGroups kills a child and what it started, even after the child itself exited', async () => {
  // The shell starts a background sleep, prints its pid and exits: the sleep lives on in the group.
  const shell = spawnProcess('sh', ['-c', 'sleep 300 >/dev/null 2>&1 & echo $!'], { cwd: process.cwd() });
  const pid = Number(await shell.waitForLine((line) => /^\d+$/.test(line)));
  expect((await shell.exited).code).toBe(0);
  expect(running(pid)).toBe(true);
  await killProcessGroups();
  for (let i = 0; running(pid) && i < 500; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(running(pid)).toBe(false);
});

test('waitForLine rejects when the process exits without printing the line', async () => {
  const shell = spawnProcess('sh', ['-c', 'echo starting; exit 3'], { cwd: process.cwd() });
  await expect(shell.waitForLine((line) => line === 'ready')).rejects.toThrow(/exited \(3\).*starting/s);
});
