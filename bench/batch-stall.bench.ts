/**
 * How long the largest allowed batch holds the event loop: `npm run bench:batch-stall`.
 *
 * A server in this process (the demo config, tables in memory, durable write path) holds
 * BENCH_STALL_POSTS posts (default 20,000) and 100 ad-hoc live queries over them; a client
 * sends `ingestBatch` with `maxBatchChanges` changes (default 100, the default limit; BENCH_STALL_CHANGES) of
 * each kind — creates, updates, deletes — over HTTP. A write is applied in one synchronous
 * step, so while it runs no other client is served: the figure is the longest event-loop
 * delay seen during each batch (`perf_hooks.monitorEventLoopDelay`, 1 ms resolution), and the
 * batch's round trip. Five runs of each; medians and maxima printed.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadConfig } from '../config/load.js';
import { startServer } from '../server/app.js';
import { createLogger } from '../server/logger.js';

const POSTS = Number(process.env['BENCH_STALL_POSTS'] ?? 20_000);
const CHANGES = Number(process.env['BENCH_STALL_CHANGES'] ?? 100);
const RUNS = 5;
const VIEWS = Number(process.env['BENCH_STALL_VIEWS'] ?? 100);

const server = await startServer({
  checked: await loadConfig(),
  port: 0,
  logger: createLogger({ level: 'error' }),
  storage: { file: ':memory:' },
  writeLimits: { maxBatchChanges: Math.max(CHANGES, 1_000) },
});

async function batch(changes: unknown[]): Promise<void> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: 'mutation($c: [ChangeInput!]!) { ingestBatch(changes: $c) { ids } }',
      variables: { c: changes },
    }),
  });
  const body = (await response.json()) as { errors?: unknown };
  if (body.errors !== undefined) throw new Error(JSON.stringify(body.errors));
}

const post = (i: number, likes: number) => ({
  id: `p${i}`,
  authorId: `u${i % 100}`,
  title: `post ${i}`,
  published: i % 2 === 0,
  likes,
});
const creates = (from: number, n: number) =>
  Array.from({ length: n }, (_, k) => ({ table: 'posts', op: 'CREATE', id: `p${from + k}`, data: post(from + k, k) }));

try {
  for (let i = 0; i < POSTS; i += 1_000) await batch(creates(i, Math.min(1_000, POSTS - i)));
  // 100 live queries over posts (each a view the batch must maintain).
  for (let n = 0; n < VIEWS; n++) {
    server.access.lease(
      'posts',
      {
        id: 'posts',
        from: 'posts',
        where: { likes: { gte: n * 10 } },
        orderBy: [{ field: 'likes', direction: 'desc' }],
        limit: 50,
      },
      {},
      undefined,
    );
  }
  const kinds: { [kind: string]: (run: number) => unknown[] } = {
    create: (run) => creates(POSTS + run * CHANGES, CHANGES),
    update: (run) =>
      Array.from({ length: CHANGES }, (_, k) => ({
        table: 'posts',
        op: 'UPDATE',
        id: `p${k}`,
        data: { likes: run * 7 + k },
      })),
    delete: (run) =>
      Array.from({ length: CHANGES }, (_, k) => ({
        table: 'posts',
        op: 'DELETE',
        id: `p${POSTS + run * CHANGES + k}`,
      })),
  };
  console.log(`${CHANGES}-change batches over ${POSTS} posts with ${VIEWS} live queries (ms):`);
  for (const [kind, make] of Object.entries(kinds)) {
    const stalls: number[] = [];
    const trips: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const changes = make(run);
      const histogram = monitorEventLoopDelay({ resolution: 1 });
      histogram.enable();
      const started = performance.now();
      await batch(changes);
      trips.push(performance.now() - started);
      histogram.disable();
      stalls.push(histogram.max / 1e6);
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
    console.log(
      `  ${kind.padEnd(6)} longest event-loop delay: median ${median(stalls).toFixed(1)}, max ${Math.max(...stalls).toFixed(1)}; ` +
        `round trip: median ${median(trips).toFixed(1)}`,
    );
  }
} finally {
  await server.close();
}
