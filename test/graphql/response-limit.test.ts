import { createClient as createWsClient } from 'graphql-ws';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import type { RunningServer } from '../../server/app.js';
import { type Feed, followWs } from './helpers/clients.js';
import { post } from './helpers/live.js';
import { eventually, startTestServer } from './helpers/server.js';

/**
 * The size of a response is capped, with a real server: the payload limit is 8 KiB here, so the
 * default response cap is 32 KiB (4 times it). A query whose result is larger, a subscription
 * whose SNAPSHOT is larger (over graphql-ws and SSE) and one whose later DELTA is larger each get
 * `LIMIT_EXCEEDED` (`limit: maxResponseBytes`, `max`) instead of the data — the subscription then
 * ends — and the server keeps serving everyone else.
 */
const PAYLOAD = 8 * 1024;
const CAP = 4 * PAYLOAD;
let server: RunningServer;

beforeAll(async () => {
  server = await startTestServer({ maxPayloadBytes: PAYLOAD });
});
afterAll(async () => {
  await server?.close();
});

const bigName = (tag: string): string => `${tag}-${'x'.repeat(7000)}`;

async function createUser(id: string, name: string): Promise<void> {
  const result = await post(server, 'mutation($input: CreateUserInput!) { createUser(input: $input) { id } }', {
    input: { id, name, email: `${id}@x`, role: 'viewer', active: true },
  });
  expect(result.errors).toBeUndefined();
}

interface Refusal {
  readonly extensions?: { code?: string; limit?: string; max?: number };
}
const refusal = (errors: readonly Refusal[] | undefined) =>
  errors?.map((e) => ({ code: e.extensions?.code, limit: e.extensions?.limit, max: e.extensions?.max }));
const OVER = [{ code: 'LIMIT_EXCEEDED', limit: 'maxResponseBytes', max: CAP }];

test('a query result over the cap is replaced by LIMIT_EXCEEDED; smaller ones are served', async () => {
  for (let i = 0; i < 4; i++) await createUser(`big${i}`, bigName(`big${i}`));
  // About 28 KB per alias: one fits, three do not.
  const one = await post(server, '{ usersList { id name } }');
  expect(one.errors).toBeUndefined();
  expect(one.data?.['usersList']).toHaveLength(4);
  const three = await post(server, '{ a: usersList { id name } b: usersList { id name } c: usersList { id name } }');
  expect(three.status).toBe(200);
  expect(three.data).toBeNull();
  expect(refusal(three.errors)).toEqual(OVER);
  const after = await post(server, '{ usersCount { count } }');
  expect(after.errors).toBeUndefined();
});

/** Waits for a subscription to fail or complete; its error. */
async function ended(feed: Feed<unknown>): Promise<unknown> {
  await eventually(() => feed.error !== undefined || feed.completed, 'the end of the subscription');
  return feed.error;
}

const TOP_POSTS = 'subscription { topPosts { kind added { id author { name } } updated { id author { name } } } }';

test('graphql-ws: a DELTA over the cap is an error and the subscription ends; so is a SNAPSHOT over it', async () => {
  await createUser('au', 'Au');
  for (let i = 0; i < 10; i++) {
    const created = await post(
      server,
      `mutation { createPost(input: { id: "top${i}", authorId: "au", title: "t", published: true, likes: ${100 + i} }) { id } }`,
    );
    expect(created.errors).toBeUndefined();
  }
  const ws = createWsClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
  try {
    const live = followWs(ws, TOP_POSTS, {}, (data) => data);
    await live.feed.until((events) => events.length > 0, 'the SNAPSHOT');
    // One small mutation, one large DELTA: the author of all ten rows gets a 7.5 KB name.
    const renamed = await post(server, 'mutation($n: String!) { updateUser(id: "au", patch: { name: $n }) { id } }', {
      n: 'z'.repeat(7500),
    });
    expect(renamed.errors).toBeUndefined();
    expect(refusal((await ended(live.feed)) as Refusal[])).toEqual(OVER);
    expect(live.feed.events.length).toBe(1);
    // A new subscriber's SNAPSHOT is over the cap now.
    const late = followWs(ws, TOP_POSTS, {}, (data) => data);
    expect(refusal((await ended(late.feed)) as Refusal[])).toEqual(OVER);
    expect(late.feed.events).toEqual([]);
    // The server is healthy: a small subscription on the same socket and a query are served.
    const count = followWs(ws, 'subscription { usersCount { kind } }', {}, (data) => data);
    await count.feed.until((events) => events.length > 0, 'usersCount');
    expect((await post(server, '{ usersCount { count } }')).errors).toBeUndefined();
    for (const follow of [live, late, count]) follow.stop();
  } finally {
    await ws.dispose();
  }
});

test('SSE: a SNAPSHOT over the cap (the ten renamed rows above) is an error event, then the stream ends', async () => {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query: TOP_POSTS }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  expect(text).toContain('"code":"LIMIT_EXCEEDED"');
  expect(text).toContain('"limit":"maxResponseBytes"');
  expect(text).not.toContain('"kind":"SNAPSHOT"');
  expect(text).toContain('event: complete');
});
