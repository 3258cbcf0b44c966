/**
 * Scale-out benchmark: `npm run bench:scale-out` (BENCH_QUICK=1 for a short run). Needs
 * PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres); each part uses a database of its
 * own, dropped at the end.
 *
 * 1. Change capture cost: C concurrent SQL clients insert single-row transactions into a
 *    plain table and into the same table with the capture trigger (serialised log writers),
 *    for a fixed time each; rows per second side by side.
 * 2. Instances: 1, 2 and 3 server processes on one database (and, for comparison, one server
 *    over a SQLite file). Mutation throughput: C clients send `updatePost` round-robin to the
 *    instances over HTTP, each its next as soon as the previous is answered. Latency: one
 *    mutation at a time on instance A, timed until a subscriber of `postsPerAuthor` on
 *    instance B (A itself with one instance) has the DELTA; and from a plain SQL `UPDATE` to
 *    that subscriber's DELTA.
 *
 * BENCH_BASELINE (a git revision, e.g. `BENCH_BASELINE=main`): its server (a detached worktree of
 * that revision, removed at the end) runs every PostgreSQL part too, right after ours, so that
 * before and after are measured side by side under the same load.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, type Client as WsClient } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { describeEnvironment, environmentMarkdown, writeReport } from './lib/environment.js';
import { markdownTable } from './lib/markdown.js';
import { type ServerProcess, startServerProcess } from './lib/server-process.js';
import { formatDuration, formatRate, Samples } from './lib/stats.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.env['BENCH_QUICK'] === '1';
const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const SECONDS = quick ? 2 : 5;
const CLIENTS = 8;
const LATENCY_SAMPLES = quick ? 50 : 200;
const POSTS = 200;
const BASELINE = process.env['BENCH_BASELINE'];

/** A tree whose server the parts run: ours, or the baseline revision's. */
interface System {
  readonly name: string;
  readonly root: string;
}

/** A detached worktree of `revision` sharing our node_modules; `remove` deletes it. */
function checkout(revision: string): System & { remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'lv-baseline-'));
  rmSync(dir, { recursive: true });
  execFileSync('git', ['-C', root, 'worktree', 'add', '--detach', dir, revision], { stdio: 'ignore' });
  symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  return {
    name: `at ${revision}`,
    root: dir,
    remove: () => execFileSync('git', ['-C', root, 'worktree', 'remove', '--force', dir], { stdio: 'ignore' }),
  };
}

async function createDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `lv_bench_${Math.random().toString(16).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    url: `postgres://postgres@127.0.0.1:5432/${name}`,
    drop: async () => {
      const dropper = new pg.Client({ connectionString: ADMIN_URL });
      await dropper.connect();
      await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await dropper.end();
    },
  };
}

/** Runs `step` from `clients` concurrent loops for `seconds`; returns completed steps per second. */
async function loop(
  clients: number,
  seconds: number,
  step: (client: number, i: number) => Promise<void>,
): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let i = 0; performance.now() < end; i++) {
        await step(client, i);
        done++;
      }
    }),
  );
  return done / seconds;
}

interface CaptureRow {
  readonly table: string;
  readonly rate: number;
  /** `rate` ÷ the plain table's, measured in the same part */
  readonly vsPlain: number;
}

async function captureCost(system: System): Promise<CaptureRow[]> {
  const db = await createDatabase();
  const clients = await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      return client;
    }),
  );
  try {
    // A server start creates the served table with its capture trigger; a twin without it is the baseline.
    const server = await startServerProcess(system.root, ['--database', db.url]);
    await server.stop();
    const [setup] = clients as [pg.Client];
    await setup.query('CREATE TABLE plain_posts (LIKE posts INCLUDING ALL)');
    const rows: CaptureRow[] = [];
    for (const table of ['plain_posts', 'posts']) {
      const rate = await loop(CLIENTS, SECONDS, async (client, i) => {
        await (clients[client] as pg.Client).query(
          `INSERT INTO ${table} (id, "authorId", title, published, likes) VALUES ($1, 'a', 't', true, $2)`,
          [`${client}-${i}`, i],
        );
      });
      const plain = rows[0]?.rate ?? rate;
      rows.push({
        table: table === 'posts' ? `with change capture (${system.name})` : `plain table (${system.name})`,
        rate,
        vsPlain: rate / plain,
      });
    }
    return rows;
  } finally {
    for (const client of clients) await client.end();
    await db.drop();
  }
}

interface InstancesRow {
  readonly store: string;
  readonly throughput: number;
  readonly mutationToEvent: Samples;
  readonly sqlToEvent: Samples;
}

async function post(url: string, query: string, variables: object): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { errors?: unknown };
  if (body.errors !== undefined) throw new Error(JSON.stringify(body.errors));
}

const UPDATE_POST =
  'mutation($id: ID!, $likes: Int!) { updatePost(id: $id, patch: { likes: $likes }) { post { id } } }';

async function instances(count: number, database: 'postgres' | 'sqlite', system: System): Promise<InstancesRow> {
  const db = database === 'postgres' ? await createDatabase() : undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'lv-bench-'));
  const args = db === undefined ? ['--data', path.join(dir, 'bench.sqlite')] : ['--database', db.url];
  const servers: ServerProcess[] = [];
  const sockets: WsClient[] = [];
  const sql = db === undefined ? undefined : new pg.Client({ connectionString: db.url });
  try {
    for (let i = 0; i < count; i++) servers.push(await startServerProcess(system.root, [...args]));
    const [a] = servers as [ServerProcess];
    const b = servers[servers.length > 1 ? 1 : 0] as ServerProcess;
    for (let i = 0; i < POSTS; i++) {
      await post(
        a.url,
        'mutation($id: ID!) { createPost(input: { id: $id, authorId: "author", title: "t", published: true, likes: 0 }) { post { id } } }',
        { id: `p${i}` },
      );
    }
    // A subscriber on B, for the latency parts.
    const socket = createClient({ url: b.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
    sockets.push(socket);
    let waiting: ((version: number) => void) | undefined;
    let snapshot: () => void = () => undefined;
    const snapshotted = new Promise<void>((resolve) => {
      snapshot = resolve;
    });
    socket.subscribe<{ postsPerAuthor: { kind: string; version: number } }>(
      { query: 'subscription { postsPerAuthor { kind version } }' },
      {
        next: (result) => {
          const event = result.data?.postsPerAuthor;
          if (event?.kind === 'SNAPSHOT') snapshot();
          else if (event !== undefined) waiting?.(event.version);
        },
        error: () => undefined,
        complete: () => undefined,
      },
    );
    await snapshotted;
    const delta = (): Promise<number> => new Promise((resolve) => (waiting = resolve));

    const mutationToEvent = new Samples();
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      const arrived = delta();
      const started = performance.now();
      await post(a.url, UPDATE_POST, { id: `p${i % POSTS}`, likes: 1000 + i });
      await arrived;
      mutationToEvent.add((performance.now() - started) * 1e6);
    }
    const sqlToEvent = new Samples();
    if (sql !== undefined) {
      await sql.connect();
      for (let i = 0; i < LATENCY_SAMPLES; i++) {
        const arrived = delta();
        const started = performance.now();
        await sql.query(`UPDATE posts SET likes = $1 WHERE id = $2`, [5000 + i, `p${i % POSTS}`]);
        await arrived;
        sqlToEvent.add((performance.now() - started) * 1e6);
      }
    }
    waiting = undefined;
    const throughput = await loop(CLIENTS, SECONDS, async (client, i) => {
      const server = servers[(client + i) % servers.length] as ServerProcess;
      await post(server.url, UPDATE_POST, { id: `p${(client * 31 + i) % POSTS}`, likes: i });
    });
    return {
      store:
        db === undefined
          ? 'SQLite file, 1 instance'
          : `PostgreSQL, ${count} instance${count > 1 ? 's' : ''}${BASELINE === undefined ? '' : ` (${system.name})`}`,
      throughput,
      mutationToEvent,
      sqlToEvent,
    };
  } finally {
    for (const socket of sockets) await socket.dispose();
    await sql?.end().catch(() => undefined);
    for (const server of servers) await server.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const environment = describeEnvironment('npm run bench:scale-out');
  const ours: System = { name: 'this tree', root };
  const baseline = BASELINE === undefined ? undefined : checkout(BASELINE);
  const systems = baseline === undefined ? [ours] : [ours, baseline];
  const capture: CaptureRow[] = [];
  const runs: InstancesRow[] = [];
  try {
    for (const system of systems) capture.push(...(await captureCost(system)));
    runs.push(await instances(1, 'sqlite', ours));
    for (const count of [1, 2, 3]) for (const system of systems) runs.push(await instances(count, 'postgres', system));
  } finally {
    baseline?.remove();
  }
  const sqlite = runs[0]?.throughput ?? Number.NaN;
  const ms = (samples: Samples, q: 'p50' | 'p99'): string =>
    samples.length === 0 ? '–' : formatDuration(samples.summary()[q]);
  const report = [
    '# Scale-out over PostgreSQL',
    '',
    environmentMarkdown(environment),
    '',
    `## Change capture: ${CLIENTS} SQL clients, single-row INSERT transactions, ${SECONDS} s each`,
    '',
    markdownTable(
      [
        { header: 'table', value: (row: CaptureRow) => row.table },
        { header: 'rows/s', value: (row) => formatRate(row.rate), align: 'right' },
        { header: 'vs plain', value: (row) => `${row.vsPlain.toFixed(2)}×`, align: 'right' },
      ],
      capture,
    ),
    '',
    `## Instances: ${CLIENTS} HTTP clients round-robin (updatePost), latency to a postsPerAuthor subscriber on another instance`,
    '',
    markdownTable(
      [
        { header: 'store', value: (row: InstancesRow) => row.store },
        { header: 'mutations/s', value: (row) => formatRate(row.throughput), align: 'right' },
        { header: 'vs SQLite', value: (row) => `${(row.throughput / sqlite).toFixed(2)}×`, align: 'right' },
        { header: 'mutation → event p50', value: (row) => ms(row.mutationToEvent, 'p50'), align: 'right' },
        { header: 'p99', value: (row) => ms(row.mutationToEvent, 'p99'), align: 'right' },
        { header: 'SQL write → event p50', value: (row) => ms(row.sqlToEvent, 'p50'), align: 'right' },
      ],
      runs,
    ),
    '',
    'With one instance the subscriber is on the instance that took the mutation; with 2 and 3 it is on another one.',
  ].join('\n');
  const file = writeReport(path.join(root, 'bench/results/scale-out.md'), report);
  process.stdout.write(`${report}\n\nwritten to ${file}\n`);
}

await main();
