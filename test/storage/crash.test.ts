import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../storage/index.js';
import { killProcessGroups } from '../process-groups.js';
import { runChild, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
});
afterEach(async () => {
  await killProcessGroups(); // before the directory goes: a writer left running would grow a deleted file
  cleanup();
});

/**
 * A writer's pace depends on the machine: on a busy 2-core one, 3,000 commits can take minutes.
 * Readiness is the count of acknowledgements, whatever time it takes; this only bounds a hang.
 */
const CRASH_TIMEOUT_MS = 300_000;

/** Starts a writer child, SIGKILLs it once it acknowledged `killAfter` commits, and returns the acknowledged ids. */
async function crashWriter(
  mode: 'commit-loop' | 'group-loop',
  file: string,
  durability: 'process' | 'power',
  killAfter: number,
): Promise<string[]> {
  const child = runChild([mode, file, durability]);
  await child.waitForLine((line) => line.startsWith('{'));
  await child.waitForLine((line) => line === `ack ${killAfter}`);
  child.signal('SIGKILL');
  const { signal } = await child.exited;
  expect(signal).toBe('SIGKILL');
  return child.lines.filter((line) => line.startsWith('ack ')).map((line) => line.slice(4));
}

describe('kill -9 in the middle of a stream of commits', () => {
  for (const [durability, killAfter] of [
    ['process', 50],
    ['process', 2000],
    ['power', 300],
  ] as const) {
    it(
      `every acknowledged batch is there, every batch whole (durability ${durability}, killed after ~${killAfter} commits)`,
      async () => {
        const file = join(dir, 'live.sqlite');
        const acked = await crashWriter('commit-loop', file, durability, killAfter);
        const store = openStore({ file });
        try {
          expect(store.epoch).toBe(2);
          const batches = new Map<number, number>();
          for (const record of store.load()) {
            const { i } = record.data as { i: number };
            batches.set(i, (batches.get(i) ?? 0) + 1);
          }
          for (const i of acked) expect(batches.get(Number(i)), `acknowledged batch ${i}`).toBe(3);
          for (const [i, count] of batches) expect(count, `batch ${i} is whole`).toBe(3);
          // batches are committed in order: what is stored is a prefix 0..n
          expect(Math.max(...batches.keys()) + 1).toBe(batches.size);
          expect(batches.size).toBeGreaterThanOrEqual(acked.length);
        } finally {
          store.close();
        }
      },
      CRASH_TIMEOUT_MS,
    );
  }

  it(
    'group commit: every acknowledged request survives a SIGKILL',
    async () => {
      const file = join(dir, 'live.sqlite');
      const acked = await crashWriter('group-loop', file, 'process', 3000);
      const store = openStore({ file });
      try {
        const stored = new Set([...store.load()].map((r) => r.id));
        expect(acked.length).toBeGreaterThan(3000);
        for (const id of acked) expect(stored.has(id), `acknowledged ${id}`).toBe(true);
      } finally {
        store.close();
      }
    },
    CRASH_TIMEOUT_MS,
  );
});
