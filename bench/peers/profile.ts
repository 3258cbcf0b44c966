/**
 * Runs one peer workload through the Circuit alone, for profiling the engine:
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/peers/profile.ts topk 20000
 *
 * Arguments: workload (filter | topk | topk-enter | join-rename | join-move | group | ten-views)
 * and the number of changes. BENCH_PEERS_ROWS / BENCH_PEERS_USERS set the table sizes.
 */
import { Circuit, type RecordChange } from '../../engine/index.js';
import { envNumber } from '../lib/environment.js';
import { formatDuration, Samples } from '../lib/stats.js';
import { ChangeStream, makePosts, makeUsers } from './data.js';
import { peerWorkload } from './views.js';

const [id = 'topk', count = '20000'] = process.argv.slice(2);
const workload = peerWorkload(id);
const rows = envNumber('BENCH_PEERS_ROWS', 100_000);
const userCount = envNumber('BENCH_PEERS_USERS', 1_000);
const users = makeUsers(userCount);
const posts = makePosts(rows, userCount, 100);
const stream = new ChangeStream({ posts, users }, 1100);
const circuit = new Circuit({ tables: ['users', 'posts'] });
circuit.ingestBatch(users.map((u): RecordChange => ({ table: 'users', op: 'CREATE', id: u.id, data: u })));
circuit.ingestBatch(posts.map((p): RecordChange => ({ table: 'posts', op: 'CREATE', id: p.id, data: p })));
for (const view of workload.views) circuit.registerView(view.def);
const changes = stream.take(workload.kind, Number(count));
const samples = new Samples(changes.length);
let sink = 0;
for (const c of changes) {
  const t0 = process.hrtime.bigint();
  sink += circuit.ingestSingle(c.table, c.op, c.id, c.data).length;
  samples.add(Number(process.hrtime.bigint() - t0));
}
const s = samples.summary();
console.log(
  `${id}: ${changes.length} changes, p50 ${formatDuration(s.p50)}, p99 ${formatDuration(s.p99)}, mean ${formatDuration(s.mean)} (${sink} updates)`,
);
