/**
 * `npm run bench:peers`: our `Circuit` against TanStack DB live queries and against the plain
 * evaluator recomputing every view after every change (DESIGN §7).
 *
 * For each workload the three systems start from the same data and receive the same changes,
 * in the same process, interleaved: every round generates a batch of changes and each system
 * applies the whole batch in turn (the order rotates from round to round, and a full GC runs
 * before each system's turn, so no system pays for another's garbage). A change's latency
 * runs until its effect on every view is observable: `ingestSingle` returning its updates for
 * the Circuit; `commit()` returning, its change listeners called and one microtask turn
 * awaited for TanStack DB; the evaluator's new results for recompute. At the end of each
 * workload the contents of every view are compared across the three systems, and the run
 * fails unless they are equal.
 *
 * Knobs (environment): BENCH_PEERS_ROWS (100000), BENCH_PEERS_USERS (1000),
 * BENCH_PEERS_ROUNDS (5), BENCH_PEERS_CHANGES (changes per round, 300),
 * BENCH_PEERS_RECOMPUTE_S (seconds of recompute sampling per workload, 6),
 * BENCH_PEERS_ONLY (comma-separated workload ids), BENCH_BASELINE (a git revision: its engine runs
 * as a fourth system, side by side with ours, e.g. `BENCH_BASELINE=e98d65d`).
 *
 * Every system runs with NODE_ENV=production (TanStack DB makes development-only checks otherwise).
 */
import './lib/production.js';
import { readFileSync } from 'node:fs';
import { Circuit, evaluateView, type Record, type RecordChange } from '../engine/index.js';
import { type EngineModule, importEngineAt } from './lib/baseline-engine.js';
import {
  collectGarbage,
  describeEnvironment,
  ensureNodeFlags,
  environmentMarkdown,
  envNumber,
  writeReport,
} from './lib/environment.js';
import { markdownList, markdownTable } from './lib/markdown.js';
import { formatDuration, formatRatio, Samples, type Summary, timerOverheadNs } from './lib/stats.js';
import {
  asRecord,
  type ChangeKind,
  ChangeStream,
  makePosts,
  makeUsers,
  type Post,
  type TableChange,
  type User,
} from './peers/data.js';
import { engineRevision } from './peers/revision.js';
import { TanStackSystem } from './peers/tanstack.js';
import {
  filterView,
  groupView,
  indexesFor,
  joinView,
  normalizeRows,
  tenViews,
  topKView,
  type ViewSpec,
} from './peers/views.js';

ensureNodeFlags({ heapMiB: 8192 });

const ROWS = envNumber('BENCH_PEERS_ROWS', 100_000);
const USERS = envNumber('BENCH_PEERS_USERS', 1_000);
const ROUNDS = envNumber('BENCH_PEERS_ROUNDS', 5);
const CHANGES = envNumber('BENCH_PEERS_CHANGES', 300);
const RECOMPUTE_BUDGET_NS = envNumber('BENCH_PEERS_RECOMPUTE_S', 6) * 1e9;
/** Recompute is sampled at least this many times per workload, whatever the budget. */
const RECOMPUTE_MIN_SAMPLES = 3;
const ONLY = (process.env.BENCH_PEERS_ONLY ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter((s) => s !== '');

interface Workload {
  readonly id: string;
  readonly title: string;
  readonly change: string;
  readonly views: readonly ViewSpec[];
  readonly kind: ChangeKind;
}

const WORKLOADS: readonly Workload[] = [
  {
    id: 'filter',
    title: '1. Filter: insert/update/delete',
    change: 'insert, update or delete one post (in turn); view: published posts with ≥ 100 likes',
    views: [filterView],
    kind: 'filter-mix',
  },
  {
    id: 'topk',
    title: '2a. Top 50: random score change',
    change: "set one post's score to a random value (it rarely reaches the top 50)",
    views: [topKView],
    kind: 'score-random',
  },
  {
    id: 'topk-enter',
    title: '2b. Top 50: a row enters',
    change: "raise one post's score above all others (every change moves the window)",
    views: [topKView],
    kind: 'score-top',
  },
  {
    id: 'join-rename',
    title: '3a. Join: rename an author',
    change: `posts ⋈ users; rename one author (≈${Math.round(ROWS / USERS)} joined rows change)`,
    views: [joinView],
    kind: 'rename-user',
  },
  {
    id: 'join-move',
    title: '3b. Join: move a post',
    change: 'posts ⋈ users; give one post another author',
    views: [joinView],
    kind: 'move-post',
  },
  {
    id: 'group',
    title: '4. Group: move a post',
    change: 'count and sum of likes per author; move one post to another author',
    views: [groupView],
    kind: 'move-post',
  },
  {
    id: 'ten-views',
    title: '5. Ten views: mixed changes',
    change: 'ten views (filters, top-k, groups) on posts; create/delete 30 %, update any field 70 %',
    views: tenViews,
    kind: 'mixed',
  },
];

type SystemName = 'circuit' | 'tanstack' | 'recompute' | 'baseline';
const BASELINE = process.env.BENCH_BASELINE;
const baselineEngine: EngineModule | undefined = BASELINE === undefined ? undefined : await importEngineAt(BASELINE);
const SYSTEMS: readonly SystemName[] = [
  'circuit',
  'tanstack',
  'recompute',
  ...(baselineEngine === undefined ? [] : (['baseline'] as const)),
];
const LABEL: { [name in SystemName]: string } = {
  circuit: 'Circuit (ours)',
  tanstack: 'TanStack DB',
  recompute: 'Recompute (evaluator)',
  baseline: `Circuit at ${BASELINE}`,
};

interface SystemResult {
  readonly summary: Summary;
  /** p50 of each measured round (NaN when the round took no sample) */
  readonly roundP50: number[];
}

interface WorkloadResult {
  readonly id: string;
  readonly title: string;
  readonly change: string;
  readonly rows: number;
  readonly views: number;
  readonly viewRows: number;
  readonly systems: { [name in Exclude<SystemName, 'baseline'>]: SystemResult } & { baseline?: SystemResult };
  /** TanStack DB ÷ Circuit, recompute ÷ Circuit and (with BENCH_BASELINE) that engine ÷ ours, of p50 and of mean latency */
  readonly ratios: {
    tanstack: { p50: number; mean: number; roundMin: number; roundMax: number };
    recompute: { p50: number; mean: number };
    baseline?: { p50: number; mean: number };
  };
  readonly tanstackNotifications: { synchronous: number; afterMicrotask: number };
  readonly verified: true;
}

const hr = (): bigint => process.hrtime.bigint();
let sink = 0;

async function runWorkload(workload: Workload, seed: number): Promise<WorkloadResult> {
  const users = makeUsers(USERS);
  const posts = makePosts(ROWS, USERS, seed);
  const stream = new ChangeStream({ posts, users }, seed + 1000);
  const views = workload.views;

  // --- our engine
  const circuit = new Circuit({ tables: ['users', 'posts'] });
  circuit.ingestBatch(users.map((u): RecordChange => ({ table: 'users', op: 'CREATE', id: u.id, data: u })));
  circuit.ingestBatch(posts.map((p): RecordChange => ({ table: 'posts', op: 'CREATE', id: p.id, data: p })));
  for (const view of views) circuit.registerView(view.def);

  // --- the baseline engine, loaded the same way
  const before = baselineEngine === undefined ? undefined : new baselineEngine.Circuit({ tables: ['users', 'posts'] });
  if (before !== undefined) {
    before.ingestBatch(users.map((u): RecordChange => ({ table: 'users', op: 'CREATE', id: u.id, data: u })));
    before.ingestBatch(posts.map((p): RecordChange => ({ table: 'posts', op: 'CREATE', id: p.id, data: p })));
    for (const view of views) before.registerView(view.def);
  }

  // --- the plain evaluator over its own copy of the tables
  const tables = new Map<string, Map<string, Record>>([
    ['users', new Map(users.map((u) => [u.id, asRecord(u)]))],
    ['posts', new Map(posts.map((p) => [p.id, asRecord(p)]))],
  ]);

  // --- TanStack DB
  const tanstack = await TanStackSystem.create(
    { posts, users },
    views.map((view) => ({ id: view.def.id, tanstack: view.tanstack })),
    indexesFor(views),
  );

  const samples: { [name in SystemName]: Samples } = {
    circuit: new Samples(),
    tanstack: new Samples(),
    recompute: new Samples(),
    baseline: new Samples(),
  };
  const roundP50: { [name in SystemName]: number[] } = { circuit: [], tanstack: [], recompute: [], baseline: [] };
  let recomputeNs = 0;
  let synchronous = 0;
  let afterMicrotask = 0;

  const run: {
    [name in SystemName]: (changes: readonly TableChange[], into: Samples | undefined) => Promise<void> | void;
  } = {
    circuit(changes, into) {
      for (const c of changes) {
        const t0 = hr();
        const updates = circuit.ingestSingle(c.table, c.op, c.id, c.data);
        const t1 = hr();
        sink += updates.length;
        into?.add(Number(t1 - t0));
      }
    },
    baseline(changes, into) {
      if (before === undefined) return;
      for (const c of changes) {
        const t0 = hr();
        const updates = before.ingestSingle(c.table, c.op, c.id, c.data);
        const t1 = hr();
        sink += updates.length;
        into?.add(Number(t1 - t0));
      }
    },
    async tanstack(changes, into) {
      for (const c of changes) {
        const before = tanstack.notifications;
        const t0 = hr();
        tanstack.apply(c);
        const sync = tanstack.notifications;
        await null; // any work deferred to a microtask runs inside the measurement
        const t1 = hr();
        if (into !== undefined) {
          if (sync !== before) synchronous++;
          else if (tanstack.notifications !== before) afterMicrotask++;
        }
        into?.add(Number(t1 - t0));
      }
    },
    recompute(changes, into) {
      const roundBudget = RECOMPUTE_BUDGET_NS / ROUNDS;
      let elapsed = 0;
      changes.forEach((c, i) => {
        const timed =
          into !== undefined &&
          (i === 0
            ? into.length < RECOMPUTE_MIN_SAMPLES || recomputeNs < RECOMPUTE_BUDGET_NS
            : elapsed > 0 && elapsed < roundBudget);
        const t0 = hr();
        const table = tables.get(c.table) as Map<string, Record>;
        if (c.op === 'DELETE') table.delete(c.id);
        else table.set(c.id, asRecord(c.data as Post | User));
        if (!timed) return;
        for (const view of views) sink += evaluateView(view.def, tables).length;
        const dt = Number(hr() - t0);
        elapsed += dt;
        recomputeNs += dt;
        into?.add(dt);
      });
    },
  };

  // Warm-up round (not recorded), then the measured rounds.
  for (let round = -1; round < ROUNDS; round++) {
    const changes = stream.take(workload.kind, round < 0 ? Math.ceil(CHANGES / 2) : CHANGES);
    const order = SYSTEMS.map((_, i) => SYSTEMS[(i + Math.max(0, round)) % SYSTEMS.length] as SystemName);
    for (const name of order) {
      const into = round < 0 ? undefined : new Samples(CHANGES);
      collectGarbage();
      await run[name](changes, into);
      if (round < 0 && name === 'recompute') for (const view of views) sink += evaluateView(view.def, tables).length; // JIT warm-up
      if (into === undefined) continue;
      const sorted = into.sorted();
      for (const value of sorted) samples[name].add(value);
      roundP50[name].push(sorted.length === 0 ? Number.NaN : (sorted[Math.ceil(sorted.length / 2) - 1] as number));
    }
    await new Promise((resolve) => setImmediate(resolve)); // let timers of any system fire, outside measurements
  }

  // Every system must end with the same contents in every view.
  let viewRows = 0;
  for (const view of views) {
    const ours = normalizeRows(view, circuit.snapshot(view.def.id).rows);
    const theirs = normalizeRows(view, tanstack.rows(view.def.id));
    const oracle = normalizeRows(view, evaluateView(view.def, tables));
    for (const [name, rows] of [
      ['TanStack DB', theirs],
      ['recompute', oracle],
      ...(before === undefined
        ? []
        : ([[LABEL.baseline, normalizeRows(view, before.snapshot(view.def.id).rows)]] as const)),
    ] as const) {
      if (!sameRows(ours, rows)) {
        const missing = ours.filter((row) => !rows.includes(row)).slice(0, 3);
        const extra = rows.filter((row) => !ours.includes(row)).slice(0, 3);
        throw new Error(
          `CONTENTS DIFFER in workload '${workload.id}', view '${view.def.id}': Circuit has ${ours.length} rows, ${name} ${rows.length}.\n` +
            `  only in Circuit: ${missing.join(' ')}\n  only in ${name}: ${extra.join(' ')}`,
        );
      }
    }
    viewRows += ours.length;
  }
  console.log(
    `  contents verified: ${views.length} view(s), ${viewRows} rows, identical in ${SYSTEMS.map((s) => LABEL[s]).join(', ')}`,
  );

  await tanstack.dispose();
  const result = (name: SystemName): SystemResult => ({ summary: samples[name].summary(), roundP50: roundP50[name] });
  const systems = {
    circuit: result('circuit'),
    tanstack: result('tanstack'),
    recompute: result('recompute'),
    ...(before === undefined ? {} : { baseline: result('baseline') }),
  };
  const roundRatios = systems.tanstack.roundP50.map((p50, i) => p50 / (systems.circuit.roundP50[i] as number));
  return {
    id: workload.id,
    title: workload.title,
    change: workload.change,
    rows: ROWS,
    views: views.length,
    viewRows,
    systems,
    ratios: {
      tanstack: {
        p50: systems.tanstack.summary.p50 / systems.circuit.summary.p50,
        mean: systems.tanstack.summary.mean / systems.circuit.summary.mean,
        roundMin: Math.min(...roundRatios),
        roundMax: Math.max(...roundRatios),
      },
      recompute: {
        p50: systems.recompute.summary.p50 / systems.circuit.summary.p50,
        mean: systems.recompute.summary.mean / systems.circuit.summary.mean,
      },
      ...(systems.baseline === undefined
        ? {}
        : {
            baseline: {
              p50: systems.baseline.summary.p50 / systems.circuit.summary.p50,
              mean: systems.baseline.summary.mean / systems.circuit.summary.mean,
            },
          }),
    },
    tanstackNotifications: { synchronous, afterMicrotask },
    verified: true,
  };
}

function sameRows(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((row, i) => row === b[i]);
}

async function main(): Promise<void> {
  const command = 'npm run bench:peers';
  const env = describeEnvironment(command);
  const timer = timerOverheadNs();
  const selected = WORKLOADS.filter((w) => ONLY.length === 0 || ONLY.includes(w.id));
  console.log(
    `peers: ${selected.length} workloads, ${ROWS} posts, ${USERS} users, ${ROUNDS} rounds × ${CHANGES} changes per system`,
  );
  const results: WorkloadResult[] = [];
  for (const [i, workload] of selected.entries()) {
    const started = Date.now();
    console.log(`${workload.title}: ${workload.change}`);
    const result = await runWorkload(workload, 100 + i);
    results.push(result);
    const s = result.systems;
    console.log(
      `  p50 ${formatDuration(s.circuit.summary.p50)} | TanStack DB ${formatDuration(s.tanstack.summary.p50)} (${formatRatio(result.ratios.tanstack.p50)}) | ` +
        `recompute ${formatDuration(s.recompute.summary.p50)} (${formatRatio(result.ratios.recompute.p50)}) — ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  }
  if (sink === -1) console.log(sink); // keeps results alive

  const report = renderReport(results, env, timer);
  const file = writeReport('bench/results/peers.md', report);
  writeReport(
    'bench/results/peers.json',
    JSON.stringify(
      {
        environment: env,
        engine: engineRevision(),
        config: {
          rows: ROWS,
          users: USERS,
          rounds: ROUNDS,
          changes: CHANGES,
          ...(BASELINE === undefined ? {} : { baseline: BASELINE }),
        },
        timerOverheadNs: timer,
        results,
      },
      null,
      2,
    ),
  );
  console.log(`\n${summaryTable(results)}\n\ncontents verified in every workload; report: ${file}`);
}

function summaryTable(results: readonly WorkloadResult[]): string {
  return markdownTable<WorkloadResult>(
    [
      { header: 'Workload', value: (r) => r.title },
      { header: 'Change', value: (r) => r.change },
      { header: 'Circuit p50', value: (r) => formatDuration(r.systems.circuit.summary.p50), align: 'right' },
      { header: 'TanStack DB p50', value: (r) => formatDuration(r.systems.tanstack.summary.p50), align: 'right' },
      { header: 'Recompute p50', value: (r) => formatDuration(r.systems.recompute.summary.p50), align: 'right' },
      { header: '× vs TanStack DB', value: (r) => formatRatio(r.ratios.tanstack.p50), align: 'right' },
      { header: '× vs recompute', value: (r) => formatRatio(r.ratios.recompute.p50), align: 'right' },
      { header: 'Contents', value: (r) => (r.verified ? 'equal' : 'DIFFER') },
    ],
    results,
  );
}

function renderReport(
  results: readonly WorkloadResult[],
  env: ReturnType<typeof describeEnvironment>,
  timer: number,
): string {
  const of = (r: WorkloadResult, s: SystemName): SystemResult => r.systems[s] as SystemResult;
  const detail = markdownTable<[WorkloadResult, SystemName]>(
    [
      { header: 'Workload', value: ([r]) => r.title },
      { header: 'System', value: ([, s]) => LABEL[s] },
      { header: 'samples', value: ([r, s]) => String(of(r, s).summary.count), align: 'right' },
      { header: 'p50', value: ([r, s]) => formatDuration(of(r, s).summary.p50), align: 'right' },
      { header: 'p90', value: ([r, s]) => formatDuration(of(r, s).summary.p90), align: 'right' },
      { header: 'p99', value: ([r, s]) => formatDuration(of(r, s).summary.p99), align: 'right' },
      { header: 'mean', value: ([r, s]) => formatDuration(of(r, s).summary.mean), align: 'right' },
      {
        header: 'p50 per round',
        value: ([r, s]) => of(r, s).roundP50.filter(Number.isFinite).map(formatDuration).join(', '),
      },
    ],
    results.flatMap((r) =>
      SYSTEMS.filter((s) => r.systems[s] !== undefined).map((s): [WorkloadResult, SystemName] => [r, s]),
    ),
  );
  const ratios = markdownTable<WorkloadResult>(
    [
      { header: 'Workload', value: (r) => r.title },
      { header: 'vs TanStack DB (p50)', value: (r) => formatRatio(r.ratios.tanstack.p50), align: 'right' },
      { header: 'vs TanStack DB (mean)', value: (r) => formatRatio(r.ratios.tanstack.mean), align: 'right' },
      {
        header: 'per-round p50 range',
        value: (r) => `${formatRatio(r.ratios.tanstack.roundMin)} – ${formatRatio(r.ratios.tanstack.roundMax)}`,
        align: 'right',
      },
      { header: 'vs recompute (p50)', value: (r) => formatRatio(r.ratios.recompute.p50), align: 'right' },
      { header: 'vs recompute (mean)', value: (r) => formatRatio(r.ratios.recompute.mean), align: 'right' },
      ...(BASELINE === undefined
        ? []
        : [
            {
              header: `ours vs ${BASELINE} (p50 / mean; < 1: slower)`,
              value: (r: WorkloadResult) =>
                r.ratios.baseline === undefined
                  ? '–'
                  : `${formatRatio(r.ratios.baseline.p50)} / ${formatRatio(r.ratios.baseline.mean)}`,
              align: 'right' as const,
            },
            {
              header: 'not >10 % slower',
              value: (r: WorkloadResult) =>
                r.ratios.baseline === undefined
                  ? '–'
                  : Math.min(r.ratios.baseline.p50, r.ratios.baseline.mean) >= 1 / 1.1
                    ? 'met'
                    : 'MISSED',
            },
          ]),
      {
        header: '≥10× TanStack',
        value: (r) => (Math.min(r.ratios.tanstack.p50, r.ratios.tanstack.mean) >= 10 ? 'met' : 'MISSED'),
      },
      {
        header: '≥1,000× recompute',
        value: (r) => (Math.min(r.ratios.recompute.p50, r.ratios.recompute.mean) >= 1000 ? 'met' : 'MISSED'),
      },
    ],
    results,
  );
  const notifications = results.map((r) => r.tanstackNotifications);
  return [
    '# Peer comparison: Circuit vs TanStack DB vs recompute',
    '',
    environmentMarkdown(env),
    `- Engine measured: ${engineRevision()}`,
    '',
    markdownList([
      `Data: ${ROWS.toLocaleString('en-US')} posts, ${USERS.toLocaleString('en-US')} users (seeded); every workload starts from fresh copies.`,
      `Each workload: 1 warm-up round, then ${ROUNDS} rounds of ${CHANGES} changes; every system applies each round's changes in turn, the order rotating per round, after a full GC.`,
      `Recompute (the plain evaluator re-running every view of the workload after a change) is sampled for at most ${RECOMPUTE_BUDGET_NS / 1e9} s per workload (at least ${RECOMPUTE_MIN_SAMPLES} samples); it still applies every change.`,
      `TanStack DB ${tanstackVersion()}: sync-adapter collections (\`rowUpdateMode: 'full'\`), a BTreeIndex on every filtered, sorted, joined or grouped field, one preloaded live query per view. Its listeners fired synchronously inside \`commit()\` for ${notifications.reduce((n, x) => n + x.synchronous, 0)} measured changes and only after a microtask for ${notifications.reduce((n, x) => n + x.afterMicrotask, 0)}.`,
      `Latency per change, measured with \`process.hrtime.bigint()\` (timer overhead ≈ ${formatDuration(timer)}, included in every sample).`,
      'Ratios: the other system\'s latency ÷ the Circuit\'s; "per-round range" is the spread of the ratio of per-round medians.',
      'Every system runs with `NODE_ENV=production`.',
      ...(BASELINE === undefined
        ? []
        : [
            `${LABEL.baseline}: the engine of commit ${BASELINE}, run as a fourth system on the same data and changes, in the same rounds; "ours vs ${BASELINE}" is its latency ÷ ours (below 1: ours is slower).`,
          ]),
      "Contents: at the end of each workload every view's rows (compared fields, and order for ordered views) are equal in all three systems; the run fails otherwise.",
    ]),
    '',
    '## Summary',
    '',
    summaryTable(results),
    '',
    '## Ratios and targets',
    '',
    ratios,
    '',
    '## Latency distribution',
    '',
    detail,
    '',
  ].join('\n');
}

function tanstackVersion(): string {
  try {
    return (JSON.parse(readFileSync('node_modules/@tanstack/db/package.json', 'utf8')) as { version: string }).version;
  } catch {
    return '(version unknown)';
  }
}

await main();
