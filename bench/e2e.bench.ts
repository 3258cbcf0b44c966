/**
 * End-to-end benchmark: `npm run bench:e2e` (BENCH_QUICK=1 for a short run).
 *
 * The server runs as the user runs it (`server/main.ts`, its own process); clients are real
 * graphql-ws clients in this process, one WebSocket each.
 *
 * 1. Latency: N subscribers (1, 100, 1,000) of `topPosts`; a separate client sends one
 *    `updatePost` at a time (raising the likes of a post in the top 10, so every mutation
 *    changes the view by one row with its joined author). Latency is from just before the
 *    mutation is sent to the moment a subscriber's client has the DELTA, for every
 *    (mutation, subscriber) pair; "all delivered" is the time until the last subscriber has it.
 *    The next mutation is sent once every subscriber has the previous one.
 * 2. Throughput: C concurrent clients, each sending its next mutation as soon as the previous
 *    one is answered, for a fixed time, over graphql-ws and over HTTP (fetch, keep-alive),
 *    with one subscriber per view. At the end each subscriber's local copy must equal the
 *    server's hash, or the run fails.
 */

import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { print } from 'graphql';
import { createClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { hashRows, type Row } from '../engine/index.js';
import {
  ActiveUsersDocument,
  IngestBatchDocument,
  PostsPerAuthorDocument,
  TopPostsDocument,
  UpdatePostDocument,
  UpdateUserDocument,
  UsersCountDocument,
  UsersListDocument,
  ViewsDocument,
} from '../test/graphql/generated/graphql.js';
import { describeEnvironment, environmentMarkdown, writeReport } from './lib/environment.js';
import { applyEvent, type LocalCopy } from './lib/local-copy.js';
import { markdownList, markdownTable } from './lib/markdown.js';
import { formatDuration, formatRate, Samples, type Summary } from './lib/stats.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const quick = process.env['BENCH_QUICK'] === '1';
/** BENCH_ONLY=latency|throughput runs one part (for profiling). */
const only = process.env['BENCH_ONLY'];
const SUBSCRIBERS = quick ? [1, 100] : [1, 100, 1000];
const MUTATIONS: { [subscribers: number]: number } = quick ? { 1: 100, 100: 50 } : { 1: 1000, 100: 500, 1000: 200 };
const WARMUP = quick ? 20 : 50;
const THROUGHPUT_CLIENTS = 32;
const THROUGHPUT_SECONDS = quick ? 2 : 5;
const USERS = 1000;
const POSTS = 2000;

interface Update {
  view: string;
  version: number;
  kind: 'SNAPSHOT' | 'DELTA';
  added: Row[];
  updated: Row[];
  removed: string[];
  hash: string;
}

async function main(): Promise<void> {
  const server = await startServer();
  try {
    await seed(server.url);
    const latency: LatencyRow[] = [];
    for (const subscribers of only === 'throughput' ? [] : SUBSCRIBERS) {
      latency.push(await measureLatency(server.url, subscribers, MUTATIONS[subscribers] ?? 100, server.child.pid));
      log(
        `latency, ${subscribers} subscribers: p50 ${formatDuration(latency.at(-1)!.each.p50)}, p99 ${formatDuration(latency.at(-1)!.each.p99)}`,
      );
    }
    const throughput: ThroughputRow[] = [];
    for (const transport of only === 'latency' ? [] : (['graphql-ws', 'http'] as const)) {
      throughput.push(await measureThroughput(server.url, transport, server.child.pid));
      log(`throughput over ${transport}: ${formatRate(throughput.at(-1)!.rate)} mutations/s`);
    }
    report(latency, throughput);
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
  }
}

// ---------------------------------------------------------------------------------------
// Server and data

async function startServer(): Promise<{ url: string; child: ChildProcessWithoutNullStreams; exited: Promise<void> }> {
  // BENCH_SERVER_NODE_ARGS: extra node flags for the server (e.g. `--cpu-prof`).
  const nodeArgs = (process.env['BENCH_SERVER_NODE_ARGS'] ?? '').split(' ').filter((arg) => arg !== '');
  const child = spawn(
    process.execPath,
    [...nodeArgs, '--import', 'tsx', 'server/main.ts', '--port', '0', '--memory', '--log-level', 'info'],
    { cwd: root },
  );
  child.stderr.pipe(process.stderr);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; url?: string; level?: string };
      if (entry.msg === 'listening' && entry.url !== undefined) resolve(entry.url);
      else if (entry.level === 'error' || entry.level === 'warn') process.stderr.write(`server: ${line}\n`);
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { url, child, exited };
}

/**
 * CPU seconds (user + system) the server process has used, from /proc (Linux); NaN elsewhere.
 * Other processes on the machine slow the wall clock down; CPU time per mutation is what the
 * server itself costs.
 */
function serverCpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
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

async function seed(url: string): Promise<void> {
  const batch = print(IngestBatchDocument);
  const changes = [
    ...Array.from({ length: USERS }, (_, i) => ({
      table: 'users',
      op: 'CREATE',
      id: `u${i}`,
      data: {
        name: `User ${i}`,
        email: `user${i}@example.com`,
        role: i % 10 === 0 ? 'admin' : 'member',
        active: i % 3 !== 0,
        age: 18 + (i % 60),
      },
    })),
    ...Array.from({ length: POSTS }, (_, i) => ({
      table: 'posts',
      op: 'CREATE',
      id: `p${i}`,
      data: { authorId: `u${i % USERS}`, title: `Post ${i}`, published: i % 4 !== 0, likes: i % 500 },
    })),
  ];
  for (let i = 0; i < changes.length; i += 100) await post(url, batch, { changes: changes.slice(i, i + 100) });
}

function wsClient(url: string): WsClient {
  return createClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
}

function request<T>(client: WsClient, query: string, variables: object): Promise<T> {
  return new Promise((resolve, reject) => {
    let data: T | undefined;
    client.subscribe<T>(
      { query, variables: variables as Record<string, unknown> },
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

// ---------------------------------------------------------------------------------------
// 1. Latency

interface LatencyRow {
  subscribers: number;
  mutations: number;
  each: Summary;
  all: Summary;
  roundTrip: Summary;
  /** Server CPU time per mutation, its events to every subscriber included. */
  serverCpu: number;
}

async function measureLatency(
  url: string,
  count: number,
  mutations: number,
  pid: number | undefined,
): Promise<LatencyRow> {
  const query = print(TopPostsDocument);
  const clients = Array.from({ length: count }, () => wsClient(url));
  const writer = wsClient(url);
  const received = new Map<number, number[]>(); // version → receive times
  let snapshots = 0;
  let top: Row[] = [];
  const waiters = new Map<number, () => void>();
  const stops = clients.map((client) =>
    client.subscribe<{ topPosts: Update }>(
      { query },
      {
        next: (result) => {
          const now = performance.now();
          const update = result.data?.topPosts;
          if (update === undefined) throw new Error(JSON.stringify(result.errors));
          if (update.kind === 'SNAPSHOT') {
            snapshots++;
            top = update.added;
            return;
          }
          const times = received.get(update.version) ?? [];
          times.push(now);
          received.set(update.version, times);
          if (times.length === count) waiters.get(update.version)?.();
        },
        error: (error) => {
          throw error;
        },
        complete: () => undefined,
      },
    ),
  );
  while (snapshots < count) await sleep(5);

  const each = new Samples(mutations * count);
  const all = new Samples(mutations);
  const roundTrip = new Samples(mutations);
  const update = print(UpdatePostDocument);
  let likes = 1_000_000;
  let cpuStart = Number.NaN;
  for (let i = 0; i < WARMUP + mutations; i++) {
    if (i === WARMUP) cpuStart = serverCpuSeconds(pid);
    const target = top[i % Math.max(1, top.length)]?.['id'] as string;
    likes++;
    const start = performance.now();
    const result = await request<{ updatePost: { views: { view: string; version: number }[] } }>(writer, update, {
      id: target,
      patch: { likes },
    });
    const answered = performance.now();
    const version = result.updatePost.views.find((v) => v.view === 'topPosts')?.version;
    if (version === undefined) throw new Error('the mutation did not change topPosts');
    if ((received.get(version)?.length ?? 0) < count)
      await new Promise<void>((resolve) => waiters.set(version, resolve));
    waiters.delete(version);
    const times = received.get(version) ?? [];
    received.delete(version);
    if (i < WARMUP) continue;
    let last = 0;
    for (const time of times) {
      each.add((time - start) * 1e6);
      last = Math.max(last, time);
    }
    all.add((last - start) * 1e6);
    roundTrip.add((answered - start) * 1e6);
  }
  const serverCpu = ((serverCpuSeconds(pid) - cpuStart) / mutations) * 1e9;
  for (const stop of stops) stop();
  await Promise.all([...clients, writer].map((client) => client.dispose()));
  return {
    subscribers: count,
    mutations,
    each: each.summary(),
    all: all.summary(),
    roundTrip: roundTrip.summary(),
    serverCpu,
  };
}

// ---------------------------------------------------------------------------------------
// 2. Throughput

interface ThroughputRow {
  transport: string;
  clients: number;
  mutations: number;
  rate: number;
  latency: Summary;
  verified: string;
  /** Server CPU time per mutation (ns). */
  serverCpu: number;
}

async function measureThroughput(
  url: string,
  transport: 'graphql-ws' | 'http',
  pid: number | undefined,
): Promise<ThroughputRow> {
  // One subscriber per view, keeping a local copy checked against the server's hash.
  const watcher = wsClient(url);
  const views = [
    ['usersList', UsersListDocument],
    ['usersCount', UsersCountDocument],
    ['activeUsers', ActiveUsersDocument],
    ['topPosts', TopPostsDocument],
    ['postsPerAuthor', PostsPerAuthorDocument],
  ] as const;
  const copies = new Map<string, LocalCopy>();
  const stops = views.map(([view, document]) =>
    watcher.subscribe<{ [view: string]: Update }>(
      { query: print(document) },
      {
        next: (result) => {
          const update = result.data?.[view];
          if (update === undefined) throw new Error(JSON.stringify(result.errors));
          applyEvent(copies, view, update, view);
        },
        error: (error) => {
          throw error;
        },
        complete: () => undefined,
      },
    ),
  );
  while (copies.size < views.length) await sleep(5);

  const updatePost = print(UpdatePostDocument);
  const updateUser = print(UpdateUserDocument);
  const clients = transport === 'graphql-ws' ? Array.from({ length: THROUGHPUT_CLIENTS }, () => wsClient(url)) : [];
  const latency = new Samples(100_000);
  let done = 0;
  let seed = 12345;
  const random = (n: number): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed % n;
  };
  const send = (c: number, query: string, variables: object): Promise<unknown> =>
    transport === 'graphql-ws' ? request(clients[c] as WsClient, query, variables) : post(url, query, variables);
  const deadline = performance.now() + THROUGHPUT_SECONDS * 1000;
  const cpuStart = serverCpuSeconds(pid);
  const start = performance.now();
  await Promise.all(
    Array.from({ length: THROUGHPUT_CLIENTS }, async (_, c) => {
      while (performance.now() < deadline) {
        const begin = performance.now();
        if (random(5) === 0)
          await send(c, updateUser, {
            id: `u${random(USERS)}`,
            patch: { active: random(2) === 0, age: 18 + random(60) },
          });
        else
          await send(c, updatePost, {
            id: `p${random(POSTS)}`,
            patch: { likes: random(1000), published: random(4) !== 0 },
          });
        latency.add((performance.now() - begin) * 1e6);
        done++;
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const serverCpu = ((serverCpuSeconds(pid) - cpuStart) / done) * 1e9;

  // Every subscriber's copy must reach the server's version and hash.
  const { views: info } = await post<{ views: { id: string; version: number; hash: string }[] }>(
    url,
    print(ViewsDocument),
    {},
  );
  const until = performance.now() + 30_000;
  while (info.some((view) => copies.get(view.id)?.version !== view.version)) {
    if (performance.now() > until) throw new Error('subscribers did not catch up');
    await sleep(10);
  }
  for (const view of info) {
    const copy = copies.get(view.id);
    if (copy === undefined || hashRows(copy.rows.values()) !== view.hash || copy.hash !== view.hash) {
      throw new Error(`${view.id}: local copy differs from the server (hash)`);
    }
  }
  for (const stop of stops) stop();
  await Promise.all([...clients, watcher].map((client) => client.dispose()));
  return {
    transport,
    clients: THROUGHPUT_CLIENTS,
    mutations: done,
    rate: done / seconds,
    latency: latency.summary(),
    verified: 'equal',
    serverCpu,
  };
}

// ---------------------------------------------------------------------------------------
// Report

function report(latency: LatencyRow[], throughput: ThroughputRow[]): void {
  const env = describeEnvironment('npm run bench:e2e');
  const text = [
    '# End-to-end: mutation → subscription event, and mutation throughput',
    '',
    environmentMarkdown(env),
    '',
    markdownList([
      `Server: \`server/main.ts\` in its own process (demo config, in-memory), seeded with ${USERS.toLocaleString('en-US')} users and ${POSTS.toLocaleString('en-US')} posts.`,
      'Clients: graphql-ws clients in the benchmark process, one WebSocket each; client-side parsing of every event is included in the latency.',
      `Latency: subscribers of \`topPosts\` (top 10 with joined author); one \`updatePost\` at a time raises the likes of a post in the view (one updated row per event), after ${WARMUP} warm-up mutations.`,
      'Server CPU: user + system time of the server process (/proc) divided by the mutations; it does not depend on what else the machine runs. "Server capacity" is its inverse: the mutations per second one core could serve.',
      `Throughput: ${THROUGHPUT_CLIENTS} concurrent clients, each sending its next mutation when the previous one is answered, for ${THROUGHPUT_SECONDS} s (80 % \`updatePost\` likes/published, 20 % \`updateUser\` active/age), with one subscriber per view whose local copy must end equal to the server's hash.`,
    ]),
    '',
    '## Latency: mutation sent → DELTA received',
    '',
    markdownTable(
      [
        { header: 'Subscribers', value: (r: LatencyRow) => r.subscribers.toLocaleString('en-US'), align: 'right' },
        { header: 'Mutations', value: (r: LatencyRow) => String(r.mutations), align: 'right' },
        { header: 'p50 (each subscriber)', value: (r: LatencyRow) => formatDuration(r.each.p50), align: 'right' },
        { header: 'p99 (each subscriber)', value: (r: LatencyRow) => formatDuration(r.each.p99), align: 'right' },
        { header: 'p50 (all delivered)', value: (r: LatencyRow) => formatDuration(r.all.p50), align: 'right' },
        { header: 'p99 (all delivered)', value: (r: LatencyRow) => formatDuration(r.all.p99), align: 'right' },
        {
          header: 'Mutation round trip p50',
          value: (r: LatencyRow) => formatDuration(r.roundTrip.p50),
          align: 'right',
        },
        { header: 'Server CPU / mutation', value: (r: LatencyRow) => formatDuration(r.serverCpu), align: 'right' },
      ],
      latency,
    ),
    '',
    '## Throughput: concurrent clients',
    '',
    markdownTable(
      [
        { header: 'Mutations over', value: (r: ThroughputRow) => r.transport },
        { header: 'Clients', value: (r: ThroughputRow) => String(r.clients), align: 'right' },
        { header: 'Mutations', value: (r: ThroughputRow) => r.mutations.toLocaleString('en-US'), align: 'right' },
        { header: 'Mutations/s', value: (r: ThroughputRow) => formatRate(r.rate), align: 'right' },
        { header: 'Latency p50', value: (r: ThroughputRow) => formatDuration(r.latency.p50), align: 'right' },
        { header: 'Latency p99', value: (r: ThroughputRow) => formatDuration(r.latency.p99), align: 'right' },
        { header: 'Server CPU / mutation', value: (r: ThroughputRow) => formatDuration(r.serverCpu), align: 'right' },
        {
          header: 'Server capacity (1 core)',
          value: (r: ThroughputRow) => `${formatRate(1e9 / r.serverCpu)}/s`,
          align: 'right',
        },
        { header: 'Subscriber copies', value: (r: ThroughputRow) => r.verified },
      ],
      throughput,
    ),
    '',
    '## Targets',
    '',
    markdownList([
      `p50 ≤ 2 ms with 100 subscribers: ${check((latency.find((r) => r.subscribers === 100)?.each.p50 ?? Infinity) <= 2e6)}`,
      `≥ 5,000 mutations/s from concurrent clients: ${check(Math.max(...throughput.map((r) => r.rate)) >= 5000)} (best transport)`,
    ]),
    '',
  ].join('\n');
  const file = writeReport(path.join(root, 'bench/results', quick ? 'e2e-quick.md' : 'e2e.md'), text);
  process.stdout.write(`${text}\nwritten to ${path.relative(root, file)}\n`);
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

await main();
