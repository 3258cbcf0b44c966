/**
 * Storage benchmark: `npx tsx bench/storage.bench.ts [--quick] [--only=throughput|recovery]`
 * prints a markdown report.
 *
 * 1. Commit throughput, one transaction per change versus group commit, for both durability
 *    levels. "Per change" is what a server without group commit does: every mutation is its
 *    own `store.commit([change])`. "Grouped" is the `GroupCommitter` fed by C concurrent
 *    clients, each awaiting its own acknowledgement before sending its next mutation (so a
 *    group holds the requests that arrived while the previous flush ran). Rounds are
 *    interleaved; the median is reported.
 * 2. Recovery: open + `load()` (+ inserting every record into an engine `Circuit` with no
 *    views, as start-up does before registering views) for 100k and 1M demo-like records.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Circuit } from '../engine/index.js';
import { type Durability, GroupCommitter, openStore, type StoreChange } from '../storage/index.js';

const quick = process.argv.includes('--quick');
const only = process.argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
const dir = mkdtempSync(join(tmpdir(), 'storage-bench-'));
let fileNo = 0;
const freshFile = () => join(dir, `bench-${fileNo++}.sqlite`);

const user = (i: number) => ({
  id: `u${i}`,
  name: `User ${i}`,
  email: `user${i}@example.com`,
  role: i % 10 === 0 ? 'admin' : 'member',
  active: i % 3 !== 0,
  age: 18 + (i % 60),
});
const post = (i: number) => ({
  id: `p${i}`,
  authorId: `u${i % 1000}`,
  title: `Post number ${i}`,
  published: i % 4 !== 0,
  likes: i % 997,
});
const change = (i: number): StoreChange =>
  i % 2 === 0
    ? { table: 'users', op: 'CREATE', id: `u${i}`, record: user(i) }
    : { table: 'posts', op: 'CREATE', id: `p${i}`, record: post(i) };

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function perChange(durability: Durability, n: number): number {
  const store = openStore({ file: freshFile(), durability });
  const start = performance.now();
  for (let i = 0; i < n; i++) store.commit([change(i)]);
  const seconds = (performance.now() - start) / 1000;
  store.close();
  return n / seconds;
}

async function grouped(
  durability: Durability,
  n: number,
  clients: number,
): Promise<{ rate: number; avgGroup: number }> {
  const store = openStore({ file: freshFile(), durability });
  const committer = new GroupCommitter(store);
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < n) await committer.submit([change(next++)]);
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const { groups, committed } = committer.stats;
  committer.close();
  store.close();
  return { rate: n / seconds, avgGroup: committed / groups };
}

async function throughput(): Promise<string[]> {
  const rounds = quick ? 1 : 3;
  const out = [
    '## Commit throughput (single-record mutations, commits/s, median of ' + rounds + ' interleaved rounds)',
    '',
  ];
  out.push(
    '| durability | one transaction per change | grouped, 1 client | grouped, 10 clients | grouped, 100 clients | avg group (100 clients) | speed-up (100 clients vs per change) |',
  );
  out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const durability of ['process', 'power'] as const) {
    const n = durability === 'power' ? (quick ? 1000 : 3000) : quick ? 10_000 : 50_000;
    const results: { per: number[]; g1: number[]; g10: number[]; g100: number[]; avg: number[] } = {
      per: [],
      g1: [],
      g10: [],
      g100: [],
      avg: [],
    };
    for (let r = 0; r < rounds; r++) {
      results.per.push(perChange(durability, n));
      results.g1.push((await grouped(durability, n, 1)).rate);
      results.g10.push((await grouped(durability, n, 10)).rate);
      const g100 = await grouped(durability, n, 100);
      results.g100.push(g100.rate);
      results.avg.push(g100.avgGroup);
    }
    const per = median(results.per);
    const g100 = median(results.g100);
    out.push(
      `| ${durability} (${durability === 'power' ? 'synchronous=FULL' : 'synchronous=NORMAL'}), ${fmt(n)} changes | ${fmt(per)} | ${fmt(median(results.g1))} | ${fmt(median(results.g10))} | ${fmt(g100)} | ${median(results.avg).toFixed(1)} | ${(g100 / per).toFixed(1)}× |`,
    );
  }
  return out;
}

function recovery(rows: number): string {
  const file = freshFile();
  const fill = openStore({ file });
  const batch = 10_000;
  const fillStart = performance.now();
  for (let i = 0; i < rows; i += batch) {
    const changes: StoreChange[] = [];
    for (let j = i; j < Math.min(rows, i + batch); j++) changes.push(change(j));
    fill.commit(changes);
  }
  const fillSeconds = (performance.now() - fillStart) / 1000;
  fill.close();
  const size = statSync(file).size;

  const t0 = performance.now();
  const store = openStore({ file });
  const t1 = performance.now();
  let count = 0;
  for (const record of store.load()) if (record.id.length > 0) count++;
  const t2 = performance.now();
  store.close();

  const again = openStore({ file });
  const circuit = new Circuit({ tables: ['users', 'posts'] });
  const t3 = performance.now();
  for (const record of again.load()) circuit.ingestSingle(record.table, 'CREATE', record.id, record.data);
  const t4 = performance.now();
  again.close();
  if (count !== rows || circuit.tableSize('users') + circuit.tableSize('posts') !== rows)
    throw new Error('row count mismatch');
  return `| ${fmt(rows)} | ${(size / 2 ** 20).toFixed(0)} MiB | ${fmt(rows / fillSeconds)} rows/s | ${(t1 - t0).toFixed(0)} ms | ${((t2 - t1) / 1000).toFixed(2)} s | ${((t4 - t3) / 1000).toFixed(2)} s |`;
}

try {
  const lines = [
    `# Storage benchmark (${new Date().toISOString().slice(0, 10)}, Node ${process.version}, better-sqlite3 12, WAL)`,
    '',
  ];
  if (only !== 'recovery') lines.push(...(await throughput()), '');
  if (only !== 'throughput')
    lines.push('## Recovery (open + load; demo-like users/posts records, ~110 bytes of JSON each)', '');
  if (only !== 'throughput')
    lines.push(
      '| rows | file | bulk fill (10k per transaction) | open | load() (iterate + JSON.parse) | load() into a Circuit (no views yet) |',
    );
  if (only !== 'throughput') lines.push('| ---: | ---: | ---: | ---: | ---: | ---: |');
  if (only !== 'throughput') for (const rows of quick ? [100_000] : [100_000, 1_000_000]) lines.push(recovery(rows));
  console.log(lines.join('\n'));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
