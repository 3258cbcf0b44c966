import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { openStore } from '../../storage/index.js';
import { killProcessGroups } from '../process-groups.js';
import {
  canRunAsNobody,
  digest,
  listing,
  must,
  spawnServer,
  startServerProcess,
  stopServer,
  tempDir,
} from './helpers.js';

/**
 * Bad data files, through the real server CLI (`server/main.ts --data <file>`): each is
 * refused before the port opens with its message on stderr and its exit code, and the
 * file's bytes are unchanged (no -wal or -journal left beside it).
 */
let dir: string;
let cleanup: () => void;

beforeAll(() => {
  ({ dir, cleanup } = tempDir('durability-bad-files-'));
  chmodSync(dir, 0o755); // `nobody` must traverse it (read-only test)
});
afterEach(killProcessGroups);
afterAll(() => cleanup());

/** Runs the server on `file` (as `uid` when given) and expects a refusal; returns exit code and stderr. */
async function refused(
  file: string,
  options: { uid?: number; gid?: number } = {},
): Promise<{ code: number | null; stderr: string; logs: string[] }> {
  const server = spawnServer(['--port', '0', '--data', file], options);
  const { code, signal } = await server.exited;
  expect(signal).toBeNull();
  expect(server.logs.map((log) => log.msg)).not.toContain('listening');
  return { code, stderr: server.stderr(), logs: server.logs.map((log) => String(log.msg)) };
}

test('a file that is not a SQLite database: exit 65, untouched', async () => {
  const sub = join(dir, 'garbage');
  mkdirSync(sub);
  const file = join(sub, 'live.sqlite');
  writeFileSync(file, randomBytes(8192));
  const before = digest(file);
  const { code, stderr, logs } = await refused(file);
  expect(code).toBe(65);
  expect(stderr).toContain('is not a SQLite database');
  expect(logs).toEqual(['cannot open the data file']);
  expect(digest(file)).toBe(before);
  expect(listing(sub)).toEqual(['live.sqlite']);
});

test("another application's SQLite database, and a store of another format version: exit 65, untouched", async () => {
  const sub = join(dir, 'foreign');
  mkdirSync(sub);
  const foreign = join(sub, 'other.sqlite');
  const db = new Database(foreign);
  db.exec("CREATE TABLE accounts (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO accounts (name) VALUES ('x')");
  db.close();
  const foreignBefore = digest(foreign);
  const other = await refused(foreign);
  expect(other.code).toBe(65);
  expect(other.stderr).toContain('not a live-views store');
  expect(digest(foreign)).toBe(foreignBefore);

  const future = join(sub, 'future.sqlite');
  openStore({ file: future }).close();
  const raw = new Database(future);
  raw.prepare("UPDATE meta SET value = '99' WHERE key = 'schema_version'").run();
  raw.close();
  const futureBefore = digest(future);
  const incompatible = await refused(future);
  expect(incompatible.code).toBe(65);
  expect(incompatible.stderr).toMatch(/storage format version 99, but this server reads version 1/);
  expect(digest(future)).toBe(futureBefore);
  expect(listing(sub)).toEqual(['future.sqlite', 'other.sqlite']);
});

test('a file held by a running server: exit 75, untouched, and the running server carries on', async () => {
  const sub = join(dir, 'locked');
  mkdirSync(sub);
  const file = join(sub, 'live.sqlite');
  const holder = await startServerProcess(['--data', file]);
  try {
    await must(
      holder.url,
      'mutation { createUser(input: { id: "u1", name: "Ann", email: "a@example.com", role: "admin", active: true }) { id } }',
    );
    const before = listing(sub).map((name) => `${name}:${digest(join(sub, name))}`);
    const second = await refused(file);
    expect(second.code).toBe(75);
    expect(second.stderr).toContain('is locked by another process (is another server running on this file?)');
    expect(listing(sub).map((name) => `${name}:${digest(join(sub, name))}`)).toEqual(before);
    expect(await must(holder.url, '{ user(id: "u1") { name } }')).toEqual({ user: { name: 'Ann' } });
  } finally {
    expect(await stopServer(holder.server)).toBe(0);
  }
});

const asRoot = process.getuid?.() === 0;
const nobody = asRoot && canRunAsNobody();
// As root, permission bits do not stop writes, so the server runs as `nobody` (uid 65534).
const skipReadOnly = asRoot && !nobody;
if (skipReadOnly)
  console.warn('read-only directory test skipped: running as root and cannot spawn a child as nobody (uid 65534)');

test.skipIf(skipReadOnly)('a store in a read-only directory: exit 73, untouched', async () => {
  const ro = join(dir, 'ro');
  mkdirSync(ro);
  const file = join(ro, 'live.sqlite');
  openStore({ file }).close();
  const before = digest(file);
  chmodSync(file, 0o644);
  chmodSync(ro, 0o555);
  try {
    const { code, stderr } = await refused(file, nobody ? { uid: 65534, gid: 65534 } : {});
    expect(code).toBe(73);
    expect(stderr).toMatch(/directory .*ro is not writable/);
    expect(digest(file)).toBe(before);
    expect(listing(ro)).toEqual(['live.sqlite']);
  } finally {
    chmodSync(ro, 0o755);
  }
});
