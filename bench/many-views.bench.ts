/**
 * `npm run bench:memory` and `npm run bench:engine` (this file's part): many views over one
 * table, the case shared ordered indexes and shared join indexes are for.
 *
 * - ad-hoc: V distinct views `where likes ne i, orderBy likes desc, limit 20` over N posts;
 * - topPosts: T views of the demo's topPosts shape (published, left join of the author,
 *   orderBy likes desc, limit 10), each with its own `likes ne i`;
 * - join: posts ⋈ users (whole rows, no limit): bytes held per joined row by a view beyond
 *   the shared lookups (a second such view), and by the first (which builds them).
 *
 * Mode `memory` measures the V8 heap each view adds beyond the table and the shared indexes
 * (full GCs, `--expose-gc`); mode `latency` the p50 of `registerView` and of `ingestSingle`
 * (a random post's likes change; for topPosts one change in ten renames a user) with every
 * view live. With `BENCH_BASELINE=<git revision>` the same cases run, in the same process on
 * the same data, against that commit's engine (the design before shared indexes: e.g.
 * `BENCH_BASELINE=e98d65d`), with fewer views (`BENCH_BASELINE_VIEWS`), since each of its
 * top-k views holds an index of every candidate. The end of each case checks a few views
 * against the plain evaluator.
 *
 * Knobs: BENCH_MANY_ROWS (100000), BENCH_MANY_VIEWS (10000), BENCH_MANY_TOPPOSTS (1000),
 * BENCH_BASELINE (none), BENCH_BASELINE_VIEWS (50), BENCH_MANY_CHANGES (2000), BENCH_MANY_ONLY
 * (comma-separated cases: ad-hoc, topPosts, join; all by default).
 */
import v8 from 'node:v8';
import type { Record, ViewDefinition } from '../engine/index.js';
import * as current from '../engine/index.js';
import { type EngineModule, importEngineAt } from './lib/baseline-engine.js';
import {
  collectGarbage,
  describeEnvironment,
  ensureNodeFlags,
  envIntegers,
  environmentMarkdown,
  writeReport,
} from './lib/environment.js';
import { markdownTable } from './lib/markdown.js';
import { formatDuration, nowNs, Samples } from './lib/stats.js';
import { asRecord, makePosts, makeUsers, Rng } from './peers/data.js';
import { engineRevision } from './peers/revision.js';

ensureNodeFlags({ heapMiB: 12288 });

const MODE = process.argv[2] === 'latency' ? 'latency' : 'memory';
const [ROWS = 100_000] = envIntegers('BENCH_MANY_ROWS', [100_000]);
const [VIEWS = 10_000] = envIntegers('BENCH_MANY_VIEWS', [10_000]);
const [TOP_POSTS = 1_000] = envIntegers('BENCH_MANY_TOPPOSTS', [1_000]);
const [BASELINE_VIEWS = 50] = envIntegers('BENCH_BASELINE_VIEWS', [50]);
const [CHANGES = 2_000] = envIntegers('BENCH_MANY_CHANGES', [2_000]);
const BASELINE = process.env.BENCH_BASELINE;
const USERS = 1_000;
const ONLY = (process.env.BENCH_MANY_ONLY ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter((s) => s !== '');
const runs = (kind: string): boolean => ONLY.length === 0 || ONLY.includes(kind);

const adhoc = (i: number): ViewDefinition => ({
  id: `adhoc${i}`,
  from: 'posts',
  where: { likes: { ne: i } },
  orderBy: [{ field: 'likes', direction: 'desc' }],
  limit: 20,
});
const topPosts = (i: number): ViewDefinition => ({
  id: `top${i}`,
  from: 'posts',
  where: { published: { eq: true }, likes: { ne: i } },
  join: [{ table: 'users', as: 'author', on: { left: 'authorId', right: 'id' }, kind: 'left' }],
  select: ['id', 'title', 'likes', 'author.name'],
  orderBy: [{ field: 'likes', direction: 'desc' }],
  limit: 10,
});
const joined: ViewDefinition = {
  id: 'joined',
  from: 'posts',
  join: [{ table: 'users', as: 'author', on: { left: 'authorId', right: 'id' } }],
};

function heapUsed(): number {
  let last = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 6; i++) {
    collectGarbage();
    const used = v8.getHeapStatistics().used_heap_size;
    if (used >= last - 4096) return used;
    last = used;
  }
  return last;
}

interface CaseResult {
  readonly engine: string;
  readonly kind: string;
  readonly views: number;
  /** heap the first view added: the shared indexes it built, and its own state */
  readonly firstViewBytes?: number;
  /** heap the second view added: the first of an order keeps a private top-k, the second builds the shared index */
  readonly secondViewBytes?: number;
  /** heap each further view added, on average (after the second, or after the first for a join) */
  readonly perViewBytes?: number;
  readonly registerP50Ns?: number;
  readonly ingestP50Ns?: number;
  readonly ingestMeanNs?: number;
  /** heap per joined row of a join view beyond the shared lookups (a second such view), and of the first */
  readonly joinBytesPerRow?: number;
  readonly firstJoinBytesPerRow?: number;
  readonly checked: number;
}

const posts = makePosts(ROWS, USERS, 11);
const users = makeUsers(USERS);

function loaded(engine: EngineModule): InstanceType<EngineModule['Circuit']> {
  const circuit = new engine.Circuit({ tables: ['users', 'posts'] });
  circuit.load('users', users.map(asRecord));
  circuit.load('posts', posts.map(asRecord));
  return circuit;
}

/** Registers `count` views of `make`, measures what the mode asks, checks a few against the evaluator. */
function runViews(
  engine: EngineModule,
  label: string,
  kind: string,
  make: (i: number) => ViewDefinition,
  count: number,
) {
  const circuit = loaded(engine);
  const h0 = MODE === 'memory' ? heapUsed() : 0;
  const register = new Samples(count);
  let t = nowNs();
  circuit.registerView(make(0));
  register.add(nowNs() - t);
  const h1 = MODE === 'memory' ? heapUsed() : 0;
  let h2 = h1;
  for (let i = 1; i < count; i++) {
    t = nowNs();
    circuit.registerView(make(i));
    register.add(nowNs() - t);
    if (i === 1 && MODE === 'memory') h2 = heapUsed();
  }
  const h3 = MODE === 'memory' ? heapUsed() : 0;
  const ingest = new Samples(CHANGES);
  if (MODE === 'latency') {
    const rng = new Rng(5);
    for (let n = 0; n < CHANGES; n++) {
      if (kind === 'topPosts' && n % 10 === 9) {
        const id = `u${rng.int(USERS)}`;
        const user = circuit.getRecord('users', id) as Record;
        t = nowNs();
        circuit.ingestSingle('users', 'UPDATE', id, { ...user, name: `${user['name']}!` });
      } else {
        const id = `p${rng.int(ROWS)}`;
        const post = circuit.getRecord('posts', id) as Record;
        t = nowNs();
        circuit.ingestSingle('posts', 'UPDATE', id, { ...post, likes: rng.int(1_000) });
      }
      ingest.add(nowNs() - t);
    }
  }
  const checked = check(circuit, [make(0), make(count - 1)]);
  const summary = ingest.summary();
  const result: CaseResult = {
    engine: label,
    kind,
    views: count,
    ...(MODE === 'memory'
      ? {
          firstViewBytes: h1 - h0,
          ...(count > 1 ? { secondViewBytes: h2 - h1 } : {}),
          perViewBytes: count > 2 ? (h3 - h2) / (count - 2) : h1 - h0,
        }
      : { registerP50Ns: register.summary().p50, ingestP50Ns: summary.p50, ingestMeanNs: summary.mean }),
    checked,
  };
  console.log(JSON.stringify(result));
  return result;
}

/** A join view registered twice: the first builds the shared lookups, the second shows what a view adds. */
function runJoin(engine: EngineModule, label: string): CaseResult {
  const circuit = loaded(engine);
  const h0 = heapUsed();
  const rows = circuit.registerView(joined).rows.length;
  const h1 = heapUsed();
  circuit.registerView({ ...joined, id: 'joined2' });
  const h2 = heapUsed();
  const result = {
    engine: label,
    kind: 'join',
    views: 2,
    firstViewBytes: h1 - h0,
    perViewBytes: h2 - h1,
    joinBytesPerRow: (h2 - h1) / rows,
    firstJoinBytesPerRow: (h1 - h0) / rows,
    checked: check(circuit, [joined]),
  };
  console.log(JSON.stringify(result));
  return result;
}

/** The views equal the plain evaluator over the circuit's tables; returns how many were checked. */
function check(circuit: InstanceType<EngineModule['Circuit']>, views: ViewDefinition[]): number {
  const tables = new Map(
    ['users', 'posts'].map((table) => [table, new Map([...circuit.records(table)].map((r) => [r.id, r]))]),
  );
  for (const view of views) {
    const expected = current.evaluateView(view, tables);
    const actual = circuit.snapshot(view.id).rows;
    if (JSON.stringify(actual) !== JSON.stringify(expected)) throw new Error(`${view.id} differs from the evaluator`);
  }
  return views.length;
}

async function main(): Promise<void> {
  const env = describeEnvironment(
    `npm run bench:${MODE === 'memory' ? 'memory' : 'engine'} (bench/many-views.bench.ts ${MODE})`,
  );
  const engines: { label: string; engine: EngineModule; limit: number }[] = [
    { label: `shared indexes (${engineRevision()})`, engine: current, limit: Number.POSITIVE_INFINITY },
  ];
  if (BASELINE !== undefined)
    engines.push({ label: `before (${BASELINE})`, engine: await importEngineAt(BASELINE), limit: BASELINE_VIEWS });
  const results: CaseResult[] = [];
  for (const { label, engine, limit } of engines) {
    if (runs('ad-hoc')) results.push(runViews(engine, label, 'ad-hoc', adhoc, Math.min(VIEWS, limit)));
    if (runs('topPosts')) results.push(runViews(engine, label, 'topPosts', topPosts, Math.min(TOP_POSTS, limit)));
    if (MODE === 'memory' && runs('join')) results.push(runJoin(engine, label));
  }
  const kb = (bytes: number | undefined) => (bytes === undefined ? '–' : `${(bytes / 1024).toFixed(1)} KB`);
  const us = (ns: number | undefined) => (ns === undefined ? '–' : formatDuration(ns));
  const table = markdownTable<CaseResult>(
    [
      { header: 'case', value: (r) => r.kind },
      { header: 'engine', value: (r) => r.engine },
      { header: 'views live', value: (r) => r.views.toLocaleString('en-US'), align: 'right' },
      ...(MODE === 'memory'
        ? [
            { header: 'first view', value: (r: CaseResult) => kb(r.firstViewBytes) },
            {
              header: 'second view',
              value: (r: CaseResult) => kb(r.secondViewBytes),
              align: 'right' as const,
            },
            { header: 'each further view', value: (r: CaseResult) => kb(r.perViewBytes), align: 'right' as const },
            {
              header: 'join: bytes per joined row (a further view; the first, with the lookups it built)',
              value: (r: CaseResult) =>
                r.joinBytesPerRow === undefined
                  ? '–'
                  : `${r.joinBytesPerRow.toFixed(0)} B (${(r.firstJoinBytesPerRow ?? 0).toFixed(0)} B)`,
              align: 'right' as const,
            },
          ]
        : [
            { header: 'register p50', value: (r: CaseResult) => us(r.registerP50Ns), align: 'right' as const },
            { header: 'ingestSingle p50', value: (r: CaseResult) => us(r.ingestP50Ns), align: 'right' as const },
            { header: 'ingestSingle mean', value: (r: CaseResult) => us(r.ingestMeanNs), align: 'right' as const },
          ]),
    ],
    results,
  );
  const report = [
    `# Many views over one table (${MODE})`,
    '',
    environmentMarkdown(env),
    '',
    `${ROWS.toLocaleString('en-US')} posts, ${USERS} users. ad-hoc: \`where likes ne i, orderBy likes desc, limit 20\`; topPosts: published, left join author, \`likes ne i\`, orderBy likes desc, limit 10; join: posts ⋈ users, whole rows. Each case checked two views against the plain evaluator.`,
    ...(MODE === 'memory'
      ? [
          '',
          "Heap after full GCs. The first top-k view of an order keeps a private top-k (an index of every row passing its filter); the second builds the shared ordered index of the table, which it and every later view read (so the second view's figure includes that index); each further view is the mean over the views after the second: what a view costs beyond the table and the shared indexes. Join: the first view builds the shared lookups, the second (each further view) shows what a view adds. The baseline engine keeps a private index in every view.",
        ]
      : []),
    '',
    table,
    '',
  ].join('\n');
  writeReport(`bench/results/many-views-${MODE}.json`, JSON.stringify({ environment: env, results }, null, 2));
  console.log(`\n${report}\nreport: ${writeReport(`bench/results/many-views-${MODE}.md`, report)}`);
}

await main();
