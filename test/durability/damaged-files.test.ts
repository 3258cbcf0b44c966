import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { killProcessGroups } from '../process-groups.js';
import { digest, listing, must, spawnServer, startServerProcess, stopServer, tempDir } from './helpers.js';

/**
 * Damaged data files, through the real server CLI. One real file is written by a server (users
 * and posts through GraphQL, then a graceful stop); each test damages a copy in one way — a
 * flipped B-tree page, a record's broken JSON, a field of the wrong type, an unknown or a
 * missing field, a record stored under another id — and the server refuses it before the port
 * opens: exit 65, the table and id at fault on stderr, the file's bytes and its directory as
 * they were. A table the config does not list is not damage: it is kept and not served.
 */
let dir: string;
let cleanup: () => void;
let original: string;

const BATCH = 'mutation($changes: [ChangeInput!]!) { ingestBatch(changes: $changes) { ids } }';

beforeAll(async () => {
  ({ dir, cleanup } = tempDir('durability-damaged-'));
  original = join(dir, 'original.sqlite');
  const { server, url } = await startServerProcess(['--data', original]);
  const users = Array.from({ length: 60 }, (_, i) => {
    const id = `u${String(i).padStart(3, '0')}`;
    return {
      table: 'users',
      op: 'CREATE',
      id,
      data: { name: `User ${i}`, email: `${id}@example.com`, role: 'dev', active: i % 2 === 0 },
    };
  });
  const posts = Array.from({ length: 240 }, (_, i) => {
    const id = `p${String(i).padStart(3, '0')}`;
    return {
      table: 'posts',
      op: 'CREATE',
      id,
      data: {
        authorId: `u${String(i % 60).padStart(3, '0')}`,
        title: `Post ${i} ${'words '.repeat(10)}`,
        published: true,
        likes: i,
      },
    };
  });
  const changes = [...users, ...posts];
  for (let i = 0; i < changes.length; i += 100) await must(url, BATCH, { changes: changes.slice(i, i + 100) });
  expect(await stopServer(server)).toBe(0);
});
afterEach(killProcessGroups);
afterAll(async () => {
  await killProcessGroups(); // the one beforeAll started, had it failed
  cleanup();
});

/** A copy of the real file, alone in its own directory, damaged by `damage`. */
function damagedCopy(name: string, damage: (file: string) => void): string {
  const sub = join(dir, name);
  mkdirSync(sub);
  const file = join(sub, 'live.sqlite');
  copyFileSync(original, file);
  damage(file);
  expect(listing(sub)).toEqual(['live.sqlite']);
  return file;
}

/** Damages the file with SQL, as another program (or a bad disk block) could. */
const withSql =
  (sql: string, ...params: unknown[]) =>
  (file: string) => {
    const db = new Database(file);
    db.prepare(sql).run(...params);
    db.close();
  };
const setPost = (id: string, data: object | string) =>
  withSql(
    "UPDATE records SET data = ? WHERE tbl = 'posts' AND id = ?",
    typeof data === 'string' ? data : JSON.stringify(data),
    id,
  );
const post = (id: string, fields: object = {}) => ({
  id,
  authorId: 'u002',
  title: `Post ${id}`,
  published: true,
  likes: 2,
  ...fields,
});

/** Runs the server on `file`; expects exit 65 before listening, `message` on stderr, and the file and its directory unchanged. */
async function expectRefused(file: string, message: RegExp): Promise<void> {
  const sub = join(file, '..');
  const before = digest(file);
  const server = spawnServer(['--port', '0', '--data', file]);
  const { code, signal } = await server.exited;
  expect(signal).toBeNull();
  expect(server.logs.map((log) => log.msg)).toEqual(['cannot open the data file']);
  expect(server.stderr()).toMatch(message);
  expect(server.stderr()).toContain('left untouched');
  expect(code).toBe(65);
  expect(digest(file)).toBe(before);
  expect(listing(sub)).toEqual(['live.sqlite']);
}

test('a flipped B-tree page of the records: exit 65, the last record read before it named, untouched', async () => {
  const file = damagedCopy('flipped-page', (path) => {
    const db = new Database(path);
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const leaves = db
      .prepare<[], { pageno: number }>("SELECT pageno FROM dbstat WHERE name = 'records' AND pagetype = 'leaf'")
      .all();
    db.close();
    expect(leaves.length).toBeGreaterThan(5);
    const page = (leaves[5] as { pageno: number }).pageno;
    const bytes = readFileSync(path);
    for (let i = (page - 1) * pageSize; i < page * pageSize; i++) bytes[i] = (bytes[i] as number) ^ 0xff;
    writeFileSync(path, bytes);
  });
  await expectRefused(file, /is damaged: the record after (posts|users) '[pu]\d{3}' cannot be read/);
});

test.each([
  [
    'broken JSON',
    setPost('p042', '{"id":"p042","authorId":"u002","title":'),
    /record posts 'p042': its JSON does not parse/,
  ],
  ['JSON that is not an object', setPost('p042', '"p042"'), /record posts 'p042': it is not a JSON object/],
  ['a record stored under another id', setPost('p042', post('p043')), /record posts 'p042': its id field is "p043"/],
  ['a field of the wrong type', setPost('p042', post('p042', { likes: 'xx' })), /posts 'p042': field 'likes'/],
  ['an unknown field', setPost('p042', post('p042', { rating: 5 })), /posts 'p042': unknown field 'rating'/],
  [
    'a required field missing',
    setPost('p042', { id: 'p042', authorId: 'u002', published: true, likes: 2 }),
    /posts 'p042': field 'title'/,
  ],
  [
    'an id the file cannot hold (lone surrogate)',
    withSql(
      "INSERT INTO records (tbl, id, data) VALUES ('users', ?, ?)",
      'u\uFFFD',
      JSON.stringify({ id: 'u\uD800', name: 'n', email: 'e', role: 'r', active: true, age: null }),
    ),
    /record users 'u\uFFFD': its id field is "u\\ud800"/,
  ],
])('%s: exit 65, the table and id named, untouched', async (name, damage, message) => {
  await expectRefused(damagedCopy(name.replaceAll(' ', '-').replace(/[()]/g, ''), damage), message);
});

test('a table the config does not list is not damage: its records are kept, not served', async () => {
  const file = damagedCopy(
    'unknown-table',
    withSql("INSERT INTO records (tbl, id, data) VALUES ('ghosts', 'g1', ?)", JSON.stringify({ id: 'g1', boo: true })),
  );
  const { server, url } = await startServerProcess(['--data', file]);
  expect(server.logs).toContainEqual(expect.objectContaining({ level: 'warn', table: 'ghosts', records: 1 }));
  expect(await must(url, '{ usersCount { count } }')).toEqual({ usersCount: [{ count: 60 }] });
  expect(await stopServer(server)).toBe(0);
  const db = new Database(file, { readonly: true });
  expect(db.prepare("SELECT data FROM records WHERE tbl = 'ghosts'").pluck().all()).toEqual(['{"id":"g1","boo":true}']);
  db.close();
});
