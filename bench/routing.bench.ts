/**
 * `npm run bench:routing` (also run by `npm run bench:engine`): the cost of routing a change
 * when thousands of parameterised views read one table. The demo's
 * `postsByAuthor(authorId)`: 10,000 views, one per author, against a single such view, over
 * the same 100,000 posts and the same changes, interleaved op by op. A third circuit holds
 * the 10,000 views as a viewer who is not their author gets them (the posts read rule ANDed
 * in: `authorId = $a AND (published OR authorId = $viewer)`).
 *
 * Measured: `ingestSingle` latency per change (creates, deletes, updates of likes, published
 * and authorId). Targets: p50 ≤ 10 µs with 10,000 views, and ≤ 2× the single-view p50.
 * Verified at the end: every view of the single-view circuit and a sample of 200 views of
 * each 10,000-view circuit equal the plain evaluator over the final table.
 *
 * Environment: BENCH_AUTHORS (10000), BENCH_POSTS (100000), BENCH_OPS (100000),
 * BENCH_OUT (bench/results/routing.md).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import demo from '../config/demo.js';
import { scopeView } from '../config/rules.js';
import { engineDefinition, type ViewConfig } from '../config/types.js';
import {
  Circuit,
  equalValues,
  evaluateView,
  type Record,
  type RecordChange,
  type ViewDefinition,
  type ViewParams,
} from '../engine/index.js';
import { Rng } from './engine/workload.js';
import {
  collectGarbage,
  describeEnvironment,
  ensureNodeFlags,
  environmentMarkdown,
  envNumber,
  writeReport,
} from './lib/environment.js';
import { markdownTable } from './lib/markdown.js';
import {
  formatDuration,
  formatMicros,
  formatRatio,
  nowNs,
  Samples,
  type Summary,
  timerOverheadNs,
} from './lib/stats.js';

ensureNodeFlags({ heapMiB: 4096 });

const AUTHORS = envNumber('BENCH_AUTHORS', 10_000);
const POSTS = envNumber('BENCH_POSTS', 100_000);
const OPS = envNumber('BENCH_OPS', 100_000);
const WARMUP = Math.min(20_000, OPS / 5);
const SAMPLE = 200;
const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT = process.env['BENCH_OUT'] ?? path.join(HERE, 'results', 'routing.md');

const view = demo.views.find((v) => v.id === 'postsByAuthor') as ViewConfig;
const definition = engineDefinition(view);
const postRules = demo.tables.find((t) => t.name === 'posts')?.rules;

interface Setup {
  readonly name: string;
  readonly circuit: Circuit;
  /** Each view's id, definition and params, for verification. */
  readonly views: { id: string; definition: ViewDefinition; params: ViewParams }[];
  readonly samples: Samples;
  readonly changes: readonly RecordChange[];
  registerNs: number;
  updates: number;
}

function author(i: number): string {
  return `u${i}`;
}

function makeSetup(
  name: string,
  posts: readonly Record[],
  views: number,
  ruled: boolean,
  changes: readonly RecordChange[],
): Setup {
  const circuit = new Circuit({ tables: ['users', 'posts'] });
  circuit.load('posts', posts);
  const setup: Setup = { name, circuit, views: [], samples: new Samples(OPS), changes, registerNs: 0, updates: 0 };
  const started = nowNs();
  for (let i = 0; i < views; i++) {
    let def: ViewDefinition = { ...definition, id: `postsByAuthor~${i}` };
    let params: ViewParams = { authorId: author(i) };
    if (ruled) {
      const read = postRules?.read;
      if (read === undefined) throw new Error('the demo has no read rule on posts');
      const scoped = scopeView(def, params, new Map([['posts', read]]), { sub: 'reader', role: 'viewer' });
      def = scoped.definition;
      params = scoped.params;
    }
    circuit.registerView(def, params);
    setup.views.push({ id: def.id, definition: def, params });
  }
  setup.registerNs = nowNs() - started;
  return setup;
}

function makePosts(rng: Rng): Record[] {
  return Array.from({ length: POSTS }, (_, i) => ({
    id: `p${String(i).padStart(7, '0')}`,
    authorId: author(rng.int(AUTHORS)),
    title: `post ${i}`,
    published: rng.next() < 0.7,
    likes: rng.int(1000),
  }));
}

/**
 * A change stream over `posts`: 15% creates, 15% deletes, updates of likes (40%), published
 * (20%) and authorId (10%). With `focus`, every change is to a post of that author (creates
 * are by them; an authorId update moves one of their posts away or another author's post
 * to them, half and half), so a single `postsByAuthor(focus)` view takes every change.
 */
function makeChanges(rng: Rng, posts: readonly Record[], focus?: string): RecordChange[] {
  const current = new Map(posts.map((post) => [post.id, post]));
  const mine = (post: Record): boolean => focus === undefined || post['authorId'] === focus;
  const live = posts.filter(mine).map((post) => post.id);
  const others = focus === undefined ? [] : posts.filter((post) => !mine(post)).map((post) => post.id);
  let created = 0;
  const changes: RecordChange[] = [];
  const remove = (list: string[], at: number): void => {
    list[at] = list[list.length - 1] as string;
    list.pop();
  };
  for (let i = 0; i < OPS + WARMUP; i++) {
    const roll = rng.next();
    if (roll < 0.15 || live.length < 5) {
      const id = `n${created++}`;
      const record: Record = {
        id,
        authorId: focus ?? author(rng.int(AUTHORS)),
        title: `new ${id}`,
        published: rng.next() < 0.7,
        likes: 0,
      };
      live.push(id);
      current.set(id, record);
      changes.push({ table: 'posts', op: 'CREATE', id, data: record });
      continue;
    }
    const at = rng.int(live.length);
    const id = live[at] as string;
    const old = current.get(id) as Record;
    if (roll < 0.3) {
      remove(live, at);
      current.delete(id);
      changes.push({ table: 'posts', op: 'DELETE', id });
      continue;
    }
    const field = roll < 0.7 ? 'likes' : roll < 0.9 ? 'published' : 'authorId';
    if (field === 'authorId' && focus !== undefined) {
      if (rng.next() < 0.5) {
        const record: Record = { ...old, authorId: author(1 + rng.int(AUTHORS - 1)) };
        remove(live, at);
        others.push(id);
        current.set(id, record);
        changes.push({ table: 'posts', op: 'UPDATE', id, data: record });
      } else {
        const from = rng.int(others.length);
        const otherId = others[from] as string;
        const record: Record = { ...(current.get(otherId) as Record), authorId: focus };
        remove(others, from);
        live.push(otherId);
        current.set(otherId, record);
        changes.push({ table: 'posts', op: 'UPDATE', id: otherId, data: record });
      }
      continue;
    }
    const value =
      field === 'likes'
        ? (old['likes'] as number) + 1
        : field === 'published'
          ? !old['published']
          : author(rng.int(AUTHORS));
    const record: Record = { ...old, [field]: value };
    current.set(id, record);
    changes.push({ table: 'posts', op: 'UPDATE', id, data: record });
  }
  return changes;
}

/** Feeds change i of each setup's stream to every setup, in a rotating order; times each `ingestSingle`. */
function run(setups: readonly Setup[]): void {
  for (const setup of setups)
    log(`registered ${setup.name} in ${formatDuration(setup.registerNs)}; ${JSON.stringify(setup.circuit.stats())}`);
  collectGarbage();
  for (let i = 0; i < OPS + WARMUP; i++) {
    for (let k = 0; k < setups.length; k++) {
      const setup = setups[(i + k) % setups.length] as Setup;
      const change = setup.changes[i] as RecordChange;
      const start = process.hrtime.bigint();
      const updates = setup.circuit.ingestSingle(change.table, change.op, change.id, change.data);
      const end = process.hrtime.bigint();
      if (i >= WARMUP) {
        setup.samples.add(Number(end - start));
        setup.updates += updates.length;
      }
    }
  }
}

function main(): void {
  const env = describeEnvironment('npm run bench:routing');
  const overhead = timerOverheadNs();
  const rng = new Rng(2025);
  const posts = makePosts(rng);
  const changes = makeChanges(rng, posts);
  const focused = makeChanges(new Rng(2026), posts, author(0));
  log(`routing benchmark: ${AUTHORS} authors, ${POSTS} posts, ${OPS} changes (+${WARMUP} warm-up)`);
  // Two passes, each interleaved op by op: the comparison the targets are about, then the
  // other cases, so that no more than two large circuits share the heap at a time. Each pass
  // is verified before its circuits are let go.
  const first = [
    makeSetup("1 view, every change to its author's posts", posts, 1, false, focused),
    makeSetup(
      `${AUTHORS.toLocaleString('en-US')} views (one per author), changes to any post`,
      posts,
      AUTHORS,
      false,
      changes,
    ),
  ];
  run(first);
  const failures = first.flatMap(verify);
  const firstDone = first.map(release);
  const second = [
    makeSetup(
      `${AUTHORS.toLocaleString('en-US')} views, read rule ANDed in (another viewer)`,
      posts,
      AUTHORS,
      true,
      changes,
    ),
    makeSetup('1 view, changes to any post (mostly reach no view)', posts, 1, false, changes),
  ];
  run(second);
  failures.push(...second.flatMap(verify));
  const setups = [...firstDone, ...second.map(release)];

  const summaries = setups.map((setup) => setup.samples.summary());
  const single = summaries[0] as Summary;
  const many = summaries[1] as Summary;
  const ratio = many.p50 / single.p50;
  const rows = setups.map((setup, i) => ({ setup, summary: summaries[i] as Summary }));
  const report = [
    '# Routing benchmark: `ingestSingle` with 10,000 `postsByAuthor` views',
    '',
    environmentMarkdown(env),
    `- Data: ${POSTS.toLocaleString('en-US')} posts by ${AUTHORS.toLocaleString('en-US')} authors (~${Math.round(POSTS / AUTHORS)} each); ${OPS.toLocaleString('en-US')} measured changes after ${WARMUP.toLocaleString('en-US')} warm-up (15% creates, 15% deletes, updates of likes 40%, published 20%, authorId 10%), interleaved op by op across the circuits; timer overhead ${formatDuration(overhead)} (included).`,
    "- The baseline is one view that takes every change (its author's posts are the ones changed), so both sides do the same view work per change and the ratio isolates routing. The last row, one view and changes to any post, mostly measures storing the record: almost no change reaches the view.",
    '',
    '## Results',
    '',
    markdownTable(
      [
        { header: 'circuit', value: (r: (typeof rows)[number]) => r.setup.name },
        { header: 'register', value: (r) => formatDuration(r.setup.registerNs), align: 'right' },
        {
          header: 'routes / index entries',
          value: (r) => `${r.setup.stats.routes} / ${r.setup.stats.indexEntries}`,
          align: 'right',
        },
        { header: 'p50 µs', value: (r) => formatMicros(r.summary.p50), align: 'right' },
        { header: 'p90 µs', value: (r) => formatMicros(r.summary.p90), align: 'right' },
        { header: 'p99 µs', value: (r) => formatMicros(r.summary.p99), align: 'right' },
        { header: 'mean µs', value: (r) => formatMicros(r.summary.mean), align: 'right' },
        { header: 'updates/op', value: (r) => (r.setup.updates / OPS).toFixed(3), align: 'right' },
        { header: 'p50 ÷ 1 view', value: (r) => formatRatio(r.summary.p50 / single.p50), align: 'right' },
      ],
      rows,
    ),
    '',
    '## Targets',
    '',
    markdownTable(
      [
        { header: 'target', value: (r: { target: string; measured: string; met: boolean }) => r.target },
        { header: 'measured', value: (r) => r.measured, align: 'right' },
        { header: 'met', value: (r) => (r.met ? 'yes' : '**no**') },
      ],
      [
        {
          target: `p50 with ${AUTHORS.toLocaleString('en-US')} views ≤ 10 µs`,
          measured: `${formatMicros(many.p50)} µs`,
          met: many.p50 <= 10_000,
        },
        { target: 'p50 with 10,000 views ≤ 2× p50 with 1 view', measured: formatRatio(ratio), met: ratio <= 2 },
      ],
    ),
    '',
    failures.length === 0
      ? `**verified**: every view of the 1-view circuit and ${SAMPLE} views of each other circuit (evenly spread) equal \`evaluateView\` over the final posts table.`
      : `**VERIFICATION FAILED**: ${failures.join('; ')}`,
    '',
    "Why it holds: the engine files each view under its `authorId eq value` conjunct (engine/routes.ts), so a change visits only the views whose value equals the old or the new row's authorId — one or two of 10,000 — plus the views without such a conjunct (none here). The read rule is an `or`, not a conjunct, so ANDing it in does not change the routing.",
  ].join('\n');
  process.stdout.write(`\n${report}\n`);
  writeReport(OUT, report);
  log(`wrote ${path.relative(process.cwd(), OUT)}`);
  if (failures.length > 0) process.exit(1);
}

interface Done {
  readonly name: string;
  readonly registerNs: number;
  readonly stats: ReturnType<Circuit['stats']>;
  readonly samples: Samples;
  readonly updates: number;
}

/** What the report needs of a setup, without its circuit (so it can be collected). */
function release(setup: Setup): Done {
  return {
    name: setup.name,
    registerNs: setup.registerNs,
    stats: setup.circuit.stats(),
    samples: setup.samples,
    updates: setup.updates,
  };
}

function verify(setup: Setup): string[] {
  const tables = new Map([['posts', new Map([...setup.circuit.records('posts')].map((r) => [r.id, r]))]]);
  const step = Math.max(1, Math.floor(setup.views.length / SAMPLE));
  const failures: string[] = [];
  for (let i = 0; i < setup.views.length; i += step) {
    const { id, definition: def, params } = setup.views[i] as Setup['views'][number];
    const expected = evaluateView(def, tables, params);
    const actual = setup.circuit.snapshot(id).rows;
    if (!equalValues(expected as never, actual as never)) failures.push(`${setup.name}: view ${id} differs`);
  }
  return failures;
}

function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

main();
