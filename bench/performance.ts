/**
 * The README's performance section, generated from bench/results/{peers,scale,memory}.json by
 * `npm run bench:charts` (which renders the charts it links). Paths are relative to the
 * repository root, where the README lives.
 */
import { markdownTable } from './lib/markdown.js';
import { formatDuration, formatRatio } from './lib/stats.js';

interface Summary {
  p50: number;
  p99: number;
}

interface RunInfo {
  environment: { date: string; node: string; cores: number; cpuModel: string; loadAverage?: number };
  engine?: string;
}

export interface PeersJson extends RunInfo {
  config: { rows: number; users: number; rounds: number; changes: number; baseline?: string };
  results: {
    title: string;
    change: string;
    systems: { circuit: { summary: Summary }; tanstack: { summary: Summary }; recompute: { summary: Summary } };
    ratios: {
      tanstack: { p50: number; mean?: number; roundMin: number; roundMax: number };
      recompute: { p50: number };
      baseline?: { p50: number; mean: number };
    };
    verified: boolean;
  }[];
}

export interface ScaleJson extends RunInfo {
  config: { VIEW_ROWS: number };
  rows: { kind: string; rows: number; latency: Summary; recompute?: Summary }[];
  views: { series: string; views: number; rows: number; latency: Summary; registerMs: number }[];
}

export interface MemoryJson extends RunInfo {
  targetBytes: number;
  results: {
    rows: number;
    recordBytes: number;
    tableEntryBytes: number;
    views: { kind: string; per: string; bytesPerRow: number }[];
    tanstack?: { storedRowBytes: number; filterRowBytes: number };
  }[];
}

/** bench/results/many-views-{memory,latency}.json (`bench/many-views.bench.ts`). */
export interface ManyViewsJson extends RunInfo {
  results: {
    engine: string;
    kind: string;
    views: number;
    firstViewBytes?: number;
    secondViewBytes?: number;
    perViewBytes?: number;
    registerP50Ns?: number;
    ingestP50Ns?: number;
    ingestMeanNs?: number;
    joinBytesPerRow?: number;
  }[];
}

const TANSTACK_TARGET = 10;
const RECOMPUTE_TARGET = 1000;

const count = (n: number): string => n.toLocaleString('en-US');
const bytes = (n: number): string => `${n < 10 ? n.toFixed(1) : Math.round(n).toLocaleString('en-US')} B`;

function measured(run: RunInfo): string {
  const env = run.environment;
  return `${env.date.slice(0, 10)}, Node.js ${env.node}, ${env.cores} cores (${env.cpuModel}), engine ${run.engine ?? 'revision not recorded'}`;
}

function peersSection(peers: PeersJson): string[] {
  const missedTanstack = peers.results.filter((r) => r.ratios.tanstack.p50 < TANSTACK_TARGET);
  const missedRecompute = peers.results.filter((r) => r.ratios.recompute.p50 < RECOMPUTE_TARGET);
  const table = markdownTable<PeersJson['results'][number]>(
    [
      { header: 'Workload', value: (r) => r.title },
      { header: 'Circuit', value: (r) => formatDuration(r.systems.circuit.summary.p50), align: 'right' },
      { header: 'TanStack DB', value: (r) => formatDuration(r.systems.tanstack.summary.p50), align: 'right' },
      { header: 'Recompute', value: (r) => formatDuration(r.systems.recompute.summary.p50), align: 'right' },
      { header: '× TanStack DB', value: (r) => formatRatio(r.ratios.tanstack.p50), align: 'right' },
      {
        header: '(per round)',
        value: (r) => `${formatRatio(r.ratios.tanstack.roundMin)}–${formatRatio(r.ratios.tanstack.roundMax)}`,
        align: 'right',
      },
      {
        header: '(by mean)',
        value: (r) => (r.ratios.tanstack.mean === undefined ? '–' : formatRatio(r.ratios.tanstack.mean)),
        align: 'right',
      },
      { header: '× recompute', value: (r) => formatRatio(r.ratios.recompute.p50), align: 'right' },
      ...(peers.config.baseline === undefined
        ? []
        : [
            {
              header: `× engine at ${peers.config.baseline}`,
              value: (r: PeersJson['results'][number]) =>
                r.ratios.baseline === undefined ? '–' : formatRatio(r.ratios.baseline.p50),
              align: 'right' as const,
            },
          ]),
      { header: 'Contents', value: (r) => (r.verified ? 'equal' : 'DIFFER') },
    ],
    peers.results,
  );
  const changes = markdownTable<PeersJson['results'][number]>(
    [
      { header: 'Workload', value: (r) => r.title },
      { header: 'Views and change', value: (r) => r.change },
    ],
    peers.results,
  );
  const targets = (missed: typeof peers.results, target: string): string =>
    `${target}: met in ${peers.results.length - missed.length} of ${peers.results.length} workloads` +
    (missed.length === 0 ? '' : ` (**missed**: ${missed.map((r) => r.title.split(':')[0]).join(', ')})`);
  return [
    '### Against TanStack DB and recomputation',
    '',
    `Our \`Circuit\`, [TanStack DB](https://tanstack.com/db) live queries and the plain evaluator (\`evaluateView\`) recomputing every view after each change, on a ${count(peers.config.rows)}-row \`posts\` table (${count(peers.config.users)} \`users\`). ` +
      `The three systems get the same data and the same changes in the same process, interleaved: ${peers.config.rounds} rounds of ${count(peers.config.changes)} changes after a warm-up round, each system applying a round's changes in turn (the order rotates, with a full GC before each turn). ` +
      "Latency runs until the change is observable: `ingestSingle` returning its view updates; TanStack DB's `commit()` returning with its change listeners called, plus one awaited microtask; the evaluator's new results. " +
      "TanStack DB gets its best documented configuration: collections fed through a sync adapter (`rowUpdateMode: 'full'`), a `BTreeIndex` on every filtered, sorted, joined or grouped field, one preloaded live query per view. " +
      'At the end of every workload the contents of every view are compared across the three systems, and the run fails unless they are equal.',
    '',
    table,
    '',
    `p50 latency of one change; "×" is the other system's p50 ÷ ours ("per round": the range of that ratio over the rounds; "by mean": the ratio of mean latencies)${peers.config.baseline === undefined ? '' : `; "× engine at ${peers.config.baseline}": our engine before shared indexes, run as a fourth system in the same rounds (below 1: slower now)`}. Every system runs with \`NODE_ENV=production\`. Measured ${measured(peers)}. ` +
      `Targets: ${targets(missedTanstack, `≥ ${TANSTACK_TARGET}× faster than TanStack DB`)}; ${targets(missedRecompute, `≥ ${count(RECOMPUTE_TARGET)}× faster than recomputing`)}.`,
    '',
    changes,
    '',
    '![p50 latency per workload: Circuit, TanStack DB, recompute](bench/results/peers-latency.png)',
    '',
    '![speed-up over TanStack DB and over recomputation, with the targets](bench/results/peers-speedup.png)',
    '',
    'The evaluator is the correctness oracle, written for obviousness: it joins by nested loops, so its join recompute (seconds at 100k rows) overstates what a hash-join recompute would cost; its filter, top-k and group recomputes are linear scans and sorts.',
  ];
}

function scaleSection(scale: ScaleJson): string[] {
  const sizes = [...new Set(scale.rows.map((p) => p.rows))];
  const kinds = [...new Set(scale.rows.map((p) => p.kind))];
  const rows = markdownTable<string>(
    [
      { header: 'View', value: (k) => k },
      ...sizes.map((size) => ({
        header: `${count(size)} rows`,
        value: (k: string) => {
          const p = scale.rows.find((x) => x.kind === k && x.rows === size);
          if (p === undefined) return '–';
          return p.recompute === undefined
            ? formatDuration(p.latency.p50)
            : `${formatDuration(p.latency.p50)} (recompute ${formatDuration(p.recompute.p50)})`;
        },
        align: 'right' as const,
      })),
    ],
    kinds,
  );
  const counts = [...new Set(scale.views.map((p) => p.views))];
  const series = [...new Set(scale.views.map((p) => p.series))];
  const views = markdownTable<string>(
    [
      { header: 'Views on one table', value: (s) => s },
      ...counts.map((n) => ({
        header: count(n),
        value: (s: string) => {
          const p = scale.views.find((x) => x.series === s && x.views === n);
          return p === undefined ? '–' : formatDuration(p.latency.p50);
        },
        align: 'right' as const,
      })),
    ],
    series,
  );
  const viewRows = scale.views[0]?.rows ?? 0;
  return [
    '### Scale: table size and number of views',
    '',
    "p50 latency of one `ingestSingle` with one view of each kind (filter: published posts with ≥ 100 likes; top-k: top 50 by score; join: posts ⋈ users; group: count and sum per author) as the table grows, and the plain evaluator recomputing the same view (the evaluator's nested-loop join is only sampled up to 10k rows):",
    '',
    rows,
    '',
    '![latency of one change as the table grows, incremental and recomputed](bench/results/scale-rows.png)',
    '',
    `As views on one ${count(viewRows)}-row table grow: view i reads author i's posts (\`where authorId = u_i\`: the engine routes a change by its author to the views it can affect), every change touches a post of an author that has a view; "filter, score range" views select disjoint score bands, a range predicate that only a range index can route (without one every change visits every view):`,
    '',
    views,
    '',
    ...joinSeriesNote(scale),
    '![latency of one change as views on one table grow](bench/results/scale-views.png)',
    '',
    `Measured ${measured(scale)}. Full tables (p99, registration times): [bench/results/scale.md](bench/results/scale.md).`,
  ];
}

/** Why the join series of a run may stop short of the others. */
function joinSeriesNote(scale: ScaleJson): string[] {
  const most = (series: string) => Math.max(0, ...scale.views.filter((p) => p.series === series).map((p) => p.views));
  const join = most('join');
  const all = Math.max(...scale.views.map((p) => p.views));
  if (join === 0 || join >= all) return [];
  return [
    `The join series stops at ${count(join)} views: this run dates from when each join view kept its own index of the joined table (join views now share one, \`BENCH_SCALE_JOIN_VIEWS_MAX\` sets the cap).`,
    '',
  ];
}

function manyViewsSection(memory: ManyViewsJson | undefined, latency: ManyViewsJson | undefined): string[] {
  const kb = (n: number | undefined) => (n === undefined ? '–' : `${(n / 1024).toFixed(1)} KB`);
  const us = (n: number | undefined) => (n === undefined ? '–' : formatDuration(n));
  const rows = (memory?.results ?? latency?.results ?? []).filter((r) => r.kind !== 'join');
  const find = (run: ManyViewsJson | undefined, r: { engine: string; kind: string }) =>
    run?.results.find((x) => x.kind === r.kind && x.engine.split(' ')[0] === r.engine.split(' ')[0]);
  const table = markdownTable<ManyViewsJson['results'][number]>(
    [
      { header: 'Views', value: (r) => `${count(r.views)} ${r.kind}` },
      { header: 'Engine', value: (r) => r.engine },
      { header: 'Heap per further view', value: (r) => kb(find(memory, r)?.perViewBytes), align: 'right' },
      { header: 'register p50', value: (r) => us(find(latency, r)?.registerP50Ns), align: 'right' },
      { header: 'ingestSingle p50', value: (r) => us(find(latency, r)?.ingestP50Ns), align: 'right' },
      { header: 'ingestSingle mean', value: (r) => us(find(latency, r)?.ingestMeanNs), align: 'right' },
    ],
    rows,
  );
  const join = memory?.results.filter((r) => r.kind === 'join' && r.joinBytesPerRow !== undefined) ?? [];
  return [
    '### Many views over one table',
    '',
    'Ad-hoc views `where likes ne i, orderBy likes desc, limit 20` and topPosts-shaped views (published, left join of the author, `likes ne i`, top 10 by likes) on 100,000 posts, each view with its own filter value. Top-k views over a table\'s own rows keep only their window over one shared ordered index per (table, order); the first view of an order keeps a private top-k, the second builds the shared index. "Heap per further view" is the mean heap a view adds after the second, beyond the table and the shared indexes (target ≤ 10 KB); ingest changes a random post\'s likes with every view live (topPosts: one change in ten renames a user). The engine before shared indexes runs with 50 views, since each of its views indexes every candidate.',
    '',
    table,
    '',
    ...(join.length === 0
      ? []
      : [
          `A join view (posts ⋈ users, whole rows) holds ${join.map((r) => `${Math.round(r.joinBytesPerRow as number)} B per joined row (${r.engine})`).join(', ')} beyond the shared join indexes (target ≤ 100 B).`,
          '',
        ]),
    `Measured ${[memory, latency]
      .filter((run): run is ManyViewsJson => run !== undefined)
      .map(
        (run) =>
          `${run.environment.date.slice(0, 10)} (load average ${(run.environment.loadAverage ?? Number.NaN).toFixed(1)})`,
      )
      .join(
        ' and ',
      )}; full reports: [bench/results/many-views-memory.md](bench/results/many-views-memory.md), [bench/results/many-views-latency.md](bench/results/many-views-latency.md).`,
  ];
}

function memorySection(memory: MemoryJson): string[] {
  const sizes = memory.results.map((r) => r.rows);
  const kinds = [...new Set(memory.results.flatMap((r) => r.views.map((v) => v.kind)))];
  const stored = memory.results.map(
    (r) =>
      `${bytes(r.recordBytes + r.tableEntryBytes)} at ${count(r.rows)} rows (record object ${bytes(r.recordBytes)}, table entry ${bytes(r.tableEntryBytes)})`,
  );
  const table = markdownTable<string>(
    [
      { header: 'View', value: (k) => k },
      { header: 'per', value: (k) => memory.results[0]?.views.find((v) => v.kind === k)?.per ?? '' },
      ...sizes.map((size) => ({
        header: `${count(size)} rows`,
        value: (k: string) => {
          const v = memory.results.find((r) => r.rows === size)?.views.find((x) => x.kind === k);
          return v === undefined ? '–' : bytes(v.bytesPerRow);
        },
        align: 'right' as const,
      })),
      {
        header: `≤ ${memory.targetBytes} B`,
        value: (k) =>
          memory.results.every((r) => (r.views.find((v) => v.kind === k)?.bytesPerRow ?? 0) <= memory.targetBytes)
            ? 'met'
            : 'missed',
      },
    ],
    kinds,
  );
  const tanstack = memory.results.find((r) => r.tanstack !== undefined);
  return [
    '### Memory',
    '',
    `Heap growth after full GCs (\`--expose-gc\`). A stored row costs ${stored.join('; ')}. What each view adds, per row it holds (target: ≤ ${memory.targetBytes} B beyond the stored row, which views reference rather than copy):`,
    '',
    table,
    '',
    ...(tanstack?.tanstack === undefined
      ? []
      : [
          `For comparison, TanStack DB at ${count(tanstack.rows)} rows: ${bytes(tanstack.tanstack.storedRowBytes)} per stored row (its own copy, with the filter view's BTree indexes) and ${bytes(tanstack.tanstack.filterRowBytes)} per row of the same filter view.`,
          '',
        ]),
    '![bytes per row: stored row and each view](bench/results/memory.png)',
    '',
    `Measured ${measured(memory)}. Unregistering a view gives its memory back (see [bench/results/memory.md](bench/results/memory.md)).`,
  ];
}

export function performanceSection(
  peers: PeersJson | undefined,
  scale: ScaleJson | undefined,
  memory: MemoryJson | undefined,
  manyViews: { memory: ManyViewsJson | undefined; latency: ManyViewsJson | undefined } = {
    memory: undefined,
    latency: undefined,
  },
): string {
  return [
    '## Performance',
    '',
    'All figures come from one small shared machine, so read the ratios measured side by side rather than the absolute times. Reproduce them with:',
    '',
    '```sh',
    'npm run bench:peers    # Circuit vs TanStack DB vs recompute, 7 workloads, ~5 min',
    'npm run bench:scale    # latency vs table size (1k-1M rows) and vs views (1-10,000), ~3 min',
    'npm run bench:memory   # bytes per stored row and per row held by each view, ~2 min',
    'npm run bench:charts   # renders the PNGs below (offline) and regenerates this section',
    '```',
    '',
    'Each writes a markdown report and a JSON file under `bench/results/`. Environment variables shrink a run (e.g. `BENCH_PEERS_ROWS=10000 BENCH_PEERS_ROUNDS=2`, `BENCH_SCALE_ROWS=1000,10000`, `BENCH_MEMORY_ROWS=100000`; each script lists its knobs at the top). To profile the engine on one workload: `node --cpu-prof --import tsx bench/peers/profile.ts topk 100000`.',
    '',
    ...(peers === undefined ? [] : [...peersSection(peers), '']),
    ...(scale === undefined ? [] : [...scaleSection(scale), '']),
    ...(memory === undefined ? [] : [...memorySection(memory), '']),
    ...(manyViews.memory === undefined && manyViews.latency === undefined
      ? []
      : [...manyViewsSection(manyViews.memory, manyViews.latency), '']),
  ].join('\n');
}
