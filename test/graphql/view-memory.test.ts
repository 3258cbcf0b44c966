import type { Client as WsClient } from 'graphql-ws';
import { afterEach, beforeEach, expect, test } from 'vitest';
import type { Change } from '../../app/index.js';
import type { RunningServer } from '../../server/app.js';
import { createGraphQLWsClient, type Feed, followWs } from './helpers/clients.js';
import { post } from './helpers/live.js';
import type { UpdateEvent } from './helpers/local-view.js';
import { eventually, startTestServer } from './helpers/server.js';

/**
 * The server refuses views before it runs out of memory: live queries created on demand may
 * hold `maxViewBytes` of engine memory together (here 1 MB; each view below holds ~200 kB:
 * 1,000 of 2,000 posts). A client that keeps opening distinct views gets LIMIT_EXCEEDED
 * (`extensions.limit: maxViewMemory`) while the server and every other subscriber keep
 * working; an idle view is evicted to make room before anyone is refused.
 */
const BUDGET = 1_000_000;
const GRACE_MS = 60_000;

let server: RunningServer;
let greedy: WsClient;
let other: WsClient;
const stops: (() => void)[] = [];

beforeEach(async () => {
  server = await startTestServer({ liveQueries: { graceMs: GRACE_MS, maxViewBytes: BUDGET } });
  const posts: Change[] = Array.from({ length: 2_000 }, (_, i) => ({
    table: 'posts',
    op: 'CREATE',
    id: `p${i}`,
    data: { authorId: 'u1', title: `t${i}`, published: true, likes: i % 50 },
  }));
  for (let i = 0; i < posts.length; i += 100) await server.store.apply(posts.slice(i, i + 100));
  greedy = createGraphQLWsClient(server);
  other = createGraphQLWsClient(server);
});

afterEach(async () => {
  for (const stop of stops.splice(0)) stop();
  await greedy?.dispose();
  await other?.dispose();
  await server?.close();
});

const LIVE =
  'subscription($n: Int!) { posts(where: { likes: { ne: $n } }) { view version previousVersion kind added { id } updated { id likes } removed } }';

function open(ws: WsClient, n: number): { feed: Feed<UpdateEvent>; stop: () => void } {
  const subscription = followWs(ws, LIVE, { n }, (data) => data['posts'] as UpdateEvent);
  stops.push(subscription.stop);
  return subscription;
}

/** Waits for a subscription's SNAPSHOT or its refusal; the refusal's extensions, or undefined. */
async function outcome(feed: Feed<UpdateEvent>): Promise<{ [key: string]: unknown } | undefined> {
  try {
    await feed.until((events) => events.length >= 1, 'snapshot');
    return undefined;
  } catch {
    const errors = feed.error as { extensions?: { [key: string]: unknown } }[];
    return errors[0]?.extensions ?? { error: feed.error };
  }
}

test('a client opening distinct views is refused with LIMIT_EXCEEDED; others keep working', async () => {
  const watcher = open(other, 0);
  expect(await outcome(watcher.feed)).toBeUndefined();

  let admitted = 1;
  let refusal: { [key: string]: unknown } | undefined;
  for (let n = 1; n < 50 && refusal === undefined; n++) {
    refusal = await outcome(open(greedy, n).feed);
    if (refusal === undefined) admitted++;
  }
  expect(refusal).toEqual({ code: 'LIMIT_EXCEEDED', limit: 'maxViewMemory', max: BUDGET });
  expect(admitted).toBeGreaterThanOrEqual(3);
  expect(server.access.registry.stats().viewBytes).toBeLessThanOrEqual(BUDGET);

  // The server answers, writes go through, and the first subscriber gets its delta.
  const write = await post(server, 'mutation { updatePost(id: "p1", patch: { likes: 7 }) { id } }');
  expect(write.errors).toBeUndefined();
  await watcher.feed.until(
    (events) =>
      events.some(
        (event) => event.kind === 'DELTA' && event.updated.some((row) => (row as { id?: unknown }).id === 'p1'),
      ),
    'the delta of p1',
  );
  // A view that already exists is shared, not refused.
  expect(await outcome(open(greedy, 0).feed)).toBeUndefined();
});

test('idle views are evicted first: a released view makes room for a new one', async () => {
  const held: ReturnType<typeof open>[] = [];
  let n = 0;
  for (; n < 50; n++) {
    const subscription = open(greedy, n);
    if ((await outcome(subscription.feed)) !== undefined) break;
    held.push(subscription);
  }
  expect(await outcome(open(other, 100).feed)).toMatchObject({ limit: 'maxViewMemory' });
  // One client leaves: its view is idle (kept warm for the grace period) until room is needed.
  held[0]?.stop();
  await eventually(() => server.access.registry.stats().idle === 1, 'the released view to be idle');
  expect(await outcome(open(other, 101).feed)).toBeUndefined();
  expect(server.access.registry.stats().idle).toBe(0);
});
