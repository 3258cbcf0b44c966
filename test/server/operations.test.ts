import { connect } from 'node:net';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import { afterEach, expect, test, vi } from 'vitest';
import WebSocket from 'ws';
import type { LogStatus } from '../../app/index.js';
import { Aggregate } from '../../engine/operators/aggregate.js';
import type { RunningServer } from '../../server/app.js';
import { eventually, startTestServer } from '../graphql/helpers/server.js';
import { parseExposition } from './prometheus-text.js';

/**
 * The operations endpoints on a real server on 127.0.0.1: /health and /ready as a load
 * balancer sees them (after start, with a log follower behind or caught up, while stopping),
 * /metrics as Prometheus reads it (it parses; its counters move with mutations and
 * subscriptions), and who may read /metrics.
 */
let server: RunningServer | undefined;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await server?.close();
  server = undefined;
});

function base(running: RunningServer): string {
  return running.url.replace(/\/graphql$/, '');
}

async function get(
  running: RunningServer,
  path: string,
  init: RequestInit = {},
): Promise<{ status: number; body: string; headers: Headers }> {
  const response = await fetch(`${base(running)}${path}`, init);
  return { status: response.status, body: await response.text(), headers: response.headers };
}

async function mutate(running: RunningServer, query: string): Promise<unknown> {
  const response = await fetch(running.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  return response.json();
}

const createUser = (id: string) =>
  `mutation { createUser(input: { id: "${id}", name: "N${id}", email: "${id}@x", role: "r", active: true }) { id } }`;

test('/health and /ready answer 200 once the server serves; other methods get 405', async () => {
  server = await startTestServer();
  const health = await get(server, '/health');
  expect(health.status).toBe(200);
  expect(JSON.parse(health.body)).toEqual({ status: 'ok' });
  expect(health.headers.get('cache-control')).toBe('no-store');
  const ready = await get(server, '/ready?probe=lb');
  expect(ready.status).toBe(200);
  expect(JSON.parse(ready.body)).toEqual({ ready: true }); // SQLite: no log to follow
  expect((await get(server, '/ready', { method: 'HEAD' })).status).toBe(200);
  const post = await get(server, '/health', { method: 'POST' });
  expect(post.status).toBe(405);
  expect(post.headers.get('allow')).toBe('GET, HEAD');
});

test('/ready follows the log follower: 503 while it reconnects or lags past the bound, 200 within it', async () => {
  server = await startTestServer();
  let status: LogStatus = { following: false, position: 0, head: 10, lagSeconds: 0 };
  server.store.followLog({ logStatus: () => status });

  let ready = await get(server, '/ready');
  expect(ready.status).toBe(503);
  expect(ready.headers.get('retry-after')).toBe('1');
  expect(JSON.parse(ready.body)).toMatchObject({ ready: false, reason: 'log_not_followed', log: status });

  status = { following: true, position: 7, head: 10, lagSeconds: 6 }; // the default bound is 5 s
  ready = await get(server, '/ready');
  expect(ready.status).toBe(503);
  expect(JSON.parse(ready.body)).toMatchObject({
    ready: false,
    reason: 'log_lag',
    message: expect.stringMatching(/5000 ms/),
  });

  status = { following: true, position: 10, head: 10, lagSeconds: 0.2 };
  ready = await get(server, '/ready');
  expect(ready.status).toBe(200);
  expect(JSON.parse(ready.body)).toEqual({ ready: true, log: status });
  // Liveness does not depend on the log.
  expect((await get(server, '/health')).status).toBe(200);

  const metrics = parseExposition((await get(server, '/metrics')).body);
  const instance = { instance_id: expect.stringMatching(/:\d+$/) as unknown as string };
  const sample = (name: string) => metrics.samples.find((s) => s.name === name);
  expect(sample('liveviews_log_position')).toEqual({ name: 'liveviews_log_position', labels: instance, value: 10 });
  expect(sample('liveviews_log_head_position')?.value).toBe(10);
  expect(sample('liveviews_log_lag_seconds')?.value).toBe(0.2);
  expect(sample('liveviews_log_following')?.value).toBe(1);
});

test('the bound of /ready is readyMaxLagMs', async () => {
  server = await startTestServer({ readyMaxLagMs: 100 });
  server.store.followLog({ logStatus: () => ({ following: true, position: 1, head: 2, lagSeconds: 0.2 }) });
  const ready = await get(server, '/ready');
  expect(ready.status).toBe(503);
  expect(JSON.parse(ready.body)).toMatchObject({ reason: 'log_lag' });
});

test('after an engine fault stopped the store, /health and /ready answer 503 stopped', async () => {
  server = await startTestServer({ log: () => undefined }); // the fault is logged as an error: expected here
  // A bug in the group-by operator, after it updated its groups: the engine is half-updated.
  const push = Aggregate.prototype.push;
  vi.spyOn(Aggregate.prototype, 'push').mockImplementation(function (this: Aggregate, delta) {
    const out = push.call(this, delta);
    if (delta.some(({ row }) => (row as { title?: unknown }).title === 'FAULT')) throw new Error('injected bug');
    return out;
  });
  await mutate(server, createUser('u1'));
  const faulted = await mutate(
    server,
    'mutation { createPost(input: { id: "p1", authorId: "u1", title: "FAULT", published: true, likes: 1 }) { id } }',
  );
  expect(faulted).toMatchObject({ errors: [{ extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
  const health = await get(server, '/health');
  expect(health.status).toBe(503);
  expect(JSON.parse(health.body)).toEqual({ status: 'stopped' });
  const ready = await get(server, '/ready');
  expect(ready.status).toBe(503);
  expect(JSON.parse(ready.body)).toMatchObject({ ready: false, reason: 'stopped' });
  const metrics = parseExposition((await get(server, '/metrics')).body);
  expect(metrics.value('liveviews_mutations_total', { outcome: 'ok' })).toBe(1);
  expect(metrics.value('liveviews_mutations_total', { outcome: 'INTERNAL' })).toBe(1);
});

test('while the server stops, /health and /ready answer 503 stopping on a connection still open', async () => {
  server = await startTestServer();
  const running = server;
  // A keep-alive connection busy with a request when the stop begins (so it is not closed as
  // idle): a POST whose headers the server read, whose body it waits for.
  const connection = busyConnection(running.port);
  cleanups.push(() => connection.destroy());
  await connection.continued;
  const closed = running.close();
  const answers = await connection.finish(['/health', '/ready']);
  expect(answers).toMatch(/"code":"UNAVAILABLE"/); // the held POST
  const [health, ready] = answers.split(/(?=HTTP\/1\.1 503)/).slice(-2);
  expect(health).toMatch(/^HTTP\/1\.1 503 /);
  expect(health).toMatch(/\{"status":"stopping"\}/);
  expect(ready).toMatch(/^HTTP\/1\.1 503 /);
  expect(ready).toMatch(/"ready":false,"reason":"stopping"/);
  await closed;
  // Closed: the port refuses probes (a load balancer marks it down).
  await expect(fetch(`${base(running)}/health`)).rejects.toThrow();
});

test('/metrics is Prometheus text whose counters move with mutations and subscriptions', async () => {
  server = await startTestServer();
  const running = server;
  const scrape = async () => {
    const response = await get(running, '/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseExposition(response.body);
  };
  const before = await scrape();
  expect(before.types.get('liveviews_mutations_total')).toBe('counter');
  expect(before.types.get('liveviews_mutation_duration_seconds')).toBe('histogram');
  expect(before.types.get('liveviews_publish_duration_seconds')).toBe('histogram');
  expect(before.types.get('liveviews_subscribers')).toBe('gauge');
  expect(before.value('process_cpu_user_seconds_total')).toBeGreaterThan(0); // default process metrics
  expect(before.value('nodejs_heap_size_total_bytes')).toBeGreaterThan(0);
  expect(before.value('liveviews_events_published_total')).toBe(0);
  expect(before.value('liveviews_mutations_total', { outcome: 'ok' })).toBeUndefined();
  expect(before.value('liveviews_views', { kind: 'pinned' })).toBe(running.access.registry.stats().pinned);
  expect(before.value('liveviews_view_memory_budget_bytes')).toBeGreaterThan(0);
  expect(before.samples.some((s) => s.name.startsWith('liveviews_log_'))).toBe(false); // SQLite: no log

  // A subscriber over graphql-ws and one over SSE.
  const ws = createWsClient({ url: running.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
  const sse = createSseClient({ url: running.url, retryAttempts: 0 });
  cleanups.push(
    () => ws.dispose(),
    () => sse.dispose(),
  );
  const events: unknown[] = [];
  const stopWs = ws.subscribe({ query: 'subscription { usersCount { kind version } }' }, sink(events));
  const stopSse = sse.subscribe({ query: 'subscription { activeUsers { kind version } }' }, sink(events));
  await eventually(() => events.length === 2, 'two snapshots');
  let now = await scrape();
  expect(now.value('liveviews_subscribers', { transport: 'ws' })).toBe(1);
  expect(now.value('liveviews_subscribers', { transport: 'http' })).toBe(1);

  expect(await mutate(running, createUser('u1'))).toEqual({ data: { createUser: { id: 'u1' } } });
  expect(await mutate(running, createUser('u1'))).toMatchObject({ errors: [{ extensions: { code: 'CONFLICT' } }] });
  await eventually(() => events.length === 4, 'a delta on each subscription');
  now = await scrape();
  expect(now.value('liveviews_mutations_total', { outcome: 'ok' })).toBe(1);
  expect(now.value('liveviews_mutations_total', { outcome: 'CONFLICT' })).toBe(1);
  expect(now.value('liveviews_mutation_duration_seconds_count', { outcome: 'ok' })).toBe(1);
  expect(now.value('liveviews_mutation_duration_seconds_count', { outcome: 'error' })).toBe(1);
  expect(now.value('liveviews_mutation_duration_seconds_bucket', { outcome: 'ok', le: '+Inf' })).toBe(1);
  // usersList, usersCount and activeUsers changed: three updates published in one publish.
  expect(now.value('liveviews_events_published_total')).toBe(3);
  expect(now.value('liveviews_publish_duration_seconds_count')).toBe(1);
  expect(now.value('liveviews_records')).toBe(1);

  stopWs();
  stopSse();
  await eventually(() => running.access.subscribers().get('http') === 0, 'the SSE subscription to end');
  await eventually(() => running.access.subscribers().get('ws') === 0, 'the ws subscription to end');
  now = await scrape();
  expect(now.value('liveviews_subscribers', { transport: 'ws' })).toBe(0);
  expect(now.value('liveviews_subscribers', { transport: 'http' })).toBe(0);
});

test('/metrics is under the Host policy; /health and /ready answer any Host', async () => {
  server = await startTestServer();
  const foreign = { headers: { host: 'rebound.example' } };
  const metrics = await rawGet(server.port, '/metrics', { host: 'rebound.example' });
  expect(metrics).toMatch(/^HTTP\/1\.1 403 /);
  expect(metrics).toMatch(/--allowed-hosts/);
  expect(await rawGet(server.port, '/health', foreign.headers)).toMatch(/^HTTP\/1\.1 200 /);
  expect(await rawGet(server.port, '/ready', foreign.headers)).toMatch(/^HTTP\/1\.1 200 /);
  // A load balancer probing by address, with or without a port.
  expect(await rawGet(server.port, '/metrics', { host: `10.1.2.3:${server.port}` })).toMatch(/^HTTP\/1\.1 200 /);
  expect(await rawGet(server.port, '/metrics', { host: '[::1]' })).toMatch(/^HTTP\/1\.1 200 /);
});

test('with AUTH_SECRET, /metrics needs the metrics token; without one it is refused', async () => {
  const authSecret = 'a-secret-of-at-least-32-characters!!';
  server = await startTestServer({ authSecret });
  let response = await get(server, '/metrics');
  expect(response.status).toBe(403);
  expect(JSON.parse(response.body).error).toMatch(/METRICS_TOKEN/);
  expect((await get(server, '/health')).status).toBe(200);
  expect((await get(server, '/ready')).status).toBe(200);
  await server.close();

  const metricsToken = 'scraper-token-0123456789';
  server = await startTestServer({ authSecret, metricsToken });
  response = await get(server, '/metrics');
  expect(response.status).toBe(401);
  expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
  response = await get(server, '/metrics', { headers: { authorization: 'Bearer wrong-token-0123456789' } });
  expect(response.status).toBe(401);
  response = await get(server, '/metrics', { headers: { authorization: `Bearer ${metricsToken}` } });
  expect(response.status).toBe(200);
  expect(parseExposition(response.body).types.get('liveviews_mutations_total')).toBe('counter');
});

function sink(events: unknown[]) {
  return {
    next: (value: unknown) => void events.push(value),
    error: (error: unknown) => void events.push({ error }),
    complete: () => undefined,
  };
}

/** One GET with exactly these headers (fetch would not let a test send its own Host). */
function rawGet(port: number, path: string, headers: { [name: string]: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
    socket.write(`GET ${path} HTTP/1.1\r\n${lines.join('')}connection: close\r\n\r\n`);
  });
}

/**
 * A connection holding a POST whose headers were sent with `Expect: 100-continue` and whose
 * body was not: `continued` once the server answered 100 Continue; `finish` sends the body
 * and, pipelined behind it, a GET of each path (the last closes), and reads every answer.
 */
function busyConnection(port: number): {
  continued: Promise<void>;
  finish(paths: string[]): Promise<string>;
  destroy(): void;
} {
  const socket = connect(port, '127.0.0.1');
  const body = JSON.stringify({ query: '{ usersCount { count } }' });
  let answer = '';
  socket.setEncoding('utf8');
  const ended = new Promise<string>((resolve, reject) => {
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
  const continued = new Promise<void>((resolve) => {
    socket.on('data', (chunk: string) => {
      answer += chunk;
      if (answer.includes('100 Continue')) resolve();
    });
  });
  socket.write(
    `POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nexpect: 100-continue\r\n\r\n`,
  );
  return {
    continued,
    finish: (paths) => {
      const gets = paths.map(
        (path, index) =>
          `GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n${index === paths.length - 1 ? 'connection: close\r\n' : ''}\r\n`,
      );
      socket.write(body + gets.join(''));
      return ended;
    },
    destroy: () => socket.destroy(),
  };
}
