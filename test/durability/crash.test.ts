import { createClient, type Client as WsClient } from 'graphql-ws';
import { afterEach, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../config/load.js';
import type { CheckedConfig } from '../../config/validate.js';
import { type Record as EngineRecord, evaluateView, hashRows } from '../../engine/index.js';
import { killProcessGroups } from '../process-groups.js';
import { allViews, type GraphQLResponse, must, type ServerProcess, startServerProcess, stopServer } from './helpers.js';
import { createTestStore, STORE_KINDS, type StoreKind, type TestStore } from './stores.js';

/**
 * Crash: the server (`server/main.ts` in its own process, on a SQLite file or a PostgreSQL
 * database of its own) takes concurrent
 * mutations from several clients — half over graphql-ws, half over HTTP, 8 in flight each —
 * and is killed with SIGKILL once a given number of them were answered.
 * Then, read from the file (or the database) itself:
 * - every mutation answered with data is there (its record, its value, its delete);
 * - every mutation answered with an error (CONFLICT, NOT_FOUND, an invalid change in a
 *   batch) is not, not even in part;
 * - a mutation without an answer (in flight at the kill) is wholly there or wholly absent:
 *   an ingestBatch touching two tables never half;
 * - nothing else is there.
 * After a restart on the same store, every view equals the plain evaluator over the stored
 * tables (rows and hash), and every version is at or above every version answered before the
 * kill (above it on SQLite, where a restart starts a new run of versions; on PostgreSQL
 * versions are log positions, so the restarted server's start is the log position it loaded).
 * Repeated at several kill points, on SQLite the last one with `--durability power`
 * (PostgreSQL's own settings decide there).
 */
const CLIENTS = 6;
const LANES = 8; // mutations in flight per client; each lane owns one post and its own users
const SEED_USERS = 20;
const KILL_POINTS: { readonly [kind in StoreKind]: readonly { acks: number; durability?: 'process' | 'power' }[] } = {
  sqlite: [
    { acks: 150, durability: 'process' },
    { acks: 1200, durability: 'process' },
    { acks: 2500, durability: 'power' },
  ],
  // Fewer, earlier kill points: a mutation there is a PostgreSQL transaction, several times slower.
  postgres: [{ acks: 150 }, { acks: 900 }],
};
/**
 * The kill points are counts of answers, reached whatever the machine's pace; on a busy 2-core
 * machine a round can take minutes, so the budget only bounds a hang.
 */
const CRASH_TIMEOUT_MS = 300_000;
const DELIBERATE = new Set(['CONFLICT', 'NOT_FOUND', 'BAD_USER_INPUT']);

type Outcome = 'ok' | 'error' | 'unknown';
interface Sent {
  readonly kind:
    | 'createUser'
    | 'createPost'
    | 'updatePost'
    | 'deleteUser'
    | 'conflict'
    | 'missing'
    | 'batch'
    | 'badBatch';
  /** Records it creates (table, record). */
  readonly creates: readonly { table: string; record: EngineRecord }[];
  /** Records it must never leave behind (ids of failing mutations). */
  readonly forbidden: readonly { table: string; id: string }[];
  readonly deletes?: { table: string; id: string };
  readonly post?: { id: string; seq: number };
  outcome: Outcome;
  detail?: string;
}

let checked: CheckedConfig;
const inFlightAtKill: { [kind in StoreKind]: number[] } = { sqlite: [], postgres: [] };
const stores: TestStore[] = [];

beforeAll(async () => {
  checked = await loadConfig();
});
afterEach(async () => {
  await killProcessGroups();
  for (const store of stores.splice(0)) await store.drop();
});

const CREATE_USER = 'mutation($input: CreateUserInput!) { createUser(input: $input) { id views { view version } } }';
const CREATE_POST = 'mutation($input: CreatePostInput!) { createPost(input: $input) { id views { view version } } }';
const UPDATE_POST =
  'mutation($id: ID!, $patch: PostPatch!) { updatePost(id: $id, patch: $patch) { id views { view version } } }';
const UPDATE_USER =
  'mutation($id: ID!, $patch: UserPatch!) { updateUser(id: $id, patch: $patch) { id views { view version } } }';
const DELETE_USER = 'mutation($id: ID!) { deleteUser(id: $id) { id views { view version } } }';
const BATCH = 'mutation($changes: [ChangeInput!]!) { ingestBatch(changes: $changes) { ids views { view version } } }';

const user = (id: string, n: number): EngineRecord => ({
  id,
  name: `N${n}`,
  email: `${id}@example.com`,
  role: 'member',
  active: n % 2 === 0,
  age: n % 90,
});
const seedUser = (i: number): EngineRecord => ({
  id: `s-u${i}`,
  name: `Seed ${i}`,
  email: `s${i}@example.com`,
  role: 'admin',
  active: true,
  age: 40,
});
const seedPost = (c: number, l: number): EngineRecord => ({
  id: `s-p${c}-${l}`,
  authorId: `s-u${(c + l) % SEED_USERS}`,
  title: `Post ${c}-${l}`,
  published: true,
  likes: 0,
});
const fields = ({ id: _id, ...rest }: EngineRecord) => rest;

for (const { kind, skip } of STORE_KINDS)
  for (const [round, { acks, durability }] of KILL_POINTS[kind].entries()) {
    test.skipIf(skip !== undefined)(
      `${kind}: SIGKILL after ${acks} answered mutations${durability === undefined ? '' : ` (durability ${durability})`}: nothing answered is lost, nothing refused is there`,
      async () => {
        const store = await createTestStore(kind, ['users', 'posts']);
        stores.push(store);
        const args = [...store.args, ...(durability === undefined ? [] : ['--durability', durability])];
        const first = await startServerProcess(args);
        const seedUsers = Array.from({ length: SEED_USERS }, (_, i) => seedUser(i));
        const seedPosts = Array.from({ length: CLIENTS * LANES }, (_, k) => seedPost(Math.floor(k / LANES), k % LANES));
        await must(first.url, BATCH, {
          changes: [
            ...seedUsers.map((record) => ({ table: 'users', op: 'CREATE', id: record.id, data: fields(record) })),
            ...seedPosts.map((record) => ({ table: 'posts', op: 'CREATE', id: record.id, data: fields(record) })),
          ],
        });

        const { sent, maxVersion } = await runUntilKilled(first.server, first.url, acks, round);
        const killed = await first.server.exited;
        expect(killed.signal).toBe('SIGKILL');
        const answered = sent.filter((s) => s.outcome !== 'unknown').length;
        expect(answered).toBeGreaterThanOrEqual(acks);
        inFlightAtKill[kind].push(sent.filter((s) => s.outcome === 'unknown').length);
        // Mutations in flight at the kill (sent, never answered): usually dozens at each kill point.
        if (round === KILL_POINTS[kind].length - 1)
          expect(
            inFlightAtKill[kind].some((count) => count > 0),
            `in flight: ${inFlightAtKill[kind].join(', ')}`,
          ).toBe(true);
        expect(sent.filter((s) => s.detail !== undefined).map((s) => s.detail)).toEqual([]);

        // The file (the database), as the kill left it.
        const tables = await store.read();
        const users = tables.get('users') ?? new Map<string, EngineRecord>();
        const posts = tables.get('posts') ?? new Map<string, EngineRecord>();
        const stored = (table: string, id: string) => (table === 'users' ? users : posts).get(id);
        const allowed = new Set([...seedUsers.map((r) => `users/${r.id}`), ...seedPosts.map((r) => `posts/${r.id}`)]);
        const deletedBy = new Map<string, Sent>();
        for (const s of sent) if (s.deletes !== undefined) deletedBy.set(`${s.deletes.table}/${s.deletes.id}`, s);
        const seq = new Map<string, { acked: number; unknown: number[] }>();
        for (const s of sent) {
          const where = `${s.kind} (${s.outcome})`;
          for (const { table, id } of s.forbidden)
            expect(stored(table, id), `${where}: ${table}/${id} must not exist`).toBeUndefined();
          if (s.kind === 'conflict')
            for (const { table, record } of s.creates)
              expect(stored(table, record.id)?.['name'], where).not.toBe('DUP');
          if (s.kind === 'conflict' || s.kind === 'missing' || s.kind === 'badBatch') {
            expect(s.outcome, `${where} must be refused`).not.toBe('ok');
            continue;
          }
          expect(s.outcome, where).not.toBe('error');
          // Whole or absent: all of its effects agree.
          const present: boolean[] = [];
          for (const { table, record } of s.creates) {
            allowed.add(`${table}/${record.id}`);
            const deletion = deletedBy.get(`${table}/${record.id}`);
            const found = stored(table, record.id);
            if (found !== undefined) expect(found, `${where}: ${table}/${record.id}`).toEqual(record);
            if (deletion === undefined) present.push(found !== undefined);
            else if (deletion.outcome === 'ok') expect(found, `${where}: deleted ${record.id}`).toBeUndefined();
            else if (found !== undefined) present.push(true); // a delete in flight: only its absence is ambiguous
          }
          if (s.post !== undefined) {
            const entry = seq.get(s.post.id) ?? { acked: 0, unknown: [] };
            if (s.outcome === 'ok') entry.acked = Math.max(entry.acked, s.post.seq);
            else entry.unknown.push(s.post.seq);
            seq.set(s.post.id, entry);
            if (s.kind === 'batch')
              present.push(
                stored('posts', s.post.id)?.['likes'] === s.post.seq ||
                  (stored('posts', s.post.id)?.['likes'] as number) > s.post.seq,
              );
          }
          if (s.deletes !== undefined && s.outcome === 'ok')
            expect(stored(s.deletes.table, s.deletes.id), where).toBeUndefined();
          if (s.outcome === 'ok')
            expect(present.every(Boolean), `${where}: every effect of an answered mutation is there`).toBe(true);
          else expect(new Set(present).size <= 1, `${where}: all or nothing`).toBe(true);
        }
        for (const [id, { acked, unknown }] of seq) {
          const likes = stored('posts', id)?.['likes'];
          expect([acked, ...unknown.filter((u) => u > acked)], `post ${id}: likes ${String(likes)}`).toContain(likes);
        }
        for (const [table, records] of tables)
          for (const id of records.keys())
            expect(allowed.has(`${table}/${id}`), `${table}/${id} was never sent`).toBe(true);

        // Restart: every view equals the evaluator over the stored tables; versions went up.
        const second = await startServerProcess(args);
        try {
          expect(second.ready['records']).toBe(users.size + posts.size);
          if (kind === 'sqlite') expect(second.ready['versionBase'] as number).toBeGreaterThan(maxVersion);
          else expect(second.ready['versionBase'] as number).toBeGreaterThanOrEqual(maxVersion);
          const after = readViews(await allViews(second.url));
          for (const view of checked.config.views.filter((v) => (v as { params?: unknown }).params === undefined)) {
            const expected = evaluateView(
              view,
              new Map([
                ['users', users],
                ['posts', posts],
              ]),
            );
            const served = after.get(view.id);
            expect(served?.rows, view.id).toEqual(expected);
            expect(served?.hash, view.id).toBe(hashRows(expected));
            expect(served?.version).toBe(second.ready['versionBase']);
          }
        } finally {
          expect(await stopServer(second.server)).toBe(0);
        }
      },
      CRASH_TIMEOUT_MS,
    );
  }

function readViews(
  result: Awaited<ReturnType<typeof allViews>>,
): Map<string, { rows: unknown[]; hash: string; version: number }> {
  const rows = result as unknown as { [view: string]: unknown[] };
  return new Map(
    result.views.map((info) => [info.id, { rows: rows[info.id] ?? [], hash: info.hash, version: info.version }]),
  );
}

/**
 * CLIENTS clients × LANES lanes send mutations back to back until `acks` are answered; the
 * server is killed `killDelayMs` later, and the lanes stop sending. Returns every mutation sent with its outcome.
 */
async function runUntilKilled(
  server: ServerProcess,
  url: string,
  acks: number,
  killDelayMs: number,
): Promise<{ sent: Sent[]; maxVersion: number }> {
  const sent: Sent[] = [];
  let answered = 0;
  let killed = false;
  let killing = false;
  let maxVersion = 0;
  const wsClients: WsClient[] = [];
  const send = async (
    c: number,
    query: string,
    variables: object,
  ): Promise<GraphQLResponse<{ [field: string]: { views?: { version: number }[] } }>> => {
    if (c % 2 === 0) {
      const client = (wsClients[c] ??= createClient({
        url: url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        retryAttempts: 0,
        lazy: true,
      }));
      return await new Promise((resolve, reject) => {
        let result: GraphQLResponse<never> | undefined;
        client.subscribe(
          { query, variables: variables as { [name: string]: unknown } },
          {
            next: (value) => void (result = value as GraphQLResponse<never>),
            error: reject,
            complete: () => (result === undefined ? reject(new Error('no result')) : resolve(result)),
          },
        );
      });
    }
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as GraphQLResponse<never>;
  };

  const lane = async (c: number, l: number): Promise<void> => {
    const post = `s-p${c}-${l}`;
    let postSeq = 0;
    const mine: string[] = []; // users this lane created and saw acknowledged
    for (let n = 0; !killed; n++) {
      const tag = `${c}.${l}.${n}`;
      let s: Sent;
      let query: string;
      let variables: object;
      const kind = n % 10;
      if (kind === 6 && mine.length > 0) {
        const id = mine.shift() as string;
        s = { kind: 'deleteUser', creates: [], forbidden: [], deletes: { table: 'users', id }, outcome: 'unknown' };
        [query, variables] = [DELETE_USER, { id }];
      } else if (kind === 3) {
        const record: EngineRecord = {
          id: `p.${tag}`,
          authorId: `s-u${n % SEED_USERS}`,
          title: `T${n}`,
          published: n % 3 !== 0,
          likes: n,
        };
        s = { kind: 'createPost', creates: [{ table: 'posts', record }], forbidden: [], outcome: 'unknown' };
        [query, variables] = [CREATE_POST, { input: record }];
      } else if (kind === 4 || kind === 5) {
        postSeq++;
        s = { kind: 'updatePost', creates: [], forbidden: [], post: { id: post, seq: postSeq }, outcome: 'unknown' };
        [query, variables] = [UPDATE_POST, { id: post, patch: { likes: postSeq, published: postSeq % 5 !== 0 } }];
      } else if (kind === 7) {
        const id = `s-u${n % SEED_USERS}`;
        s = {
          kind: 'conflict',
          creates: [{ table: 'users', record: { ...user(id, n), name: 'DUP' } }],
          forbidden: [],
          outcome: 'unknown',
        };
        [query, variables] = [CREATE_USER, { input: { ...user(id, n), name: 'DUP' } }];
      } else if (kind === 8) {
        postSeq++;
        const a = user(`b.${tag}.0`, n);
        const b = user(`b.${tag}.1`, n + 1);
        s = {
          kind: 'batch',
          creates: [
            { table: 'users', record: a },
            { table: 'users', record: b },
          ],
          forbidden: [],
          post: { id: post, seq: postSeq },
          outcome: 'unknown',
        };
        [query, variables] = [
          BATCH,
          {
            changes: [
              { table: 'users', op: 'CREATE', id: a.id, data: fields(a) },
              { table: 'posts', op: 'UPDATE', id: post, data: { likes: postSeq } },
              { table: 'users', op: 'CREATE', id: b.id, data: fields(b) },
            ],
          },
        ];
      } else if (kind === 9 && n % 20 === 9) {
        const a = user(`bx.${tag}.0`, n);
        s = { kind: 'badBatch', creates: [], forbidden: [{ table: 'users', id: a.id }], outcome: 'unknown' };
        [query, variables] = [
          BATCH,
          {
            changes: [
              { table: 'users', op: 'CREATE', id: a.id, data: fields(a) },
              { table: 'users', op: 'UPDATE', id: `missing.${tag}`, data: { age: 1 } },
            ],
          },
        ];
      } else if (kind === 9) {
        s = { kind: 'missing', creates: [], forbidden: [{ table: 'users', id: `missing.${tag}` }], outcome: 'unknown' };
        [query, variables] = [UPDATE_USER, { id: `missing.${tag}`, patch: { age: 2 } }];
      } else {
        const record = user(`u.${tag}`, n);
        s = { kind: 'createUser', creates: [{ table: 'users', record }], forbidden: [], outcome: 'unknown' };
        [query, variables] = [CREATE_USER, { input: record }];
      }
      sent.push(s);
      let response: Awaited<ReturnType<typeof send>>;
      try {
        response = await send(c, query, variables);
      } catch {
        return; // the server is gone: this one stays 'unknown'
      }
      const code = response.errors?.[0]?.extensions?.code;
      if (response.errors === undefined && response.data != null) {
        s.outcome = 'ok';
        for (const result of Object.values(response.data))
          for (const view of result.views ?? []) maxVersion = Math.max(maxVersion, view.version);
        if (s.kind === 'createUser') mine.push(s.creates[0]!.record.id);
      } else if (code !== undefined && DELIBERATE.has(code)) {
        s.outcome = 'error';
      } else {
        s.detail = `${s.kind}: unexpected answer ${JSON.stringify(response)}`;
      }
      if (++answered >= acks && !killing) {
        // The kill lands a little later, while the server is busy with the next requests.
        killing = true;
        setTimeout(() => {
          killed = true;
          server.child.kill('SIGKILL');
        }, killDelayMs);
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS * LANES }, (_, k) => lane(Math.floor(k / LANES), k % LANES)));
  await Promise.all(wsClients.map((client) => client?.dispose()));
  return { sent, maxVersion };
}
