/**
 * `npm run bench:scale`: latency of one `ingestSingle` as the table grows and as the number
 * of views on one table grows, for filter, top-k, join and group views.
 *
 * Rows curve: for each table size, one Circuit holds `posts` (and 1,000 `users`); each view
 * kind is registered alone, measured over a stream of single-row changes, and unregistered.
 * The plain evaluator's recompute of the same view after a change is sampled beside it
 * (a few samples, within a time budget) to show what incremental maintenance saves.
 *
 * Views curve: one table, and 1 → 10,000 views of one kind, each parameterised by author
 * (`where authorId = u_i`, as one subscription per user would be), measured under a mixed
 * change stream; plus filter views on disjoint score ranges, which only a range index can
 * route (without one, every change visits every view: the worst case).
 *
 * Knobs (environment): BENCH_SCALE_ROWS (1000,10000,100000,1000000), BENCH_SCALE_CHANGES
 * (2000), BENCH_SCALE_VIEWS (1,10,100,1000,10000), BENCH_SCALE_VIEW_ROWS (20000),
 * BENCH_SCALE_VIEW_CHANGES (1000), BENCH_SCALE_RECOMPUTE_S (4 per size and kind),
 * BENCH_SCALE_JOIN_VIEWS_MAX (10000).
 */
import { Circuit, evaluateView, type Record, type ViewDefinition } from '../engine/index.js';
import {
  collectGarbage,
  describeEnvironment,
  ensureNodeFlags,
  envIntegers,
  environmentMarkdown,
  envNumber,
  writeReport,
} from './lib/environment.js';
import { markdownList, markdownTable } from './lib/markdown.js';
import { formatDuration, formatRatio, Samples, type Summary } from './lib/stats.js';
import {
  asRecord,
  type ChangeKind,
  ChangeStream,
  makePosts,
  makeUsers,
  type Post,
  SCORE_RANGE,
  type TableChange,
  type User,
  userId,
} from './peers/data.js';
import { engineRevision } from './peers/revision.js';
import { filterView, groupView, joinView, topKView } from './peers/views.js';

ensureNodeFlags({ heapMiB: 12288 });

const ROW_SIZES = envIntegers('BENCH_SCALE_ROWS', [1_000, 10_000, 100_000, 1_000_000]);
const CHANGES = envNumber('BENCH_SCALE_CHANGES', 2_000);
const VIEW_COUNTS = envIntegers('BENCH_SCALE_VIEWS', [1, 10, 100, 1_000, 10_000]);
const VIEW_ROWS = envNumber('BENCH_SCALE_VIEW_ROWS', 20_000);
const VIEW_CHANGES = envNumber('BENCH_SCALE_VIEW_CHANGES', 1_000);
const RECOMPUTE_BUDGET_NS = envNumber('BENCH_SCALE_RECOMPUTE_S', 4) * 1e9;
/**
 * The join series' cap. Join views share the joined table's index (one per table and
 * field), so each holds only its own rows: the series runs as far as the others.
 */
const JOIN_VIEWS_MAX = envNumber('BENCH_SCALE_JOIN_VIEWS_MAX', 10_000);
const USERS = 1_000;
/** The plain evaluator joins by nested loops: past this many row pairs a recompute is not sampled. */
const MAX_JOIN_PAIRS = 3e7;

type Kind = 'filter' | 'top-k' | 'join' | 'group';
const KINDS: readonly { kind: Kind; view: ViewDefinition; change: ChangeKind; describe: string }[] = [
  {
    kind: 'filter',
    view: filterView.def,
    change: 'filter-mix',
    describe: 'published posts with ≥ 100 likes; insert, update or delete one post',
  },
  { kind: 'top-k', view: topKView.def, change: 'score-random', describe: "top 50 by score; set one post's score" },
  {
    kind: 'join',
    view: joinView.def,
    change: 'move-post',
    describe: 'posts ⋈ users (author name); give one post another author',
  },
  {
    kind: 'group',
    view: groupView.def,
    change: 'move-post',
    describe: 'count and sum of likes per author; move one post to another author',
  },
];

interface RowsPoint {
  readonly kind: Kind;
  readonly rows: number;
  readonly registerMs: number;
  readonly viewRows: number;
  readonly latency: Summary;
  readonly recompute: Summary | undefined;
}

interface ViewsPoint {
  readonly series: string;
  readonly views: number;
  readonly rows: number;
  readonly registerMs: number;
  readonly latency: Summary;
}

const hr = (): bigint => process.hrtime.bigint();
let sink = 0;

function measure(circuit: Circuit, changes: readonly TableChange[], into: Samples | undefined): void {
  for (const c of changes) {
    const t0 = hr();
    const updates = circuit.ingestSingle(c.table, c.op, c.id, c.data);
    const t1 = hr();
    sink += updates.length;
    into?.add(Number(t1 - t0));
  }
}

function rowsCurve(): RowsPoint[] {
  const points: RowsPoint[] = [];
  for (const rows of ROW_SIZES) {
    const users = makeUsers(USERS);
    const posts = makePosts(rows, USERS, 3);
    const stream = new ChangeStream({ posts, users }, 4);
    const circuit = new Circuit({ tables: ['users', 'posts'] });
    circuit.load('users', users.map(asRecord));
    circuit.load('posts', posts.map(asRecord));
    const tables = new Map<string, Map<string, Record>>([
      ['users', new Map(users.map((u) => [u.id, asRecord(u)]))],
      ['posts', new Map(posts.map((p) => [p.id, asRecord(p)]))],
    ]);
    const applyToTables = (c: TableChange): void => {
      const table = tables.get(c.table) as Map<string, Record>;
      if (c.op === 'DELETE') table.delete(c.id);
      else table.set(c.id, asRecord(c.data as Post | User));
    };
    for (const { kind, view, change } of KINDS) {
      collectGarbage();
      const t0 = hr();
      const snapshot = circuit.registerView(view);
      const registerMs = Number(hr() - t0) / 1e6;
      const warm = stream.take(change, Math.ceil(CHANGES / 4));
      measure(circuit, warm, undefined);
      warm.forEach(applyToTables);
      const changes = stream.take(change, CHANGES);
      const samples = new Samples(CHANGES);
      collectGarbage();
      measure(circuit, changes, samples);
      changes.forEach(applyToTables);

      // Recompute: the evaluator re-running the view after one more change.
      let recompute: Summary | undefined;
      if (kind !== 'join' || rows * USERS <= MAX_JOIN_PAIRS) {
        const timed = new Samples(8);
        sink += evaluateView(view, tables).length; // warm-up, not timed
        let spent = 0;
        while (timed.length < 5 && (timed.length === 0 || spent < RECOMPUTE_BUDGET_NS)) {
          const c = stream.next(change);
          measure(circuit, [c], undefined);
          const s0 = hr();
          applyToTables(c);
          sink += evaluateView(view, tables).length;
          const dt = Number(hr() - s0);
          spent += dt;
          timed.add(dt);
        }
        recompute = timed.summary();
      }
      circuit.unregisterView(view.id);
      const latency = samples.summary();
      points.push({ kind, rows, registerMs, viewRows: snapshot.rows.length, latency, recompute });
      console.log(
        `  ${kind.padEnd(6)} ${rows.toLocaleString('en-US').padStart(9)} rows: p50 ${formatDuration(latency.p50)}, p99 ${formatDuration(latency.p99)}` +
          (recompute === undefined
            ? ''
            : `; recompute p50 ${formatDuration(recompute.p50)} (${formatRatio(recompute.p50 / latency.p50)})`) +
          `; register ${registerMs.toFixed(1)} ms`,
      );
    }
  }
  return points;
}

/** The views of one series, `i` from 0: per-author views, or score bands (range predicates). */
const SERIES: readonly { series: string; view: (i: number) => ViewDefinition; describe: string }[] = [
  {
    series: 'filter',
    view: (i) => ({ id: `f${i}`, from: 'posts', where: { authorId: { eq: userId(i) } } }),
    describe: 'posts of author i',
  },
  {
    series: 'top-k',
    view: (i) => ({
      id: `t${i}`,
      from: 'posts',
      where: { authorId: { eq: userId(i) } },
      orderBy: [{ field: 'score', direction: 'desc' }],
      limit: 10,
    }),
    describe: "author i's 10 best posts by score",
  },
  {
    series: 'join',
    view: (i) => ({
      id: `j${i}`,
      from: 'posts',
      where: { authorId: { eq: userId(i) } },
      join: [{ table: 'users', as: 'author', on: { left: 'authorId', right: 'id' }, kind: 'inner' }],
      select: ['id', 'title', 'author.name'],
    }),
    describe: "author i's posts with the author's name",
  },
  {
    series: 'group',
    view: (i) => ({
      id: `g${i}`,
      from: 'posts',
      where: { authorId: { eq: userId(i) } },
      groupBy: ['category'],
      aggregate: { posts: { fn: 'count' }, likes: { fn: 'sum', field: 'likes' } },
    }),
    describe: "author i's posts per category (count, sum of likes)",
  },
  {
    series: 'filter, score range',
    view: (i) => {
      const width = Math.floor(SCORE_RANGE / Math.max(...VIEW_COUNTS));
      return { id: `r${i}`, from: 'posts', where: { score: { gte: i * width, lt: (i + 1) * width } } };
    },
    describe:
      'posts whose score lies in band i (a range predicate, not an equality: routed only if the engine indexes ranges, else every change visits every view)',
  },
];

function viewsCurve(): ViewsPoint[] {
  const points: ViewsPoint[] = [];
  const authors = Math.max(...VIEW_COUNTS);
  for (const { series, view } of SERIES) {
    const users = makeUsers(authors);
    const posts = makePosts(VIEW_ROWS, authors, 5);
    const stream = new ChangeStream({ posts, users }, 6);
    const circuit = new Circuit({ tables: ['users', 'posts'] });
    circuit.load('users', users.map(asRecord));
    circuit.load('posts', posts.map(asRecord));
    let registered = 0;
    let registerNs = 0;
    for (const count of [...VIEW_COUNTS].sort((a, b) => a - b)) {
      if (series === 'join' && count > JOIN_VIEWS_MAX) continue;
      const t0 = hr();
      for (; registered < count; registered++) circuit.registerView(view(registered));
      registerNs += Number(hr() - t0);
      // Changes touch only posts of the authors that have a view (and move posts among them):
      // every change reaches a view, and the curve shows what the other views cost it.
      stream.scope(count);
      measure(circuit, stream.take('mixed', Math.ceil(VIEW_CHANGES / 4)), undefined);
      const samples = new Samples(VIEW_CHANGES);
      collectGarbage();
      measure(circuit, stream.take('mixed', VIEW_CHANGES), samples);
      const latency = samples.summary();
      points.push({ series, views: count, rows: VIEW_ROWS, registerMs: registerNs / 1e6, latency });
      console.log(
        `  ${series.padEnd(18)} ${count.toLocaleString('en-US').padStart(6)} views: p50 ${formatDuration(latency.p50)}, p99 ${formatDuration(latency.p99)}; registered in ${(registerNs / 1e9).toFixed(1)} s`,
      );
    }
  }
  return points;
}

function main(): void {
  const env = describeEnvironment('npm run bench:scale');
  console.log(`rows curve: ${ROW_SIZES.join(', ')} posts, ${CHANGES} changes per point`);
  const rows = rowsCurve();
  console.log(`views curve: ${VIEW_COUNTS.join(', ')} views on ${VIEW_ROWS} posts, ${VIEW_CHANGES} changes per point`);
  const views = viewsCurve();
  if (sink === -1) console.log(sink);
  const report = renderReport(env, rows, views);
  writeReport(
    'bench/results/scale.json',
    JSON.stringify(
      {
        environment: env,
        engine: engineRevision(),
        config: { ROW_SIZES, CHANGES, VIEW_COUNTS, VIEW_ROWS, VIEW_CHANGES, USERS },
        rows,
        views,
      },
      null,
      2,
    ),
  );
  console.log(`\n${report}\nreport: ${writeReport('bench/results/scale.md', report)}`);
}

function renderReport(
  env: ReturnType<typeof describeEnvironment>,
  rows: readonly RowsPoint[],
  views: readonly ViewsPoint[],
): string {
  const sizes = [...new Set(rows.map((p) => p.rows))];
  const rowsTable = markdownTable<{ kind: Kind }>(
    [
      { header: 'View', value: (r) => r.kind },
      ...sizes.map((size) => ({
        header: `${size.toLocaleString('en-US')} rows`,
        value: (r: { kind: Kind }) => {
          const point = rows.find((p) => p.kind === r.kind && p.rows === size);
          return point === undefined
            ? '–'
            : `${formatDuration(point.latency.p50)} (p99 ${formatDuration(point.latency.p99)})`;
        },
        align: 'right' as const,
      })),
    ],
    KINDS.map(({ kind }) => ({ kind })),
  );
  const recomputeTable = markdownTable<{ kind: Kind }>(
    [
      { header: 'View', value: (r) => r.kind },
      ...sizes.map((size) => ({
        header: `${size.toLocaleString('en-US')} rows`,
        value: (r: { kind: Kind }) => {
          const point = rows.find((p) => p.kind === r.kind && p.rows === size);
          if (point?.recompute === undefined) return '– (not sampled)';
          return `${formatDuration(point.recompute.p50)} (${formatRatio(point.recompute.p50 / point.latency.p50)})`;
        },
        align: 'right' as const,
      })),
    ],
    KINDS.map(({ kind }) => ({ kind })),
  );
  const registerTable = markdownTable<{ kind: Kind }>(
    [
      { header: 'View', value: (r) => r.kind },
      ...sizes.map((size) => ({
        header: `${size.toLocaleString('en-US')} rows`,
        value: (r: { kind: Kind }) => {
          const point = rows.find((p) => p.kind === r.kind && p.rows === size);
          return point === undefined ? '–' : `${point.registerMs.toFixed(1)} ms`;
        },
        align: 'right' as const,
      })),
    ],
    KINDS.map(({ kind }) => ({ kind })),
  );
  const counts = [...new Set(views.map((p) => p.views))];
  const seriesNames = [...new Set(views.map((p) => p.series))];
  const viewsTable = markdownTable<string>(
    [
      { header: 'Views of one kind', value: (s) => s },
      ...counts.map((count) => ({
        header: `${count.toLocaleString('en-US')}`,
        value: (s: string) => {
          const point = views.find((p) => p.series === s && p.views === count);
          return point === undefined
            ? '–'
            : `${formatDuration(point.latency.p50)} (p99 ${formatDuration(point.latency.p99)})`;
        },
        align: 'right' as const,
      })),
      {
        header: `register all ${Math.max(...counts).toLocaleString('en-US')}`,
        value: (s) => `${((views.filter((p) => p.series === s).at(-1)?.registerMs ?? NaN) / 1000).toFixed(1)} s`,
        align: 'right',
      },
    ],
    seriesNames,
  );
  return [
    '# Scale curves: one `ingestSingle` as tables and views grow',
    '',
    environmentMarkdown(env),
    `- Engine measured: ${engineRevision()}`,
    '',
    '## Latency as the table grows',
    '',
    markdownList([
      `One view of each kind on a \`posts\` table of N rows (and ${USERS.toLocaleString('en-US')} users), registered alone; ${CHANGES} measured single-row changes per point after ${Math.ceil(CHANGES / 4)} warm-up changes.`,
      ...KINDS.map(({ kind, describe }) => `${kind}: ${describe}.`),
      'p50 (p99) of the latency of one `ingestSingle`, including the view update it returns.',
    ]),
    '',
    rowsTable,
    '',
    'The plain evaluator recomputing the same view after a change (p50 of up to 5 samples; the factor is recompute ÷ incremental). The evaluator joins by nested loops, so its join is only sampled up to 30 M row pairs:',
    '',
    recomputeTable,
    '',
    'Registering the view over the loaded table (its initial result):',
    '',
    registerTable,
    '',
    '## Latency as views on one table grow',
    '',
    markdownList([
      `${VIEW_ROWS.toLocaleString('en-US')} posts by ${Math.max(...counts).toLocaleString('en-US')} authors; view i reads author i's posts (\`where authorId = u_i\`), so the engine routes a change by its author to the few views it can affect.`,
      ...SERIES.map(({ series, describe }) => `${series}: ${describe}.`),
      JOIN_VIEWS_MAX >= Math.max(...counts)
        ? 'Join views share one index of the joined table per (table, field), each holding only its own rows: the join series runs as far as the others.'
        : `The join series stops at ${JOIN_VIEWS_MAX.toLocaleString('en-US')} views (BENCH_SCALE_JOIN_VIEWS_MAX).`,
      `Mixed change stream (create/delete 30 %, update of any post field 70 %), restricted to the posts of authors that have a view, so every change reaches at least one view; ${VIEW_CHANGES} measured changes per point. p50 (p99) of one \`ingestSingle\`.`,
    ]),
    '',
    viewsTable,
    '',
  ].join('\n');
}

main();
