import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, StoreError, type StoreErrorCode } from '../../storage/index.js';
import { killProcessGroups } from '../process-groups.js';
import { canRunAsNobody, digest, listing, runChild, runChildToEnd, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
});
afterEach(async () => {
  await killProcessGroups();
  cleanup();
});

function openError(file: string): StoreError {
  try {
    openStore({ file, lockTimeoutMs: 100 }).close();
  } catch (error) {
    expect(error).toBeInstanceOf(StoreError);
    return error as StoreError;
  }
  throw new Error(`openStore(${file}) succeeded`);
}

/** Expects openStore to fail with `code` and to leave the directory (names and bytes) as it was. */
function expectRefused(file: string, code: StoreErrorCode, message: RegExp): StoreError {
  const before = listing(dir).map((name) => [name, digest(join(dir, name))]);
  const error = openError(file);
  expect(error.code).toBe(code);
  expect(error.message).toMatch(message);
  expect(error.file).toBe(file);
  expect(listing(dir).map((name) => [name, digest(join(dir, name))])).toEqual(before);
  return error;
}

function makeStore(file: string, records = 3): void {
  const store = openStore({ file });
  store.commit(
    Array.from({ length: records }, (_, i) => ({
      table: 't',
      op: 'CREATE' as const,
      id: `r${i}`,
      record: { id: `r${i}`, i },
    })),
  );
  store.close();
}

describe('openStore refuses bad files and leaves them untouched', () => {
  it('garbage file → NOT_A_DATABASE', () => {
    const file = join(dir, 'garbage.sqlite');
    writeFileSync(file, randomBytes(8192));
    const error = expectRefused(file, 'NOT_A_DATABASE', /not a SQLite database/);
    expect(error.exitCode).toBe(65);
    writeFileSync(file, 'hello, I am a text file\n');
    expectRefused(file, 'NOT_A_DATABASE', /not a SQLite database/);
    writeFileSync(file, 'SQLite');
    expectRefused(file, 'NOT_A_DATABASE', /not a SQLite database/);
  });

  it('a SQLite header followed by garbage → NOT_A_DATABASE or CORRUPT, untouched', () => {
    const file = join(dir, 'fake.sqlite');
    writeFileSync(file, Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), randomBytes(8192)]));
    const error = openError(file);
    expect(['NOT_A_DATABASE', 'CORRUPT']).toContain(error.code);
    expect(listing(dir)).toEqual(['fake.sqlite']);
  });

  it("another application's SQLite database → NOT_A_STORE (not switched to WAL)", () => {
    const file = join(dir, 'other.sqlite');
    const raw = new Database(file);
    raw.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES (1)');
    raw.close();
    expectRefused(file, 'NOT_A_STORE', /not a live-views store \(tables: customers\)/);
  });

  it('incompatible schema version → INCOMPATIBLE_VERSION', () => {
    const file = join(dir, 'live.sqlite');
    makeStore(file);
    const raw = new Database(file);
    raw.prepare("UPDATE meta SET value = '2' WHERE key = 'schema_version'").run();
    raw.close();
    const error = expectRefused(
      file,
      'INCOMPATIBLE_VERSION',
      /storage format version 2, but this server reads version 1/,
    );
    expect(error.exitCode).toBe(65);
  });

  it('locked by another running process → LOCKED; released when that process dies, even by SIGKILL', async () => {
    const file = join(dir, 'live.sqlite');
    makeStore(file);
    const holder = runChild(['hold', file]);
    try {
      expect(JSON.parse(await holder.waitForLine((l) => l.startsWith('{')))).toMatchObject({ ok: true, epoch: 2 });
      expect(listing(dir)).toEqual(['live.sqlite', 'live.sqlite-wal']); // WAL in use, no -shm (exclusive mode)
      const error = expectRefused(
        file,
        'LOCKED',
        /locked by another process \(is another server running on this file\?\)/,
      );
      expect(error.exitCode).toBe(75);
      // a third process is refused too, with the same message and exit code
      const third = await runChildToEnd(['open', file]);
      expect(third.report).toMatchObject({ ok: false, code: 'LOCKED' });
      expect(third.exitCode).toBe(75);
    } finally {
      await holder.killGroup();
    }
    const store = openStore({ file });
    expect(store.epoch).toBe(3);
    // the holder's commit (made before it reported ready, so while it held the lock) survived its SIGKILL
    expect(store.tables()).toEqual([
      { table: 'held', count: 1 },
      { table: 't', count: 3 },
    ]);
    store.close();
  });

  it('a running server also keeps out a second store in the same process', () => {
    const file = join(dir, 'live.sqlite');
    const store = openStore({ file });
    try {
      expect(openError(file).code).toBe('LOCKED');
    } finally {
      store.close();
    }
  });

  describe('read-only directory → READ_ONLY', () => {
    const asRoot = process.getuid?.() === 0;
    const nobody = asRoot && canRunAsNobody();
    // As root, permission bits do not stop writes, so the attempt runs in a child process as
    // `nobody` (uid 65534). Without root, chmod is enough and the attempt runs in this process.
    const skip = asRoot && !nobody;
    if (skip)
      console.warn('read-only directory tests skipped: running as root and cannot spawn a child as nobody (uid 65534)');

    async function attempt(
      file: string,
    ): Promise<{ code: string | undefined; message: string; exitCode: number | null }> {
      if (nobody) {
        const { report, exitCode } = await runChildToEnd(['open', file], { uid: 65534, gid: 65534 });
        return { code: report.code, message: report.message ?? '', exitCode };
      }
      const error = openError(file);
      return { code: error.code, message: error.message, exitCode: error.exitCode };
    }

    it.skipIf(skip)('existing store in a read-only directory, a missing file, and a missing subdirectory', async () => {
      chmodSync(dir, 0o755); // let `nobody` traverse the temp directory
      const ro = join(dir, 'ro');
      mkdirSync(ro);
      const file = join(ro, 'live.sqlite');
      makeStore(file);
      const before = digest(file);
      chmodSync(file, 0o644);
      chmodSync(ro, 0o555);
      try {
        const existing = await attempt(file);
        expect(existing).toMatchObject({ code: 'READ_ONLY', exitCode: 73 });
        expect(existing.message).toMatch(/directory .*ro is not writable/);
        expect(digest(file)).toBe(before);
        expect(listing(ro)).toEqual(['live.sqlite']);

        const missing = await attempt(join(ro, 'new.sqlite'));
        expect(missing).toMatchObject({ code: 'READ_ONLY', exitCode: 73 });
        const nested = await attempt(join(ro, 'sub/new.sqlite'));
        expect(nested).toMatchObject({ code: 'READ_ONLY', exitCode: 73 });
        expect(nested.message).toMatch(/cannot create the directory/);
        expect(listing(ro)).toEqual(['live.sqlite']);
      } finally {
        chmodSync(ro, 0o755);
      }
    });
  });
});
