/**
 * Where the slow samples of a peer workload come from, for the Circuit alone: it runs the
 * workload as `bench:peers` does (rounds of changes, a full GC before each round) and, around
 * every change, reads the main thread's scheduler statistics (Linux `schedstat`: time on a
 * CPU, time waiting in the run queue) and watches for garbage collections. A sample slowed by
 * our own work shows as time on the CPU or as a GC; one slowed by the machine shows as time
 * spent runnable but waiting for a core.
 *
 *   npx tsx bench/peers/slow-samples.ts topk-enter [rounds=5] [changes=300]
 *
 * Workloads as in `profile.ts`. Prints the distribution, the slowest samples with what they
 * were made of, and the mean with and without the run-queue waits.
 */
import { readFileSync } from 'node:fs';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { Circuit, type RecordChange } from '../../engine/index.js';
import { collectGarbage, ensureNodeFlags } from '../lib/environment.js';
import { formatDuration } from '../lib/stats.js';
import { ChangeStream, makePosts, makeUsers } from './data.js';
import { peerWorkload } from './views.js';

ensureNodeFlags({ heapMiB: 4096 });

const [id = 'topk', roundsArg = '5', changesArg = '300'] = process.argv.slice(2);
const workload = peerWorkload(id);
const statFile = `/proc/self/task/${process.pid}/schedstat`;
/** [ns on a CPU, ns runnable but waiting for one] of the main thread */
const sched = (): [number, number] => {
  const [run = '0', wait = '0'] = readFileSync(statFile, 'utf8').split(' ');
  return [Number(run), Number(wait)];
};

const users = makeUsers(1_000);
const posts = makePosts(100_000, 1_000, 101);
const circuit = new Circuit({ tables: ['users', 'posts'] });
circuit.ingestBatch(users.map((u): RecordChange => ({ table: 'users', op: 'CREATE', id: u.id, data: u })));
circuit.ingestBatch(posts.map((p): RecordChange => ({ table: 'posts', op: 'CREATE', id: p.id, data: p })));
for (const view of workload.views) circuit.registerView(view.def);
const stream = new ChangeStream({ posts, users }, 1101);

const gcs: { start: number; end: number }[] = [];
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcs.push({ start: entry.startTime, end: entry.startTime + entry.duration });
});
observer.observe({ entryTypes: ['gc'] });

interface Sample {
  readonly ns: number;
  readonly wait: number;
  readonly start: number;
  readonly end: number;
}
const samples: Sample[] = [];
for (let round = -1; round < Number(roundsArg); round++) {
  const changes = stream.take(workload.kind, Number(changesArg));
  collectGarbage();
  for (const c of changes) {
    const [, wait0] = sched();
    const start = performance.now();
    const t0 = process.hrtime.bigint();
    circuit.ingestSingle(c.table, c.op, c.id, c.data);
    const ns = Number(process.hrtime.bigint() - t0);
    const end = performance.now();
    const [, wait1] = sched();
    if (round >= 0) samples.push({ ns, wait: Math.min(ns, wait1 - wait0), start, end });
  }
}
await new Promise((resolve) => setTimeout(resolve, 200)); // GC entries arrive asynchronously
observer.disconnect();

const inGc = (s: Sample) => gcs.some((gc) => gc.start < s.end && gc.end > s.start);
const sorted = samples.map((s) => s.ns).sort((a, b) => a - b);
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const mean = sum(sorted) / sorted.length;
const waited = sum(samples.map((s) => s.wait));
const slow = samples.filter((s) => s.ns > 1e6);
console.log(
  `${id}: ${samples.length} changes, p50 ${formatDuration(sorted[sorted.length >> 1] as number)}, mean ${formatDuration(mean)}`,
);
console.log(
  `samples over 1 ms: ${slow.length}, holding ${((sum(slow.map((s) => s.ns)) / sum(sorted)) * 100).toFixed(0)} % of all time; ` +
    `waiting for a core: ${formatDuration(sum(slow.map((s) => s.wait)))} of their ${formatDuration(sum(slow.map((s) => s.ns)))}; ` +
    `during a GC: ${slow.filter(inGc).length}`,
);
console.log(`mean without run-queue waits: ${formatDuration((sum(sorted) - waited) / sorted.length)}`);
for (const s of [...samples].sort((a, b) => b.ns - a.ns).slice(0, 8))
  console.log(
    `  ${formatDuration(s.ns)}: waited ${formatDuration(s.wait)} for a core${inGc(s) ? ', overlaps a GC' : ''}`,
  );
