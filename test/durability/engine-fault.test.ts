import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { loadConfig } from '../../config/load.js';
import { hasParams } from '../../config/types.js';
import { type Record as EngineRecord, evaluateView, hashRows } from '../../engine/index.js';
import { killProcessGroups } from '../process-groups.js';
import { repoRoot } from '../storage/helpers.js';
import { allViews, gql, must, readStoreFile, startServerProcess, stopServer, tempDir } from './helpers.js';

/**
 * The engine fails midway through applying a change (a bug in an operator, injected by the
 * test's config module): the server must not go on serving views that may be half-updated. It
 * logs the view and the change and exits 70 (EX_SOFTWARE) without acknowledging or storing the
 * change; a restart on the file serves every view equal to the plain evaluator over what is stored.
 */
let dir: string;
let cleanup: () => void;
beforeAll(() => {
  ({ dir, cleanup } = tempDir('durability-engine-fault-'));
});
afterEach(killProcessGroups);
afterAll(() => cleanup());

const FAULTY = join(repoRoot, 'test/durability/fixtures/faulty-demo.ts');
const CREATE_USER =
  'mutation { createUser(input: { id: "u1", name: "Ann", email: "a@example.com", role: "admin", active: true }) { id } }';
const CREATE_POST = 'mutation($input: CreatePostInput!) { createPost(input: $input) { id } }';
const post = (id: string, title: string) => ({ id, authorId: 'u1', title, published: true, likes: 3 });

test('a fault while applying a change: exit 70, the change neither answered nor stored; a restart serves correct views', async () => {
  const file = join(dir, 'live.sqlite');
  const first = await startServerProcess(['--data', file, '--config', FAULTY]);
  await must(first.url, CREATE_USER);
  await must(first.url, CREATE_POST, { input: post('p1', 'fine') });

  // The process exits inside the request: no answer comes (the connection drops).
  const answer = await gql(first.url, CREATE_POST, { input: post('p2', 'FAULT') }).catch((error: unknown) => error);
  expect(answer).toBeInstanceOf(Error);
  expect(await first.server.exited).toEqual({ code: 70, signal: null });
  const fault = first.server.logs.find((log) => String(log.msg).startsWith('engine fault'));
  expect(fault).toMatchObject({
    level: 'error',
    view: 'postsPerAuthor',
    changes: [{ table: 'posts', op: 'CREATE', id: 'p2', data: post('p2', 'FAULT') }],
  });
  expect(first.server.logs.at(-1)).toMatchObject({ level: 'error', view: 'postsPerAuthor', table: 'posts', id: 'p2' });

  const tables = readStoreFile(file);
  expect([...(tables.get('posts')?.keys() ?? [])]).toEqual(['p1']);

  // The plain demo on the same file: every view equals the evaluator over the stored tables.
  const second = await startServerProcess(['--data', file]);
  try {
    const served = (await allViews(second.url)) as unknown as { [view: string]: unknown } & {
      views: { id: string; hash: string }[];
    };
    const { config } = await loadConfig();
    const stored = new Map([
      ['users', tables.get('users') ?? new Map<string, EngineRecord>()],
      ['posts', tables.get('posts') ?? new Map<string, EngineRecord>()],
    ]);
    for (const view of config.views.filter((v) => !hasParams(v))) {
      const expected = evaluateView(view, stored);
      expect(served[view.id], view.id).toEqual(expected);
      expect(served.views.find((v) => v.id === view.id)?.hash, view.id).toBe(hashRows(expected));
    }
  } finally {
    expect(await stopServer(second.server)).toBe(0);
  }
}, 300_000);
