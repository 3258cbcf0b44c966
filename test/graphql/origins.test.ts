import { request as httpRequest } from 'node:http';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import type { RunningServer } from '../../server/app.js';
import { startTestServer } from './helpers/server.js';

/**
 * Open mode is safe on a developer's machine: a web page on another origin cannot read or
 * write the local server. Requests are sent as a browser would send them (Origin, Host,
 * form content types, preflights), with node's own HTTP client so every header is ours.
 */
interface Answer {
  status: number;
  headers: { [name: string]: string | string[] | undefined };
  body: string;
}

function send(
  server: RunningServer,
  options: { method?: string; headers?: { [name: string]: string }; body?: string; path?: string },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(server.url);
    const request = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path: options.path ?? url.pathname,
        method: options.method ?? 'POST',
        headers: options.headers ?? {},
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => void (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}

const CREATE = (id: string) =>
  `mutation { createUser(input: { id: "${id}", name: "Eve", email: "e@x", role: "admin", active: true }) { id } }`;
const json = (query: string) => JSON.stringify({ query });
const JSON_HEADERS = { 'content-type': 'application/json' };

async function exists(server: RunningServer, id: string): Promise<boolean> {
  return server.store.record('users', id) !== undefined;
}

/** Opens a WebSocket with these headers: 'open', or the HTTP status the upgrade was refused with. */
function upgrade(server: RunningServer, headers: { [name: string]: string }): Promise<'open' | number> {
  return new Promise((resolve) => {
    const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws', { headers });
    socket.once('open', () => {
      socket.terminate();
      resolve('open');
    });
    socket.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('error', () => undefined);
  });
}

describe('default: same origin only', () => {
  let server: RunningServer;
  let self: string;
  beforeAll(async () => {
    server = await startTestServer();
    self = new URL(server.url).origin;
  });
  afterAll(async () => {
    await server?.close();
  });

  test('another origin is refused (403 FORBIDDEN), without CORS headers, and nothing is written', async () => {
    const answer = await send(server, {
      headers: { ...JSON_HEADERS, origin: 'http://evil.example' },
      body: json(CREATE('e1')),
    });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toMatchObject({ errors: [{ extensions: { code: 'FORBIDDEN' } }] });
    expect(answer.headers['access-control-allow-origin']).toBeUndefined();
    expect(answer.headers['access-control-allow-credentials']).toBeUndefined();
    expect(await exists(server, 'e1')).toBe(false);
    const preflight = await send(server, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });
    // yoga answers every preflight itself (204); without an allow-origin header the browser stops there.
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    expect(preflight.headers['access-control-allow-credentials']).toBeUndefined();
  });

  test('the server’s own pages (GraphiQL) are served: same origin', async () => {
    const answer = await send(server, { headers: { ...JSON_HEADERS, origin: self }, body: json(CREATE('s1')) });
    expect(answer.status).toBe(200);
    expect(await exists(server, 's1')).toBe(true);
    const page = await send(server, { method: 'GET', headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<html');
  });

  test('form and text/plain posts (no preflight in a browser) are refused by CSRF prevention', async () => {
    const form = await send(server, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `query=${encodeURIComponent(CREATE('f1'))}`,
    });
    expect(form.status).toBe(403);
    expect(JSON.parse(form.body)).toMatchObject({ errors: [{ extensions: { code: 'FORBIDDEN' } }] });
    const boundary = 'xyz';
    const multipart = await send(server, {
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${json(CREATE('f2'))}\r\n--${boundary}--\r\n`,
    });
    expect(multipart.status).toBe(403);
    const text = await send(server, { headers: { 'content-type': 'text/plain' }, body: json(CREATE('f3')) });
    expect(text.status).toBe(403);
    for (const id of ['f1', 'f2', 'f3']) expect(await exists(server, id)).toBe(false);
  });

  test('a GET may query (clients send queries as GETs) but never write', async () => {
    const path = (query: string) => `${new URL(server.url).pathname}?query=${encodeURIComponent(query)}`;
    const query = await send(server, {
      method: 'GET',
      path: path('{ usersCount { count } }'),
      headers: { accept: 'application/json' },
    });
    expect(query.status).toBe(200);
    const write = await send(server, {
      method: 'GET',
      path: path(CREATE('g1')),
      headers: { accept: 'application/json' },
    });
    expect(write.status).toBe(405);
    expect(await exists(server, 'g1')).toBe(false);
  });

  test('a foreign Host (DNS rebinding) is refused; localhost and IP addresses are served', async () => {
    const port = new URL(server.url).port;
    const rebound = await send(server, {
      headers: { ...JSON_HEADERS, host: `attacker.example:${port}`, origin: `http://attacker.example:${port}` },
      body: json(CREATE('r1')),
    });
    expect(rebound.status).toBe(403);
    expect(await exists(server, 'r1')).toBe(false);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
      const answer = await send(server, { headers: { ...JSON_HEADERS, host }, body: json('{ usersCount { count } }') });
      expect(answer.status, host).toBe(200);
    }
  });

  test('the WebSocket upgrade checks Origin and Host the same way; node clients (no Origin) connect', async () => {
    const port = new URL(server.url).port;
    expect(await upgrade(server, { origin: 'http://evil.example' })).toBe(403);
    expect(await upgrade(server, { host: `attacker.example:${port}` })).toBe(403);
    expect(await upgrade(server, { origin: self })).toBe('open');
    const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
    try {
      const result = await new Promise((resolve, reject) => {
        client.subscribe(
          { query: '{ usersCount { count } }' },
          { next: resolve, error: reject, complete: () => undefined },
        );
      });
      expect(result).toMatchObject({ data: { usersCount: [{}] } });
    } finally {
      await client.dispose();
    }
  });
});

describe('--cors-origin and --allowed-hosts', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({
      origins: { corsOrigins: ['http://app.example'], allowedHosts: ['.example.dev'] },
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  test('a listed origin gets CORS headers with credentials, and its preflight passes', async () => {
    const answer = await send(server, {
      headers: { ...JSON_HEADERS, origin: 'http://app.example' },
      body: json(CREATE('a1')),
    });
    expect(answer.status).toBe(200);
    expect(answer.headers['access-control-allow-origin']).toBe('http://app.example');
    expect(answer.headers['access-control-allow-credentials']).toBe('true');
    const preflight = await send(server, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('http://app.example');
    expect(await upgrade(server, { origin: 'http://app.example' })).toBe('open');
  });

  test('other origins are still refused; listed host names are served', async () => {
    expect(
      (await send(server, { headers: { ...JSON_HEADERS, origin: 'http://evil.example' }, body: json(CREATE('a2')) }))
        .status,
    ).toBe(403);
    const port = new URL(server.url).port;
    for (const [host, status] of [
      [`api.example.dev:${port}`, 200],
      [`example.dev:${port}`, 200],
      [`example.dev.evil:${port}`, 403],
    ] as const) {
      expect(
        (await send(server, { headers: { ...JSON_HEADERS, host }, body: json('{ usersCount { count } }') })).status,
        host,
      ).toBe(status);
    }
  });
});
