/**
 * Durability benchmark: `npm run bench:durability` (BENCH_QUICK=1 for a short run).
 *
 * Servers run as a user runs them (`server/main.ts`, each its own process, demo config).
 *
 * 1. Throughput: three servers side by side — `--memory`, `--data` (durability process:
 *    WAL, synchronous=NORMAL) and `--data --durability power` (synchronous=FULL) — seeded with
 *    the same data, each with one graphql-ws subscriber per view. Rounds are interleaved (each
 *    round runs the same load against each server in turn, the order rotating): C concurrent
 *    graphql-ws clients, each sending its next mutation as soon as the previous one is
 *    answered, for T seconds (80 % `updatePost`, 20 % `updateUser`, as bench:e2e). Reported:
 *    median mutations/s per server, the durable/memory ratio, latency, server CPU per
 *    mutation, and the average group (requests per transaction) from the server's log. At the
 *    end every subscriber's copy must equal its server's hash.
 * 2. Recovery: a data file with N demo records (1/5 users, 4/5 posts) is written with the
 *    store, then the server is started on it three times. Reported: from spawn to the port
 *    open (the `listening` log line), and the server's own measure of open + load + view
 *    registration. Every start checks every record against the config; the first one also
 *    writes them back (the file was not written by a server). A `--memory` start with no data
 *    gives the fixed cost of starting the process (Node, tsx, GraphQL schema).
 */

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { hashRows } from '../engine/index.js';
import { openStore, type StoreChange } from '../storage/index.js';
import { describeEnvironment, environmentMarkdown, writeReport } from './lib/environment.js';
import { applyEvent, type LocalCopy, type ViewEventData } from './lib/local-copy.js';
import { markdownList, markdownTable } from './lib/markdown.js';
import {
  cpuSeconds,
  peakRssMiB,
  type ServerLog,
  type ServerProcess,
  startServerProcess,
} from './lib/server-process.js';
import { formatDuration, formatRate, median, Samples, type Summary } from './lib/stats.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.env['BENCH_QUICK'] === '1';
/** BENCH_ONLY=throughput|recovery runs one part. */
const only = process.env['BENCH_ONLY'];
const ROUNDS = quick ? 2 : 5;
const SECONDS = quick ? 2 : 4;
const CLIENTS = 32;
const USERS = 1000;
const POSTS = 2000;
const RECOVERY_ROWS = quick ? [100_000] : [100_000, 1_000_000];
const STARTS = 4;
const dir = mkdtempSync(path.join(tmpdir(), 'durability-bench-'));

const MODES = [
  { name: 'memory', label: '`--memory`', args: ['--memory'] },
  { name: 'process', label: '`--data` (durability process)', args: ['--data', path.join(dir, 'process.sqlite')] },
  {
    name: 'power',
    label: '`--data --durability power`',
    args: ['--data', path.join(dir, 'power.sqlite'), '--durability', 'power'],
  },
] as const;
type Mode = (typeof MODES)[number]['name'];

const VIEW_FIELDS: { [view: string]: string } = {
  usersList: 'id name email role active age',
  usersCount: 'id count',
  activeUsers: 'id name email role active age',
  topPosts: 'id authorId title published likes author { id name email role active age }',
  postsPerAuthor: 'id authorId posts likes',
};
const UPDATE_POST =
  'mutation($id: ID!, $patch: PostPatch!) { updatePost(id: $id, patch: $patch) { id views { view version } } }';
const UPDATE_USER =
  'mutation($id: ID!, $patch: UserPatch!) { updateUser(id: $id, patch: $patch) { id views { view version } } }';
const BATCH = 'mutation($changes: [ChangeInput!]!) { ingestBatch(changes: $changes) { ids } }';

async function main(): Promise<void> {
  const env = describeEnvironment('npm run bench:durability');
  const throughput = only === 'recovery' ? undefined : await measureThroughput();
  const recovery = only === 'throughput' ? undefined : await measureRecovery();
  report(env, throughput, recovery);
}

// ---------------------------------------------------------------------------------------
// 1. Throughput

interface Round {
  mode: Mode;
  mutations: number;
  rate: number;
  latency: Summary;
  serverCpu: number;
}

interface Server {
  mode: Mode;
  process: ServerProcess;
  clients: WsClient[];
  watcher: WsClient;
  copies: Map<string, LocalCopy>;
  stops: (() => void)[];
  stopped?: ServerLog | null;
}

async function measureThroughput(): Promise<{ rounds: Round[]; servers: Server[] }> {
  const servers: Server[] = [];
  for (const mode of MODES) {
    const process = await startServerProcess(root, [...mode.args, '--log-level', 'info']);
    await seed(process.url);
    const watcher = wsClient(process.url);
    const copies = new Map<string, LocalCopy>();
    const stops = Object.entries(VIEW_FIELDS).map(([view, fields]) =>
      watcher.subscribe<{ [view: string]: ViewEventData }>(
        { query: `subscription { ${view} { kind version hash added { ${fields} } updated { ${fields} } removed } }` },
        {
          next: (result) => {
            const update = result.data?.[view];
            if (update === undefined) throw new Error(JSON.stringify(result.errors));
            applyEvent(copies, view, update, `${mode.name} ${view}`);
          },
          error: (error) => {
            throw error;
          },
          complete: () => undefined,
        },
      ),
    );
    while (copies.size < Object.keys(VIEW_FIELDS).length) await sleep(5);
    const clients = Array.from({ length: CLIENTS }, () => wsClient(process.url));
    servers.push({ mode: mode.name, process, clients, watcher, copies, stops });
    log(`${mode.name}: started in ${Math.round(process.wallMs)} ms, seeded`);
  }

  const rounds: Round[] = [];
  try {
    // Warm-up (JIT, SQLite caches), not reported.
    for (const server of servers) await load(server, quick ? 0.5 : 1);
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < servers.length; k++) {
        const server = servers[(r + k) % servers.length] as Server;
        const round = await load(server, SECONDS);
        rounds.push(round);
        log(
          `round ${r + 1}, ${server.mode}: ${formatRate(round.rate)} mutations/s, p50 ${formatDuration(round.latency.p50)}`,
        );
      }
    }
    for (const server of servers) await verify(server);
  } finally {
    for (const server of servers) {
      for (const stop of server.stops) stop();
      await Promise.all([...server.clients, server.watcher].map((client) => client.dispose()));
      server.stopped = await server.process.stop();
    }
  }
  return { rounds, servers };
}

let randomState = 12345;
function random(n: number): number {
  randomState = (randomState * 1103515245 + 12345) >>> 0;
  return randomState % n;
}

async function load(server: Server, seconds: number): Promise<Round> {
  const latency = new Samples(100_000);
  let done = 0;
  const deadline = performance.now() + seconds * 1000;
  const pid = server.process.child.pid;
  const cpuStart = cpuSeconds(pid);
  const start = performance.now();
  await Promise.all(
    server.clients.map(async (client) => {
      while (performance.now() < deadline) {
        const begin = performance.now();
        if (random(5) === 0)
          await request(client, UPDATE_USER, {
            id: `u${random(USERS)}`,
            patch: { active: random(2) === 0, age: 18 + random(60) },
          });
        else
          await request(client, UPDATE_POST, {
            id: `p${random(POSTS)}`,
            patch: { likes: random(1000), published: random(4) !== 0 },
          });
        latency.add((performance.now() - begin) * 1e6);
        done++;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  return {
    mode: server.mode,
    mutations: done,
    rate: done / elapsed,
    latency: latency.summary(),
    serverCpu: ((cpuSeconds(pid) - cpuStart) / done) * 1e9,
  };
}

/** Every subscriber's copy reaches the server's version and hash. */
async function verify(server: Server): Promise<void> {
  const { views } = await post<{ views: { id: string; version: number; hash: string }[] }>(
    server.process.url,
    '{ views { id version hash } }',
    {},
  );
  const until = performance.now() + 30_000;
  while (
    views.some((view) => VIEW_FIELDS[view.id] !== undefined && server.copies.get(view.id)?.version !== view.version)
  ) {
    if (performance.now() > until) throw new Error(`${server.mode}: subscribers did not catch up`);
    await sleep(10);
  }
  for (const view of views) {
    if (VIEW_FIELDS[view.id] === undefined) continue;
    const copy = server.copies.get(view.id);
    if (copy === undefined || hashRows(copy.rows.values()) !== view.hash || copy.hash !== view.hash)
      throw new Error(`${server.mode} ${view.id}: local copy differs from the server`);
  }
}

async function seed(url: string): Promise<void> {
  const changes = [
    ...Array.from({ length: USERS }, (_, i) => ({ table: 'users', op: 'CREATE', id: `u${i}`, data: userData(i) })),
    ...Array.from({ length: POSTS }, (_, i) => ({
      table: 'posts',
      op: 'CREATE',
      id: `p${i}`,
      data: postData(i, USERS),
    })),
  ];
  for (let i = 0; i < changes.length; i += 100) await post(url, BATCH, { changes: changes.slice(i, i + 100) });
}

const userData = (i: number) => ({
  name: `User ${i}`,
  email: `user${i}@example.com`,
  role: i % 10 === 0 ? 'admin' : 'member',
  active: i % 3 !== 0,
  age: 18 + (i % 60),
});
const postData = (i: number, users: number) => ({
  authorId: `u${i % users}`,
  title: `Post ${i}`,
  published: i % 4 !== 0,
  likes: i % 500,
});

// ---------------------------------------------------------------------------------------
// 2. Recovery

interface Recovery {
  rows: number;
  users: number;
  posts: number;
  fileMiB: number;
  fillSeconds: number;
  starts: { wallMs: number; startupMs: number; cpuMs: number; peakRssMiB: number }[];
}

async function measureRecovery(): Promise<{ baselineMs: number[]; baselineCpuMs: number[]; results: Recovery[] }> {
  const baselineMs: number[] = [];
  const baselineCpuMs: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const server = await startServerProcess(root, ['--memory']);
    baselineMs.push(server.wallMs);
    baselineCpuMs.push(cpuSeconds(server.child.pid) * 1000);
    await server.stop();
  }
  log(`process start (--memory, no data): ${baselineMs.map((ms) => Math.round(ms)).join(', ')} ms`);
  const results: Recovery[] = [];
  for (const rows of RECOVERY_ROWS) {
    const file = path.join(dir, `recovery-${rows}.sqlite`);
    const users = rows / 5;
    const posts = rows - users;
    const fillStart = performance.now();
    const store = openStore({ file });
    const BATCH_SIZE = 20_000;
    const record = (i: number): StoreChange =>
      i < users
        ? { table: 'users', op: 'CREATE', id: `u${i}`, record: { id: `u${i}`, ...userData(i) } }
        : {
            table: 'posts',
            op: 'CREATE',
            id: `p${i - users}`,
            record: { id: `p${i - users}`, ...postData(i - users, users) },
          };
    for (let i = 0; i < rows; i += BATCH_SIZE)
      store.commit(Array.from({ length: Math.min(BATCH_SIZE, rows - i) }, (_, k) => record(i + k)));
    store.close();
    const fillSeconds = (performance.now() - fillStart) / 1000;
    const starts: Recovery['starts'] = [];
    for (let i = 0; i < STARTS; i++) {
      const server = await startServerProcess(root, ['--data', file]);
      const rss = peakRssMiB(server.child.pid);
      const cpuMs = cpuSeconds(server.child.pid) * 1000; // everything the process did until the port opened
      if (server.ready['records'] !== rows)
        throw new Error(`loaded ${String(server.ready['records'])} records, expected ${rows}`);
      const { usersCount } = await post<{ usersCount: { count: number }[] }>(
        server.url,
        '{ usersCount { count } }',
        {},
      );
      if (usersCount[0]?.count !== users)
        throw new Error(`usersCount ${JSON.stringify(usersCount)}, expected ${users}`);
      starts.push({ wallMs: server.wallMs, startupMs: Number(server.ready['startupMs']), cpuMs, peakRssMiB: rss });
      await server.stop();
      log(
        `recovery ${rows}: start ${i + 1}: ${Math.round(server.wallMs)} ms to the port (${String(server.ready['startupMs'])} ms open + load + views; ${Math.round(cpuMs)} ms CPU), peak RSS ${Math.round(rss)} MiB`,
      );
    }
    results.push({ rows, users, posts, fileMiB: statSync(file).size / 2 ** 20, fillSeconds, starts });
    rmSync(file, { force: true });
  }
  return { baselineMs, baselineCpuMs, results };
}

// ---------------------------------------------------------------------------------------
// Report

function report(
  env: ReturnType<typeof describeEnvironment>,
  throughput: { rounds: Round[]; servers: Server[] } | undefined,
  recovery: Awaited<ReturnType<typeof measureRecovery>> | undefined,
): void {
  const lines: string[] = [
    '# Durability: durable vs in-memory mutation throughput, and recovery time',
    '',
    environmentMarkdown(env),
    '',
  ];
  lines.push(
    markdownList([
      'Servers: `server/main.ts`, each in its own process, demo config. better-sqlite3 12, WAL; `--memory` still runs the same write path (an in-memory SQLite database, group commit), without a file.',
      `Throughput: ${CLIENTS} concurrent graphql-ws clients per server, each sending its next mutation when the previous one is answered (80 % \`updatePost\` likes/published, 20 % \`updateUser\` active/age over ${USERS.toLocaleString('en-US')} users and ${POSTS.toLocaleString('en-US')} posts), ${SECONDS} s per round, ${ROUNDS} rounds, the three servers interleaved (order rotating each round), after a warm-up. One subscriber per view on each server; at the end each local copy equals its server's hash.`,
      "Server CPU: user + system time of the server process (/proc) per mutation. Avg group: requests per transaction over the whole run (from the server's `stopped` log line).",
      `Recovery: a file with N demo records (1/5 users, 4/5 posts, written with the store), the server started on it ${STARTS} times; "to the port" is from spawn to the \`listening\` line, "open + load + views" the server's own measure. Every start checks every record against the config; the first one also writes them back normalised and remembers the config (the file was not written by a server).`,
    ]),
    '',
  );
  if (throughput !== undefined) {
    const { rounds, servers } = throughput;
    const rows = MODES.map((mode) => {
      const mine = rounds.filter((round) => round.mode === mode.name);
      const stopped = servers.find((server) => server.mode === mode.name)?.stopped;
      const commits = (stopped?.['commits'] ?? {}) as { groups?: number; committed?: number };
      return {
        label: mode.label,
        mode: mode.name,
        rate: median(mine.map((round) => round.rate)),
        rates: mine.map((round) => round.rate),
        p50: median(mine.map((round) => round.latency.p50)),
        p99: median(mine.map((round) => round.latency.p99)),
        cpu: median(mine.map((round) => round.serverCpu)),
        mutations: mine.reduce((sum, round) => sum + round.mutations, 0),
        group: (commits.committed ?? Number.NaN) / (commits.groups ?? Number.NaN),
      };
    });
    const memory = rows[0]?.rate ?? Number.NaN;
    lines.push('## Throughput: sustained mutations/s', '');
    lines.push(
      markdownTable(
        [
          { header: 'Server', value: (r: (typeof rows)[number]) => r.label },
          { header: 'Mutations/s (median)', value: (r) => formatRate(r.rate), align: 'right' },
          { header: 'vs memory', value: (r) => `${Math.round((r.rate / memory) * 100)} %`, align: 'right' },
          {
            header: 'Rounds (mutations/s)',
            value: (r) => r.rates.map((rate) => formatRate(rate)).join(', '),
            align: 'right',
          },
          { header: 'Latency p50', value: (r) => formatDuration(r.p50), align: 'right' },
          { header: 'Latency p99', value: (r) => formatDuration(r.p99), align: 'right' },
          { header: 'Server CPU / mutation', value: (r) => formatDuration(r.cpu), align: 'right' },
          { header: 'Avg group', value: (r) => r.group.toFixed(1), align: 'right' },
          { header: 'Mutations', value: (r) => r.mutations.toLocaleString('en-US'), align: 'right' },
        ],
        rows,
      ),
      '',
    );
    const durable = rows.find((r) => r.mode === 'process')?.rate ?? Number.NaN;
    const power = rows.find((r) => r.mode === 'power')?.rate ?? Number.NaN;
    lines.push('## Targets', '');
    lines.push(
      markdownList([
        `Durable throughput ≥ 50 % of in-memory: ${check(durable / memory >= 0.5)} (${Math.round((durable / memory) * 100)} %; with \`--durability power\`: ${Math.round((power / memory) * 100)} %)`,
        ...(recovery === undefined ? [] : [recoveryTarget(recovery)]),
      ]),
      '',
    );
  } else if (recovery !== undefined) {
    lines.push('## Targets', '', markdownList([recoveryTarget(recovery)]), '');
  }
  if (recovery !== undefined) {
    lines.push('## Recovery: start-up to port open', '');
    lines.push(
      `Process start without data (\`--memory\`): ${recovery.baselineMs.map((ms) => `${Math.round(ms)} ms`).join(', ')} to the port (${recovery.baselineCpuMs.map((ms) => `${Math.round(ms)} ms`).join(', ')} CPU).`,
      '',
      "CPU is the server process's user + system time until the port opened (/proc): unlike the wall clock it hardly depends on what else the machine runs.",
      '',
    );
    lines.push(
      markdownTable(
        [
          { header: 'Records', value: (r: Recovery) => r.rows.toLocaleString('en-US'), align: 'right' },
          {
            header: 'Users / posts',
            value: (r) => `${r.users.toLocaleString('en-US')} / ${r.posts.toLocaleString('en-US')}`,
            align: 'right',
          },
          { header: 'File', value: (r) => `${Math.round(r.fileMiB)} MiB`, align: 'right' },
          { header: 'First start: to the port', value: (r) => seconds(r.starts[0]?.wallMs), align: 'right' },
          {
            header: '(open + load + views, writing back)',
            value: (r) => seconds(r.starts[0]?.startupMs),
            align: 'right',
          },
          {
            header: 'Later starts: to the port',
            value: (r) =>
              r.starts
                .slice(1)
                .map((s) => seconds(s.wallMs))
                .join(', '),
            align: 'right',
          },
          {
            header: '(open + load + views)',
            value: (r) =>
              r.starts
                .slice(1)
                .map((s) => seconds(s.startupMs))
                .join(', '),
            align: 'right',
          },
          {
            header: 'Later starts: CPU',
            value: (r) =>
              r.starts
                .slice(1)
                .map((s) => seconds(s.cpuMs))
                .join(', '),
            align: 'right',
          },
          {
            header: 'Peak RSS',
            value: (r) => `${Math.round(Math.max(...r.starts.map((s) => s.peakRssMiB)))} MiB`,
            align: 'right',
          },
        ],
        recovery.results,
      ),
      '',
    );
  }
  const text = lines.join('\n');
  const file = writeReport(path.join(root, 'bench/results', quick ? 'durability-quick.md' : 'durability.md'), text);
  process.stdout.write(`${text}\nwritten to ${path.relative(root, file)}\n`);
}

function recoveryTarget(recovery: { results: Recovery[] }): string {
  const million = recovery.results.find((r) => r.rows === 1_000_000);
  if (million === undefined) return 'Recovery of 1M records ≤ 10 s: not measured (BENCH_QUICK)';
  const later = million.starts.slice(1);
  const typical = median(later.map((s) => s.wallMs));
  const worst = Math.max(...later.map((s) => s.wallMs));
  return `Recovery of 1M records ≤ 10 s (spawn to port open, median of the later starts): ${check(typical <= 10_000)} (${seconds(typical)}; slowest ${seconds(worst)}; CPU ${seconds(median(later.map((s) => s.cpuMs)))}; first start, writing the records back: ${seconds(million.starts[0]?.wallMs)})`;
}

// ---------------------------------------------------------------------------------------
// Helpers

function wsClient(url: string): WsClient {
  return createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
}

function request<T>(client: WsClient, query: string, variables: object): Promise<T> {
  return new Promise((resolve, reject) => {
    let data: T | undefined;
    client.subscribe<T>(
      { query, variables: variables as { [name: string]: unknown } },
      {
        next: (result) => {
          if (result.errors !== undefined) reject(new Error(JSON.stringify(result.errors)));
          else data = result.data as T;
        },
        error: reject,
        complete: () => (data === undefined ? reject(new Error('no data')) : resolve(data)),
      },
    );
  });
}

async function post<T>(url: string, query: string, variables: object): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  if (body.errors !== undefined || body.data === undefined) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? '–' : `${(ms / 1000).toFixed(2)} s`;
}

function check(ok: boolean): string {
  return ok ? 'met' : 'NOT met';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

try {
  await main();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
