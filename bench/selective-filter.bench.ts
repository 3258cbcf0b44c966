/**
 * `npm run bench:selective`: the measurement behind the selective-filter policy (docs/semantics.md,
 * "Very selective filters keep a private index"). A top-k view over a shared ordered index
 * refills its window by scanning the index after its bound, skipping rows its filter rejects:
 * about K rows per refill for a filter passing 1 row in K. Past a threshold the view keeps a
 * private index of its matching rows instead (`engine/window-plan.ts`).
 *
 * 100k posts; an unfiltered view `orderBy likes desc limit 20` is registered first, so the shared
 * index of that order exists (the first view of an order keeps a private top-k). Then, for each K,
 * a view `where score lt R/K, orderBy likes desc, limit 20` (a range filter, which partitions
 * nothing) is registered and each step deletes its window's first row, so its window refills;
 * the p50 of `ingestSingle` covers the index update, the refill and the unfiltered view's work.
 * `viewStats` says which design the circuit chose.
 *
 * Knobs: BENCH_SELECTIVE_ROWS (100000), BENCH_SELECTIVE_STEPS (400), BENCH_SELECTIVE_K
 * (1,16,64,256,512,1024,4096).
 */
import { Circuit, type OrderKey, type ViewDefinition } from '../engine/index.js';
import { describeEnvironment, envIntegers, environmentMarkdown, writeReport } from './lib/environment.js';
import { markdownTable } from './lib/markdown.js';
import { formatDuration, nowNs, Samples } from './lib/stats.js';
import { asRecord, makePosts, makeUsers, SCORE_RANGE } from './peers/data.js';

const [ROWS = 100_000] = envIntegers('BENCH_SELECTIVE_ROWS', [100_000]);
const [STEPS = 400] = envIntegers('BENCH_SELECTIVE_STEPS', [400]);
const KS = envIntegers('BENCH_SELECTIVE_K', [1, 16, 64, 256, 512, 1024, 4096]);

interface Result {
  readonly k: number;
  readonly design: 'window' | 'private';
  readonly privateEntries: number;
  readonly registerNs: number;
  readonly p50: number;
  readonly mean: number;
  readonly steps: number;
}

const users = makeUsers(1_000);
const posts = makePosts(ROWS, 1_000, 11);
const order: OrderKey[] = [{ field: 'likes', direction: 'desc' }];

function run(k: number): Result {
  const circuit = new Circuit({ tables: ['users', 'posts'] });
  circuit.load('users', users.map(asRecord));
  circuit.load('posts', posts.map(asRecord));
  circuit.registerView({ id: 'anchor', from: 'posts', orderBy: order, limit: 20 });
  const id = `selective${k}`;
  const view: ViewDefinition = {
    id,
    from: 'posts',
    ...(k === 1 ? {} : { where: { score: { lt: Math.floor(SCORE_RANGE / k) } } }),
    orderBy: order,
    limit: 20,
  };
  const t = nowNs();
  circuit.registerView(view);
  const registerNs = nowNs() - t;
  const stats = circuit.viewStats(id);
  const design = stats.sharedIndexes.some((use) => use.kind === 'ordered') ? 'window' : 'private';
  const samples = new Samples(STEPS);
  for (let step = 0; step < STEPS; step++) {
    const first = circuit.snapshot(id).rows[0];
    if (first === undefined) break;
    const started = nowNs();
    circuit.ingestSingle('posts', 'DELETE', first.id as string);
    samples.add(nowNs() - started);
  }
  const summary = samples.summary();
  const result = {
    k,
    design,
    privateEntries: stats.privateIndexEntries,
    registerNs,
    p50: summary.p50,
    mean: summary.mean,
    steps: summary.count,
  } as const;
  console.log(JSON.stringify(result));
  return result;
}

const env = describeEnvironment('npm run bench:selective');
const results = KS.map(run);
const table = markdownTable<Result>(
  [
    { header: '1 row in K passes', value: (r) => r.k.toLocaleString('en-US'), align: 'right' },
    { header: 'design', value: (r) => r.design },
    { header: 'private index entries', value: (r) => r.privateEntries.toLocaleString('en-US'), align: 'right' },
    { header: 'register', value: (r) => formatDuration(r.registerNs), align: 'right' },
    { header: 'refill steps', value: (r) => String(r.steps), align: 'right' },
    { header: 'ingestSingle p50 (a refill)', value: (r) => formatDuration(r.p50), align: 'right' },
    { header: 'mean', value: (r) => formatDuration(r.mean), align: 'right' },
  ],
  results,
);
const report = [
  '# Selective filters: window over the shared index vs private index',
  '',
  environmentMarkdown(env),
  '',
  `${ROWS.toLocaleString('en-US')} posts; an unfiltered \`orderBy likes desc limit 20\` view first (so the shared index of that order exists), then \`where score lt ${SCORE_RANGE.toLocaleString('en-US')}/K, orderBy likes desc, limit 20\`; each step deletes that view's first row (its window refills). "design": what the circuit chose (docs/semantics.md, "Very selective filters keep a private index").`,
  '',
  table,
  '',
].join('\n');
console.log(`\n${report}\nreport: ${writeReport('bench/results/selective-filter.md', report)}`);
