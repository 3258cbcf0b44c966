/**
 * `npm run bench:memory`: bytes per stored row, and bytes per row held by a filter, top-k,
 * join and group view, measured as the growth of the V8 heap after full garbage collections
 * (`--expose-gc`; the script re-runs itself with it). Target: a view holding a row
 * costs ≤ 100 bytes beyond the stored row it references.
 *
 * For each table size: the records are built (heap growth ÷ N = one record object, with its
 * strings), loaded into a Circuit (÷ N = the table's entry), then each view is registered
 * alone (growth ÷ rows it holds = its cost per row) and unregistered (the heap must come back:
 * a leak check). TanStack DB's cost for the same table and the same filter view is measured
 * the same way, for comparison.
 *
 * Knobs (environment): BENCH_MEMORY_ROWS (100000,1000000), BENCH_MEMORY_TANSTACK (1 = on).
 */
import v8 from 'node:v8';
import { Circuit, type ViewDefinition } from '../engine/index.js';
import {
  collectGarbage,
  describeEnvironment,
  ensureNodeFlags,
  envIntegers,
  environmentMarkdown,
  writeReport,
} from './lib/environment.js';
import { markdownList, markdownTable } from './lib/markdown.js';
import { asRecord, makePosts, makeUsers } from './peers/data.js';
import { engineRevision } from './peers/revision.js';
import { TanStackSystem } from './peers/tanstack.js';
import { filterView, groupView, indexesFor, joinView, topKView } from './peers/views.js';

ensureNodeFlags({ heapMiB: 12288 });

const SIZES = envIntegers('BENCH_MEMORY_ROWS', [100_000, 1_000_000]);
const WITH_TANSTACK = (process.env.BENCH_MEMORY_TANSTACK ?? '1') !== '0';
const USERS = 1_000;
const TARGET_BYTES = 100;

/** Heap in use after full collections (repeated until it stops shrinking). */
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

interface ViewCase {
  readonly kind: string;
  readonly def: ViewDefinition;
  /** what "a row held" means for this view */
  readonly per: 'result row' | 'candidate row' | 'input row';
  readonly note: string;
}

const CASES: readonly ViewCase[] = [
  {
    kind: 'filter (all rows pass)',
    def: { id: 'all', from: 'posts', where: { likes: { gte: 0 } } },
    per: 'result row',
    note: 'every post in the result',
  },
  {
    kind: 'filter (published, ≥ 100 likes)',
    def: filterView.def,
    per: 'result row',
    note: 'the peer benchmark’s filter view',
  },
  {
    kind: 'top-k (top 50 by score)',
    def: topKView.def,
    per: 'candidate row',
    note: 'ordered index of every candidate; 50 rows in the result',
  },
  {
    kind: 'top-k (no limit: all rows, ordered)',
    def: { id: 'ordered', from: 'posts', orderBy: [{ field: 'score', direction: 'desc' }] },
    per: 'result row',
    note: 'ordered index and result of every post',
  },
  {
    kind: 'join (posts ⋈ users, select 4 paths)',
    def: joinView.def,
    per: 'result row',
    note: 'the shared lookups it builds (posts by author, users by id) + two record references per row',
  },
  {
    kind: 'join (posts ⋈ users, whole rows)',
    def: {
      id: 'joinedWhole',
      from: 'posts',
      join: [{ table: 'users', as: 'author', on: { left: 'authorId', right: 'id' } }],
    },
    per: 'result row',
    note: 'the same; rows composed from their two records when read',
  },
  {
    kind: 'group (count, sum per author)',
    def: groupView.def,
    per: 'input row',
    note: `${USERS.toLocaleString('en-US')} groups`,
  },
];

interface ViewMemory {
  readonly kind: string;
  readonly per: string;
  readonly note: string;
  readonly rowsHeld: number;
  readonly resultRows: number;
  readonly bytes: number;
  readonly bytesPerRow: number;
  /** heap left behind after unregistering, per row held (≈ 0 when all state is released) */
  readonly leftPerRow: number;
}

interface SizeResult {
  readonly rows: number;
  readonly recordBytes: number;
  readonly tableEntryBytes: number;
  readonly views: ViewMemory[];
  readonly tanstack?: { readonly storedRowBytes: number; readonly filterRowBytes: number; readonly filterRows: number };
}

async function measureSize(rows: number): Promise<SizeResult> {
  const h0 = heapUsed();
  const users = makeUsers(USERS);
  const posts = makePosts(rows, USERS, 11);
  const h1 = heapUsed();
  const circuit = new Circuit({ tables: ['users', 'posts'] });
  circuit.load('users', users.map(asRecord));
  circuit.load('posts', posts.map(asRecord));
  const h2 = heapUsed();
  const recordBytes = (h1 - h0) / (rows + USERS);
  const tableEntryBytes = (h2 - h1) / (rows + USERS);
  console.log(
    `${rows.toLocaleString('en-US')} posts: record ${recordBytes.toFixed(0)} B, table entry ${tableEntryBytes.toFixed(0)} B per row`,
  );

  const views: ViewMemory[] = [];
  for (const c of CASES) {
    const before = heapUsed();
    const resultRows = circuit.registerView(c.def).rows.length;
    const after = heapUsed();
    circuit.unregisterView(c.def.id);
    const released = heapUsed();
    const rowsHeld = c.per === 'result row' ? resultRows : rows;
    const bytes = after - before;
    views.push({
      kind: c.kind,
      per: c.per,
      note: c.note,
      rowsHeld,
      resultRows,
      bytes,
      bytesPerRow: bytes / rowsHeld,
      leftPerRow: (released - before) / rowsHeld,
    });
    console.log(
      `  ${c.kind}: ${(bytes / rowsHeld).toFixed(1)} B per ${c.per} (${rowsHeld} rows), after unregister ${((released - before) / rowsHeld).toFixed(1)} B`,
    );
  }

  let tanstack: SizeResult['tanstack'];
  if (WITH_TANSTACK && rows <= 100_000) {
    // Both with the indexes the view wants (TanStack DB's best configuration), so the view's
    // share is what its live query adds on top of the indexed collection.
    const indexes = indexesFor([filterView]);
    const t0 = heapUsed();
    const system = await TanStackSystem.create({ posts, users }, [], indexes);
    const t1 = heapUsed();
    await system.dispose();
    const t2 = heapUsed();
    const withView = await TanStackSystem.create(
      { posts, users },
      [{ id: 'f', tanstack: filterView.tanstack }],
      indexes,
    );
    const t3 = heapUsed();
    const filterRows = withView.rows('f').length;
    await withView.dispose();
    tanstack = {
      storedRowBytes: (t1 - t0) / (rows + USERS),
      filterRowBytes: (t3 - t2 - (t1 - t0)) / filterRows,
      filterRows,
    };
    console.log(
      `  TanStack DB: stored row ${tanstack.storedRowBytes.toFixed(0)} B (its own copy), filter view ${tanstack.filterRowBytes.toFixed(0)} B per result row`,
    );
  }
  // keep the data alive until here
  if (posts.length + users.length < 0) console.log(circuit.tableSize('posts'));
  return { rows, recordBytes, tableEntryBytes, views, ...(tanstack === undefined ? {} : { tanstack }) };
}

async function main(): Promise<void> {
  const env = describeEnvironment('npm run bench:memory');
  const results: SizeResult[] = [];
  for (const rows of SIZES) results.push(await measureSize(rows));
  const report = renderReport(env, results);
  writeReport(
    'bench/results/memory.json',
    JSON.stringify({ environment: env, engine: engineRevision(), targetBytes: TARGET_BYTES, results }, null, 2),
  );
  console.log(`\n${report}\nreport: ${writeReport('bench/results/memory.md', report)}`);
}

function renderReport(env: ReturnType<typeof describeEnvironment>, results: readonly SizeResult[]): string {
  const fmt = (bytes: number): string => `${bytes.toFixed(bytes < 10 ? 1 : 0)} B`;
  const stored = markdownTable<SizeResult>(
    [
      { header: 'Posts', value: (r) => r.rows.toLocaleString('en-US'), align: 'right' },
      { header: 'record object (with its strings)', value: (r) => fmt(r.recordBytes), align: 'right' },
      { header: 'table entry', value: (r) => fmt(r.tableEntryBytes), align: 'right' },
      { header: 'stored row (record + entry)', value: (r) => fmt(r.recordBytes + r.tableEntryBytes), align: 'right' },
    ],
    results,
  );
  const rowsOf = (kind: string): (ViewMemory & { size: number })[] =>
    results.flatMap((r) => r.views.filter((v) => v.kind === kind).map((v) => ({ ...v, size: r.rows })));
  const kinds = CASES.map((c) => c.kind);
  const perView = markdownTable<string>(
    [
      { header: 'View', value: (kind) => kind },
      { header: 'per', value: (kind) => rowsOf(kind)[0]?.per ?? '' },
      ...results.map((r) => ({
        header: `${r.rows.toLocaleString('en-US')} posts`,
        value: (kind: string) => {
          const v = r.views.find((x) => x.kind === kind);
          return v === undefined ? '–' : fmt(v.bytesPerRow);
        },
        align: 'right' as const,
      })),
      {
        header: `≤ ${TARGET_BYTES} B`,
        value: (kind) => (rowsOf(kind).every((v) => v.bytesPerRow <= TARGET_BYTES) ? 'met' : 'MISSED'),
      },
      {
        header: 'left after unregister',
        value: (kind) =>
          rowsOf(kind)
            .map((v) => fmt(v.leftPerRow))
            .join(', '),
      },
      { header: 'what it holds', value: (kind) => rowsOf(kind)[0]?.note ?? '' },
    ],
    kinds,
  );
  const withTanstack = results.filter((r) => r.tanstack !== undefined);
  const tanstack =
    withTanstack.length === 0
      ? ''
      : markdownTable<SizeResult>(
          [
            { header: 'Posts', value: (r) => r.rows.toLocaleString('en-US'), align: 'right' },
            { header: 'Circuit: stored row', value: (r) => fmt(r.recordBytes + r.tableEntryBytes), align: 'right' },
            {
              header: 'TanStack DB: stored row (its copy, with BTree indexes on published and likes)',
              value: (r) => fmt(r.tanstack?.storedRowBytes ?? NaN),
              align: 'right',
            },
            {
              header: 'Circuit: filter view, per result row',
              value: (r) => fmt(r.views.find((v) => v.kind === CASES[1]?.kind)?.bytesPerRow ?? NaN),
              align: 'right',
            },
            {
              header: 'TanStack DB: same view, per result row',
              value: (r) => fmt(r.tanstack?.filterRowBytes ?? NaN),
              align: 'right',
            },
          ],
          withTanstack,
        );
  return [
    '# Memory: bytes per stored row and per row held by a view',
    '',
    environmentMarkdown(env),
    `- Engine measured: ${engineRevision()}`,
    '',
    markdownList([
      'V8 heap in use (`v8.getHeapStatistics().used_heap_size`) after repeated full GCs (`--expose-gc`), before and after each step; the difference divided by the rows concerned.',
      'Stored row: the record object itself (8 fields, with its strings) and its entry in the table. Views reference stored records; the cost of a view is what it adds on top.',
      `"per result row": divided by the rows in the view's result; "per candidate row" (top-k with a limit): divided by every row of the table, all of which its ordered index holds; "per input row" (group): divided by the table's rows. Target: ≤ ${TARGET_BYTES} B per row held beyond the stored row.`,
      'After each view is unregistered the heap is measured again: what is left (≈ 0) shows that unregistering releases its state.',
    ]),
    '',
    '## Stored rows',
    '',
    stored,
    '',
    '## Views',
    '',
    perView,
    '',
    ...(tanstack === '' ? [] : ['## TanStack DB, same data', '', tanstack, '']),
  ].join('\n');
}

await main();
