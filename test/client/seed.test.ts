import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, expect, test } from 'vitest';
import { killProcessGroups, spawnProcess, type TestProcess } from '../process-groups.js';
import { repoRoot } from '../storage/helpers.js';

/**
 * The demo data: plain `npm start` seeds it when it creates its default data file (and only
 * then: a restart on that file adds nothing); `--memory` and `--data FILE` start empty unless
 * `--seed` is given.
 */

const dirs: string[] = [];
afterEach(async () => {
  await killProcessGroups();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'client-seed-'));
  dirs.push(dir);
  return dir;
}

/** `server/main.ts` run from `cwd` (so `./data/live.sqlite` is there) until it listens; returns the user count. */
async function start(cwd: string, args: string[]): Promise<{ server: TestProcess; users: number; seeded: boolean }> {
  const loader = pathToFileURL(join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
  const server = spawnProcess(
    process.execPath,
    ['--import', loader, join(repoRoot, 'server', 'main.ts'), '--port', '0', ...args],
    { cwd, env: withoutData },
  );
  const line = await server.waitForLine((text) => text.includes('"msg":"listening"'));
  const url = (JSON.parse(line) as { url: string }).url;
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ usersCount { count } }' }),
  });
  const body = (await response.json()) as { data: { usersCount: { count: number }[] } };
  const seeded = server.lines.some((text) => text.includes('"msg":"seeded the demo data"'));
  return { server, users: body.data.usersCount[0]?.count ?? -1, seeded };
}

const { DATA: _, ...withoutData } = process.env;

async function stop(server: TestProcess): Promise<void> {
  server.signal('SIGTERM');
  await server.exited;
}

test('plain start seeds the default data file it creates, and only then', async () => {
  const cwd = tempDir();
  const first = await start(cwd, []);
  expect(first).toMatchObject({ users: 12, seeded: true });
  await stop(first.server);
  const again = await start(cwd, []);
  expect(again).toMatchObject({ users: 12, seeded: false });
});

test('--memory and --data start empty; --seed fills them', async () => {
  const cwd = tempDir();
  expect(await start(cwd, ['--memory'])).toMatchObject({ users: 0, seeded: false });
  expect(await start(cwd, ['--data', join(cwd, 'own.sqlite')])).toMatchObject({ users: 0, seeded: false });
  expect(await start(cwd, ['--memory', '--seed'])).toMatchObject({ users: 12, seeded: true });
});
