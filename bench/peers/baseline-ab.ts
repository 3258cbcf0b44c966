/**
 * Our Circuit against the engine of an earlier commit on one peer workload, with nothing else
 * in between: the two apply each round's changes in turn (the order alternating, a full GC
 * before each), for many rounds. `bench:peers` runs four systems per round, so on a loaded
 * machine its "ours vs baseline" ratio of a fast workload moves by ±10 % from run to run; this
 * gives a steadier ratio, and how many rounds ours won.
 *
 *   npx tsx bench/peers/baseline-ab.ts group e98d65d [rounds=30] [changes=300]
 *
 * Workloads as in `profile.ts`. Every system runs with NODE_ENV=production.
 */
import '../lib/production.js';
import type { RecordChange } from '../../engine/index.js';
import * as current from '../../engine/index.js';
import { type EngineModule, importEngineAt } from '../lib/baseline-engine.js';
import { collectGarbage, ensureNodeFlags } from '../lib/environment.js';
import { formatDuration, Samples } from '../lib/stats.js';
import { ChangeStream, makePosts, makeUsers } from './data.js';
import { peerWorkload } from './views.js';

ensureNodeFlags({ heapMiB: 4096 });

const [id = 'group', revision = 'e98d65d', roundsArg = '30', changesArg = '300'] = process.argv.slice(2);
const workload = peerWorkload(id);
const users = makeUsers(1_000);
const posts = makePosts(100_000, 1_000, 105);

function loaded(engine: EngineModule): InstanceType<EngineModule['Circuit']> {
  const circuit = new engine.Circuit({ tables: ['users', 'posts'] });
  circuit.ingestBatch(users.map((u): RecordChange => ({ table: 'users', op: 'CREATE', id: u.id, data: u })));
  circuit.ingestBatch(posts.map((p): RecordChange => ({ table: 'posts', op: 'CREATE', id: p.id, data: p })));
  for (const view of workload.views) circuit.registerView(view.def);
  return circuit;
}

const circuits = { ours: loaded(current), base: loaded(await importEngineAt(revision)) };
const stream = new ChangeStream({ posts, users }, 1105);
const all = { ours: new Samples(), base: new Samples() };
const roundP50 = { ours: [] as number[], base: [] as number[] };
let sink = 0;
for (let round = -1; round < Number(roundsArg); round++) {
  const changes = stream.take(workload.kind, Number(changesArg));
  for (const name of round % 2 === 0 ? (['ours', 'base'] as const) : (['base', 'ours'] as const)) {
    collectGarbage();
    const samples = new Samples(changes.length);
    for (const c of changes) {
      const t0 = process.hrtime.bigint();
      sink += circuits[name].ingestSingle(c.table, c.op, c.id, c.data).length;
      samples.add(Number(process.hrtime.bigint() - t0));
    }
    if (round < 0) continue; // warm-up
    for (const value of samples.sorted()) all[name].add(value);
    roundP50[name].push(samples.summary().p50);
  }
}
const ours = all.ours.summary();
const base = all.base.summary();
console.log(
  `${id}: ours p50 ${formatDuration(ours.p50)}, mean ${formatDuration(ours.mean)} | ${revision} p50 ${formatDuration(base.p50)}, mean ${formatDuration(base.mean)} | ` +
    `${revision} ÷ ours: p50 ${(base.p50 / ours.p50).toFixed(3)}, mean ${(base.mean / ours.mean).toFixed(3)} (below 1: ours is slower)`,
);
const won = roundP50.ours.filter((p50, i) => p50 <= (roundP50.base[i] as number)).length;
console.log(
  `rounds whose p50 ours matched or beat: ${won}/${roundP50.ours.length}; per round ${revision} ÷ ours: ` +
    roundP50.ours.map((p50, i) => ((roundP50.base[i] as number) / p50).toFixed(2)).join(' '),
);
if (sink === -1) console.log(sink);
