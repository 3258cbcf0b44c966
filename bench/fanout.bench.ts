/**
 * Fan-out benchmark: `npm run bench:fanout` (BENCH_QUICK=1 for a short run).
 *
 * Three servers, each in its own process, deliver the same event (a `topPosts` DELTA with
 * one updated row, ~400 bytes as a graphql-ws `next` message) to N subscribers held by two
 * other processes (one connection and one subscription each):
 * (a) raw `ws`: a POST writes one pre-serialised frame to every socket (the floor);
 * (b) graphql-yoga + graphql-ws + `createPubSub`, wired as yoga's graphql-ws example;
 * (c) ours (`startServer`, the demo config, 1,000 users and 2,000 posts): `updatePost` raises
 *     the likes of the first post of `topPosts`;
 * (d) the floor (a) spread over worker threads, each with its own sockets and fed the same
 *     frames (`BENCH_FANOUT_WORKERS`, default 2): whether more threads pay on this machine.
 * One event at a time: the next trigger is sent once every subscriber has the previous one.
 * Measured: server CPU (its own `process.cpuUsage`) per delivered event, trigger → last
 * subscriber p50/p99, the trigger's reply p50, every event received by every subscriber; heap
 * per subscriber (after a full GC, with N subscribers minus with none). Ours also: reply p50
 * with no subscriber, SSE subscribers, and mutation throughput with 10,000 idle subscribers of
 * a view `updatePost` does not change, against none.
 */
import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ControlReply, ControlRequest, Listening } from './fanout/control.js';
import type { SubscriberKind, SubscriberReport } from './fanout/subscribers.js';
import { describeEnvironment, envIntegers, environmentMarkdown, writeReport } from './lib/environment.js';
import { markdownList, markdownTable } from './lib/markdown.js';
import { formatDuration, formatRatio, Samples, significant } from './lib/stats.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const quick = process.env['BENCH_QUICK'] === '1';
const SUBSCRIBERS = envIntegers('BENCH_FANOUT_SUBSCRIBERS', quick ? [100, 1000] : [100, 1000, 5000]);
const IDLE_SUBSCRIBERS = quick ? 2000 : 10_000;
const SSE_SUBSCRIBERS = quick ? 200 : 1000;
const CLIENT_PROCESSES = 2;
/** Threads of the raw floor spread over worker threads (bench/fanout/raw-workers-server.ts). */
const WORKER_THREADS = Number(process.env['BENCH_FANOUT_WORKERS'] ?? 2);
const WARMUP = 5;
/** Events measured per run: about 2 s of the slowest server at each size. */
const eventsFor = (subscribers: number): number => (subscribers <= 100 ? 200 : subscribers <= 1000 ? 50 : 20);
const THROUGHPUT_WRITERS = 16;
const THROUGHPUT_SECONDS = quick ? 2 : 3;
const THROUGHPUT_ROUNDS = quick ? 2 : 6;
/**
 * `BENCH_FANOUT_PARTS=throughput` runs only the idle-subscriber throughput, `sse` only ours over
 * SSE (no report written either way).
 */
const PARTS = new Set((process.env['BENCH_FANOUT_PARTS'] ?? 'all').split(','));
/** Node flags for the server processes (say, `--cpu-prof --cpu-prof-dir=…`). */
const SERVER_NODE_ARGS = (process.env['BENCH_SERVER_NODE_ARGS'] ?? '').split(' ').filter((arg) => arg !== '');

const ROW = 'id authorId title published likes author { id name email role active age }';
const SUBSCRIPTION = `subscription { topPosts { view version kind hash removed added { ${ROW} } updated { ${ROW} } } }`;

type ServerName = 'raw' | 'raw-workers' | 'yoga' | 'ours';
const SERVERS: { [name in ServerName]: { script: string; snapshot: boolean; trigger: (likes: number) => object } } = {
  raw: { script: 'raw-server.ts', snapshot: false, trigger: () => ({}) },
  'raw-workers': { script: 'raw-workers-server.ts', snapshot: false, trigger: () => ({}) },
  yoga: {
    script: 'yoga-server.ts',
    snapshot: false,
    trigger: (likes) => ({ query: `mutation { updatePost(id: "p499", likes: ${likes}) { version } }` }),
  },
  ours: {
    script: 'ours-server.ts',
    snapshot: true,
    trigger: (likes) => ({
      query: `mutation { updatePost(id: "p499", patch: { likes: ${likes} }) { views { view version } } }`,
    }),
  },
};

interface ServerChild {
  readonly url: string;
  /** Where subscribers connect: `url`, or the worker threads' own servers (spread over them). */
  readonly subscriberUrls: readonly string[];
  control(type: ControlRequest['type']): Promise<number>;
  stop(): Promise<void>;
}

async function startServerChild(name: ServerName): Promise<ServerChild> {
  const child = fork(path.join(here, 'fanout', SERVERS[name].script), [], {
    // No warnings: yoga's PubSub is an EventTarget, which warns past 10 listeners.
    execArgv: ['--import', 'tsx', '--max-old-space-size=4096', '--no-warnings', ...SERVER_NODE_ARGS],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, (value: number) => void>();
  let next = 0;
  const urls = await new Promise<string>((resolve, reject) => {
    child.on('message', (message: Listening | ControlReply) => {
      if ('type' in message) resolve(message.url);
      else pending.get(message.id)?.(message.value);
    });
    child.once('exit', (code) => reject(new Error(`${name} server exited with ${code}`)));
  });
  const [url = '', ...workerUrls] = urls.split(' ');
  return {
    url,
    subscriberUrls: workerUrls.length > 0 ? workerUrls : [url],
    control: (type) =>
      new Promise((resolve) => {
        const id = next++;
        pending.set(id, (value) => {
          pending.delete(id);
          resolve(value);
        });
        child.send({ id, type } satisfies ControlRequest);
      }),
    stop: () => stopChild(child),
  };
}

/** SIGTERM (a server profiled with `--cpu-prof` writes its profile as it exits), SIGKILL after 5 s. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  return exited.finally(() => clearTimeout(timer));
}

interface Subscribers {
  readonly ready: Promise<void>;
  /** Resolves once every subscriber has `version`: when the first and the last got it. */
  got(version: number): Promise<{ first: number; last: number }>;
  stop(): Promise<void>;
}

function startSubscribers(
  kind: SubscriberKind,
  urls: readonly string[],
  count: number,
  query: string,
  snapshot: boolean,
): Subscribers {
  const processes = Math.min(count, Math.max(CLIENT_PROCESSES, urls.length));
  const got = new Map<number, { first: number; last: number; reports: number; resolve?: () => void }>();
  let ready = 0;
  let failed: ((error: Error) => void) | undefined;
  const children = Array.from({ length: processes }, (_, i) => {
    const share = Math.floor(count / processes) + (i < count % processes ? 1 : 0);
    const url = urls[i % urls.length] as string;
    return fork(path.join(here, 'fanout', 'subscribers.ts'), [kind, url, String(share), query, snapshot ? '1' : '0'], {
      execArgv: ['--import', 'tsx', '--max-old-space-size=4096'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
  });
  const readyPromise = new Promise<void>((resolve, reject) => {
    failed = reject;
    for (const child of children) {
      child.on('message', (message: SubscriberReport) => {
        if (message.type === 'failed') return failed?.(new Error(`subscribers: ${message.error}`));
        if (message.type === 'ready') {
          if (++ready === processes) resolve();
          return;
        }
        const entry = got.get(message.version) ?? { first: Infinity, last: 0, reports: 0 };
        entry.first = Math.min(entry.first, message.first);
        entry.last = Math.max(entry.last, message.last);
        entry.reports++;
        got.set(message.version, entry);
        if (entry.reports === processes) entry.resolve?.();
      });
    }
  });
  return {
    ready: readyPromise,
    got: async (version) => {
      const entry = got.get(version) ?? { first: Infinity, last: 0, reports: 0 };
      got.set(version, entry);
      if (entry.reports < processes) {
        await Promise.race([
          new Promise<void>((resolve) => (entry.resolve = resolve)),
          new Promise<never>((_, reject) =>
            setTimeout(() => reject(new Error(`version ${version} not received by every subscriber`)), 30_000).unref(),
          ),
        ]);
      }
      got.delete(version);
      return entry;
    },
    stop: async () => {
      await Promise.all(children.map(stopChild));
    },
  };
}

const now = (): number => performance.timeOrigin + performance.now();

async function trigger(server: ServerChild, name: ServerName, likes: number): Promise<number> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(SERVERS[name].trigger(likes)),
  });
  const body = (await response.json()) as {
    version?: number;
    data?: { updatePost: { version?: number; views?: { view: string; version: number }[] } };
    errors?: unknown[];
  };
  if (body.errors !== undefined) throw new Error(`${name}: ${JSON.stringify(body.errors)}`);
  const version =
    body.version ??
    body.data?.updatePost.version ??
    body.data?.updatePost.views?.find((view) => view.view === 'topPosts')?.version;
  if (version === undefined) throw new Error(`${name}: no version in ${JSON.stringify(body)}`);
  return version;
}

interface Run {
  readonly server: ServerName;
  readonly transport: SubscriberKind;
  readonly subscribers: number;
  readonly events: number;
  /** Server CPU per delivered event (one event to one subscriber), µs. */
  readonly cpuPerDeliveryUs: number;
  /** Trigger → last subscriber, and → first subscriber, ns. */
  readonly lastP50: number;
  readonly lastP99: number;
  readonly firstP50: number;
  /** The trigger's reply, ns. */
  readonly replyP50: number;
  /** Server heap per subscriber, bytes. */
  readonly heapPerSubscriber: number;
  /** Server CPU per subscriber to bring them up (connection, subscription, first message), µs. */
  readonly cpuPerSubscribeUs: number;
}

async function measure(name: ServerName, transport: SubscriberKind, subscribers: number): Promise<Run> {
  const server = await startServerChild(name);
  try {
    const heapBefore = await server.control('heap');
    const cpuBeforeSubscribing = await server.control('cpu');
    const kind: SubscriberKind = name.startsWith('raw') ? 'raw' : transport;
    const clients =
      subscribers > 0
        ? startSubscribers(kind, server.subscriberUrls, subscribers, SUBSCRIPTION, SERVERS[name].snapshot)
        : undefined;
    try {
      await clients?.ready;
      while ((await server.control('subscribers')) < subscribers) await sleep(20);
      const cpuPerSubscribeUs =
        subscribers > 0 ? ((await server.control('cpu')) - cpuBeforeSubscribing) / subscribers : Number.NaN;
      const heapPerSubscriber =
        subscribers > 0 ? ((await server.control('heap')) - heapBefore) / subscribers : Number.NaN;
      const events = subscribers === 0 ? 200 : eventsFor(subscribers);
      const last = new Samples(events);
      const first = new Samples(events);
      const reply = new Samples(events);
      let likes = 1_000_000;
      let cpuStart = 0;
      for (let i = 0; i < WARMUP + events; i++) {
        if (i === WARMUP) cpuStart = await server.control('cpu');
        const start = now();
        const version = await trigger(server, name, ++likes);
        const replied = now();
        const times = clients === undefined ? { first: replied, last: replied } : await clients.got(version);
        if (i < WARMUP) continue;
        reply.add((replied - start) * 1e6);
        last.add((times.last - start) * 1e6);
        first.add((times.first - start) * 1e6);
      }
      const cpuUs = (await server.control('cpu')) - cpuStart;
      const l = last.summary();
      return {
        server: name,
        transport: kind,
        subscribers,
        events,
        cpuPerDeliveryUs: subscribers > 0 ? cpuUs / (events * subscribers) : cpuUs / events,
        lastP50: l.p50,
        lastP99: l.p99,
        firstP50: first.summary().p50,
        replyP50: reply.summary().p50,
        heapPerSubscriber,
        cpuPerSubscribeUs,
      };
    } finally {
      await clients?.stop();
    }
  } finally {
    await server.stop();
  }
}

interface Throughput {
  readonly idle: number;
  /** Mutations per second over all rounds. */
  readonly perSecond: number;
  /** Each round's mutations per second. */
  readonly rounds: readonly number[];
}

/**
 * Mutation throughput with no subscriber and with `idle` subscribers of a view the mutations do
 * not change: two servers run side by side and are measured in alternate rounds, so a burst of
 * other work on this shared machine falls on both alike.
 */
async function throughputSideBySide(idle: number): Promise<{ none: Throughput; idle: Throughput }> {
  const bare = await startServerChild('ours');
  const busy = await startServerChild('ours');
  const clients = startSubscribers(
    'graphql-ws',
    busy.subscriberUrls,
    idle,
    'subscription { usersCount { version kind added { id count } } }',
    true,
  );
  try {
    await clients.ready;
    // Warm both (JIT, pools) before measuring.
    await mutationsPerSecond(bare);
    await mutationsPerSecond(busy);
    const bareRounds: number[] = [];
    const busyRounds: number[] = [];
    for (let round = 0; round < THROUGHPUT_ROUNDS; round++) {
      bareRounds.push(await mutationsPerSecond(bare));
      busyRounds.push(await mutationsPerSecond(busy));
    }
    const overall = (rounds: number[]): number => rounds.reduce((sum, value) => sum + value, 0) / rounds.length;
    return {
      none: { idle: 0, perSecond: overall(bareRounds), rounds: bareRounds },
      idle: { idle, perSecond: overall(busyRounds), rounds: busyRounds },
    };
  } finally {
    await clients.stop();
    await Promise.all([bare.stop(), busy.stop()]);
  }
}

/** Mutations per second from concurrent HTTP writers over one round. */
async function mutationsPerSecond(server: ServerChild): Promise<number> {
  let done = 0;
  const deadline = now() + THROUGHPUT_SECONDS * 1000;
  await Promise.all(
    Array.from({ length: THROUGHPUT_WRITERS }, async (_, w) => {
      for (let i = 0; now() < deadline; i++) {
        const post = `p${(w * 131 + i * 17) % 2000}`;
        const response = await fetch(server.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: `mutation { updatePost(id: "${post}", patch: { likes: ${i} }) { id } }` }),
        });
        const body = (await response.json()) as { errors?: unknown[] };
        if (body.errors !== undefined) throw new Error(JSON.stringify(body.errors));
        done++;
      }
    }),
  );
  return done / THROUGHPUT_SECONDS;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);

async function main(): Promise<void> {
  const environment = describeEnvironment('npm run bench:fanout');
  const runs: Run[] = [];
  const record = (run: Run): Run => {
    runs.push(run);
    log(
      `${run.server} ${run.transport} ${run.subscribers}: ${significant(run.cpuPerDeliveryUs)} µs CPU/delivery, ` +
        `last p50 ${formatDuration(run.lastP50)} p99 ${formatDuration(run.lastP99)}, reply p50 ${formatDuration(run.replyP50)}, ` +
        `heap/sub ${Math.round(run.heapPerSubscriber)} B, CPU/subscribe ${significant(run.cpuPerSubscribeUs)} µs`,
    );
    return run;
  };
  if (PARTS.has('sse') && PARTS.size === 1) {
    record(await measure('ours', 'sse', SSE_SUBSCRIBERS));
    return;
  }
  if (PARTS.has('throughput') && PARTS.size === 1) {
    const { none, idle } = await throughputSideBySide(IDLE_SUBSCRIBERS);
    logThroughput(none, idle);
    return;
  }
  for (const subscribers of SUBSCRIBERS)
    for (const name of ['raw', 'raw-workers', 'yoga', 'ours'] as const)
      record(await measure(name, 'graphql-ws', subscribers));
  const noSubscribers = record(await measure('ours', 'graphql-ws', 0));
  const sse = record(await measure('ours', 'sse', SSE_SUBSCRIBERS));
  const { none, idle } = await throughputSideBySide(IDLE_SUBSCRIBERS);
  logThroughput(none, idle);
  writeReport(path.join(here, 'results', 'fanout.json'), JSON.stringify({ environment, runs, none, idle }, null, 2));
  writeReport(path.join(here, 'results', 'fanout.md'), report(environment, runs, noSubscribers, sse, none, idle));
}

function logThroughput(none: Throughput, idle: Throughput): void {
  const rounds = (throughput: Throughput): string => throughput.rounds.map(Math.round).join(', ');
  log(`throughput, no subscriber: ${Math.round(none.perSecond)}/s (rounds ${rounds(none)})`);
  log(`throughput, ${idle.idle} idle subscribers: ${Math.round(idle.perSecond)}/s (rounds ${rounds(idle)})`);
  log(`ratio ${formatRatio(idle.perSecond / none.perSecond)}`);
}

function report(
  environment: ReturnType<typeof describeEnvironment>,
  runs: readonly Run[],
  noSubscribers: Run,
  sse: Run,
  none: Throughput,
  idle: Throughput,
): string {
  const find = (server: ServerName, subscribers: number): Run | undefined =>
    runs.find((run) => run.server === server && run.subscribers === subscribers && run.transport !== 'sse');
  const cell = (run: Run | undefined): string =>
    run === undefined
      ? '–'
      : `${significant(run.cpuPerDeliveryUs)} µs (${formatDuration(run.lastP50)} / ${formatDuration(run.lastP99)})`;
  const ratio = (a: number | undefined, b: number | undefined): string =>
    a === undefined || b === undefined ? '–' : formatRatio(a / b);
  const heap = (run: Run | undefined): string =>
    run === undefined ? '–' : `${significant(run.heapPerSubscriber / 1024)} KiB`;
  const largest = Math.max(...SUBSCRIBERS);
  const subscribeCpu = (run: Run | undefined): string =>
    run === undefined ? '–' : `${significant(run.cpuPerSubscribeUs)} µs`;
  const ours1000 = find('ours', 1000);
  return [
    '# Fan-out',
    '',
    environmentMarkdown(environment),
    '',
    'Server CPU per delivered event (one `topPosts` DELTA, one updated row, to one subscriber), and trigger → last subscriber p50 / p99; each server in its own process, subscribers in two other processes (one graphql-ws connection and subscription each), one event at a time:',
    '',
    markdownTable(
      [
        { header: 'subscribers', value: (n: number) => n.toLocaleString('en-US'), align: 'right' },
        { header: 'raw `ws` (pre-serialised frame)', value: (n) => cell(find('raw', n)), align: 'right' },
        {
          header: `raw over ${WORKER_THREADS} worker threads`,
          value: (n) =>
            `${cell(find('raw-workers', n))}; ${ratio(find('raw-workers', n)?.cpuPerDeliveryUs, find('raw', n)?.cpuPerDeliveryUs)}, ${ratio(find('raw-workers', n)?.lastP50, find('raw', n)?.lastP50)} of raw`,
          align: 'right',
        },
        { header: 'yoga + graphql-ws + PubSub', value: (n) => cell(find('yoga', n)), align: 'right' },
        { header: 'ours', value: (n) => cell(find('ours', n)), align: 'right' },
        {
          header: 'ours / raw: CPU, p50',
          value: (n) =>
            `${ratio(find('ours', n)?.cpuPerDeliveryUs, find('raw', n)?.cpuPerDeliveryUs)}, ${ratio(find('ours', n)?.lastP50, find('raw', n)?.lastP50)}`,
          align: 'right',
        },
        {
          header: 'ours / yoga: CPU',
          value: (n) => ratio(find('ours', n)?.cpuPerDeliveryUs, find('yoga', n)?.cpuPerDeliveryUs),
          align: 'right',
        },
      ],
      SUBSCRIBERS,
    ),
    '',
    'Trigger → first subscriber p50 and the trigger’s reply p50:',
    '',
    markdownTable(
      [
        { header: 'subscribers', value: (n: number) => n.toLocaleString('en-US'), align: 'right' },
        ...(['raw', 'yoga', 'ours'] as const).map((name) => ({
          header: `${name}: first / reply`,
          value: (n: number) => {
            const run = find(name, n);
            return run === undefined ? '–' : `${formatDuration(run.firstP50)} / ${formatDuration(run.replyP50)}`;
          },
          align: 'right' as const,
        })),
      ],
      SUBSCRIBERS,
    ),
    '',
    markdownList([
      `Every event reached every subscriber in every run (a missing one fails the run).`,
      `Ours, \`updatePost\` reply p50: ${formatDuration(noSubscribers.replyP50)} with no subscriber, ${ours1000 === undefined ? '–' : formatDuration(ours1000.replyP50)} with 1,000 (${ratio(ours1000?.replyP50, noSubscribers.replyP50)}).`,
      `Ours, mutation throughput (${THROUGHPUT_WRITERS} concurrent HTTP writers, two servers side by side, ${THROUGHPUT_ROUNDS} alternate rounds of ${THROUGHPUT_SECONDS} s each): ${Math.round(none.perSecond)}/s with no subscriber, ${Math.round(idle.perSecond)}/s with ${IDLE_SUBSCRIBERS.toLocaleString('en-US')} idle subscribers of \`usersCount\`, which \`updatePost\` does not change (${Math.round((100 * idle.perSecond) / none.perSecond)} %).`,
      `Server heap per subscriber at ${largest.toLocaleString('en-US')} (after a full GC, minus the heap with none): raw ${heap(find('raw', largest))}, yoga ${heap(find('yoga', largest))}, ours ${heap(find('ours', largest))}.`,
      `Server CPU per subscriber to bring ${largest.toLocaleString('en-US')} up (connection and subscription; ours also builds and sends its SNAPSHOT): raw ${subscribeCpu(find('raw', largest))}, yoga ${subscribeCpu(find('yoga', largest))}, ours ${subscribeCpu(find('ours', largest))}.`,
      `Ours over SSE, ${SSE_SUBSCRIBERS.toLocaleString('en-US')} subscribers: ${cell(sse)}, reply p50 ${formatDuration(sse.replyP50)}, heap per subscriber ${heap(sse)}.`,
    ]),
    '',
  ].join('\n');
}

await main();
