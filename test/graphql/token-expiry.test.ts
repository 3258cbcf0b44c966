import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { followView, type SubscribeClient } from '../../client/index.js';
import type { RunningServer } from '../../server/app.js';
import { mintToken } from '../../server/auth.js';
import { post } from './helpers/live.js';
import { eventually, startTestServer } from './helpers/server.js';

/**
 * Tokens expire on connections that outlive them, with a real server and real clients:
 * - graphql-ws: the socket is closed with 4403 at the token's `exp`;
 * - an operation sent on that socket after `exp` is refused even when the server's timer is
 *   late (the event loop blocked across `exp`): a mutation is not applied;
 * - SSE: the stream ends at `exp`;
 * - `followView` with a token read on each connect (graphql-ws `connectionParams`, graphql-sse
 *   `headers` as functions) follows across expiries with fresh tokens and resumes with
 *   `sinceVersion`: its copy equals the Query.
 */
const SECRET = 'token-expiry-test-secret-0123456789abcdef';
const ADMIN = { sub: 'boss', role: 'admin' };
/** Seconds a short-lived token lives (exp has one-second resolution: 1-2 s from now). */
const SHORT = 2;

let server: RunningServer;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  server = await startTestServer({ authSecret: SECRET });
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await server?.close();
});

/** The token's `exp`, in epoch milliseconds. */
function expiryOf(token: string): number {
  const payload = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as { exp: number };
  return payload.exp * 1000;
}

/** A raw graphql-ws socket, acknowledged; `closed` resolves with the close code and when. */
async function rawSocket(token: string): Promise<{
  socket: WebSocket;
  messages: { type: string; id?: string; payload?: unknown }[];
  closed: Promise<{ code: number; at: number }>;
}> {
  const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
  cleanups.push(() => socket.terminate());
  const messages: { type: string; id?: string; payload?: unknown }[] = [];
  const closed = new Promise<{ code: number; at: number }>((resolve) =>
    socket.on('close', (code) => resolve({ code, at: Date.now() })),
  );
  socket.on('message', (data) => messages.push(JSON.parse(String(data))));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${token}` } }));
  await eventually(() => messages.some((m) => m.type === 'connection_ack'), 'connection_ack');
  return { socket, messages, closed };
}

function closedWithin<T>(closed: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the socket is still open after ${ms} ms`)), ms);
  });
  return Promise.race([closed, late]).finally(() => clearTimeout(timer));
}

test('graphql-ws: the socket is closed with 4403 at the token expiry, its subscription live until then', async () => {
  const token = await mintToken(SECRET, ADMIN, SHORT);
  const { socket, messages, closed } = await rawSocket(token);
  socket.send(
    JSON.stringify({ id: 's', type: 'subscribe', payload: { query: 'subscription { usersList { kind version } }' } }),
  );
  await eventually(() => messages.some((m) => m.id === 's' && m.type === 'next'), 'the SNAPSHOT');
  const { code, at } = await closedWithin(closed, SHORT * 1000 + 3000);
  expect(code).toBe(4403);
  expect(at).toBeGreaterThanOrEqual(expiryOf(token));
});

test('graphql-ws: a mutation sent after the expiry on the same socket is not applied, even with a late timer', async () => {
  const token = await mintToken(SECRET, ADMIN, SHORT);
  const { socket, messages, closed } = await rawSocket(token);
  // Block this process (the server's too) until past exp, then send: the server's expiry timer
  // and the message are both due when the loop resumes.
  const until = expiryOf(token) + 50;
  while (Date.now() < until) {
    /* busy: no timer may run */
  }
  socket.send(
    JSON.stringify({
      id: 'm',
      type: 'subscribe',
      payload: {
        query:
          'mutation { createPost(input: { id: "late", authorId: "u1", title: "t", published: true, likes: 0 }) { id } }',
      },
    }),
  );
  expect((await closedWithin(closed, 3000)).code).toBe(4403);
  expect(messages.filter((m) => m.id === 'm' && m.type === 'next')).toEqual([]);
  const fresh = await mintToken(SECRET, ADMIN);
  const lookup = await post(server, '{ post(id: "late") { id } }', {}, fresh);
  expect(lookup.errors).toBeUndefined();
  expect(lookup.data?.['post']).toBeNull();
});

test('SSE: the stream ends at the token expiry', async () => {
  const token = await mintToken(SECRET, ADMIN, SHORT);
  const abort = new AbortController();
  cleanups.push(() => abort.abort());
  const timeout = setTimeout(() => abort.abort(), SHORT * 1000 + 3000);
  cleanups.push(() => clearTimeout(timeout));
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: 'subscription { usersList { kind version } }' }),
    signal: abort.signal,
  });
  expect(response.status).toBe(200);
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) text += decoder.decode(chunk, { stream: true });
  const ended = Date.now();
  expect(abort.signal.aborted).toBe(false);
  expect(ended).toBeGreaterThanOrEqual(expiryOf(token));
  expect(text).toContain('"kind":"SNAPSHOT"');
  expect(text).toContain('event: complete');
});

/** Records the variables of every subscribe a client sends. */
function recording(client: SubscribeClient): { client: SubscribeClient; sent: { [key: string]: unknown }[] } {
  const sent: { [key: string]: unknown }[] = [];
  return {
    sent,
    client: {
      subscribe(payload, sink) {
        sent.push({ ...payload.variables });
        return client.subscribe(payload, sink);
      },
    },
  };
}

const USERS =
  'subscription { usersList { added { id name email role active age } updated { id name email role active age } } }';

for (const transport of ['graphql-ws', 'sse'] as const) {
  test(`${transport}: followView gets a fresh token on reconnect and resumes with sinceVersion`, async () => {
    let minted = 0;
    // A new short-lived token on every connection, as an app's refresh would give.
    const fresh = async (): Promise<string> => {
      minted++;
      return `Bearer ${await mintToken(SECRET, ADMIN, SHORT)}`;
    };
    const raw: SubscribeClient =
      transport === 'graphql-ws'
        ? createWsClient({
            url: server.wsUrl,
            webSocketImpl: WebSocket,
            retryAttempts: 0,
            lazy: true,
            connectionParams: async () => ({ authorization: await fresh() }),
          })
        : createSseClient({
            url: server.url,
            retryAttempts: 0,
            headers: async () => ({ authorization: await fresh() }),
          });
    cleanups.push(() => (raw as unknown as { dispose(): unknown }).dispose());
    const { client, sent } = recording(raw);
    const following = followView(client, USERS, { retryDelayMs: () => 20 });
    cleanups.push(() => following.stop());
    await eventually(() => following.status === 'live', 'live');
    const admin = await mintToken(SECRET, ADMIN);
    // Write across at least two expiries of the follower's tokens.
    const deadline = Date.now() + 2 * SHORT * 1000 + 500;
    for (let i = 0; Date.now() < deadline; i++) {
      const result = await post(
        server,
        `mutation { createUser(input: { id: "${transport}-${i}", name: "n${i}", email: "e${i}@x", role: "viewer", active: true }) { id } }`,
        {},
        admin,
      );
      expect(result.errors).toBeUndefined();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const query = await post(server, '{ usersList { id name email role active age } }', {}, admin);
    await eventually(
      () => JSON.stringify(following.state?.rows) === JSON.stringify(query.data?.['usersList']),
      'the copy equals the Query',
    );
    expect(minted).toBeGreaterThanOrEqual(2);
    expect(sent.length).toBeGreaterThanOrEqual(2);
    expect(sent.slice(1).every((variables) => typeof variables['sinceVersion'] === 'number')).toBe(true);
    expect(following.status).toBe('live');
  });
}
