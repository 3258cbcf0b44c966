import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { print } from 'graphql';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { killProcessGroups, spawnProcess, type TestProcess } from '../process-groups.js';
import { UsersCountDocument } from './generated/graphql.js';
import { Feed } from './helpers/clients.js';
import { storeFlags } from './helpers/test-store.js';

/**
 * The server as a user runs it (`server/main.ts`): flags and environment, one JSON log line
 * per event, a clear exit 2 for a bad config, and a graceful SIGTERM that completes every
 * subscription (graphql-ws and SSE) before exiting 0. Under the `postgres` project each server
 * keeps its tables in a fresh PostgreSQL database (`--database`), else in memory.
 */
const root = resolve(import.meta.dirname, '../..');
let dir: string;

interface Started {
  child: TestProcess;
  readonly logs: { [key: string]: unknown }[];
  readonly stderr: string[];
  exit: Promise<number | null>;
}

function start(args: string[], env: { [name: string]: string } = {}): Started {
  const child = spawnProcess(process.execPath, ['--import', 'tsx', 'server/main.ts', ...args], {
    cwd: root,
    env: { ...process.env, AUTH_SECRET: '', ...env },
  });
  return {
    child,
    get logs() {
      return child.lines.map((line) => JSON.parse(line) as { [key: string]: unknown });
    },
    get stderr() {
      return child.stderr().split('\n');
    },
    exit: child.exited.then(({ code }) => code),
  };
}

async function listening(started: Started): Promise<string> {
  const line = await started.child.waitForLine((text) => (JSON.parse(text) as { msg?: unknown }).msg === 'listening');
  return String((JSON.parse(line) as { url?: unknown }).url);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'live-views-cli-'));
});

afterEach(killProcessGroups);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('SIGTERM completes graphql-ws and SSE subscriptions, then exits 0', async () => {
  const server = start(['--host', '127.0.0.1', ...(await storeFlags())], { PORT: '0' });
  try {
    const url = await listening(server);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/graphql$/);
    expect(server.logs[0]).toMatchObject({
      level: 'info',
      msg: 'listening',
      views: expect.arrayContaining(['usersList']),
    });
    expect(typeof server.logs[0]?.['time']).toBe('string');

    const query = print(UsersCountDocument);
    const ws = createWsClient({ url: url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0 });
    const sse = createSseClient({ url, retryAttempts: 0 });
    const overWs = new Feed<unknown>();
    const overSse = new Feed<unknown>();
    for (const [client, feed] of [
      [ws, overWs],
      [sse, overSse],
    ] as const) {
      client.subscribe(
        { query },
        {
          next: (value) => feed.push(value),
          error: (error) => feed.fail(String(error)),
          complete: () => feed.complete(),
        },
      );
    }
    await overWs.until((events) => events.length === 1, 'ws snapshot');
    await overSse.until((events) => events.length === 1, 'sse snapshot');

    server.child.signal('SIGTERM');
    expect(await server.exit).toBe(0);
    expect(overWs.completed).toBe(true);
    expect(overSse.completed).toBe(true);
    expect(server.logs.map((log) => log['msg'])).toEqual([
      'listening',
      'AUTH_SECRET is not set: the server runs open (no authentication; row-level rules are not enforced)',
      'shutting down',
      'stopped',
    ]);
    expect(server.logs[1]?.['level']).toBe('warn');
    await ws.dispose();
    sse.dispose();
  } finally {
    await server.child.killGroup();
  }
});

test('an invalid config exits 2 with every problem named', async () => {
  const file = join(dir, 'bad.json');
  await writeFile(
    file,
    JSON.stringify({
      tables: [{ name: 'notes', type: 'Note', fields: { text: 'String!' } }],
      views: [
        { id: 'recent', from: 'notes', orderBy: [{ field: 'createdAt' }] },
        { id: 'byAuthor', from: 'notez' },
      ],
    }),
  );
  const server = start(['--config', file, '--port', '0', ...(await storeFlags())]);
  expect(await server.exit).toBe(2);
  const output = server.stderr.join('\n');
  expect(output).toContain('view "recent": unknown field "createdAt" in orderBy[0]');
  expect(output).toContain('view "byAuthor": unknown table "notez" in from');
  expect(server.logs[0]).toMatchObject({ level: 'error', msg: 'invalid config' });
});

test('another config file is served with its own schema', async () => {
  const file = join(dir, 'notes.json');
  await writeFile(
    file,
    JSON.stringify({
      tables: [{ name: 'notes', type: 'Note', fields: { text: 'String!', pinned: 'Boolean!' } }],
      views: [{ id: 'pinned', from: 'notes', where: { pinned: { eq: true } } }],
    }),
  );
  const server = start(['--config', file, '--port', '0', ...(await storeFlags())]);
  try {
    const url = await listening(server);
    expect(server.logs[0]?.['views']).toEqual(['pinned']);
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query:
          'mutation { createNote(input: { id: "n1", text: "hi", pinned: true }) { note { text } views { view version } } }',
      }),
    });
    expect(await response.json()).toEqual({
      data: { createNote: { note: { text: 'hi' }, views: [{ view: 'pinned', version: 1 }] } },
    });
  } finally {
    server.child.signal('SIGTERM');
  }
  expect(await server.exit).toBe(0);
});

test('bad flags exit 2 with the usage', async () => {
  const server = start(['--port', 'abc']);
  expect(await server.exit).toBe(2);
  expect(server.stderr.join('\n')).toContain('--port must be an integer');
  expect(server.stderr.join('\n')).toContain('Usage:');
});

test('limit flags reach the server; a bad value exits 2', async () => {
  const server = start([
    '--port',
    '0',
    ...(await storeFlags()),
    '--max-tokens',
    '8',
    '--max-batch-changes',
    '1',
    '--allowed-hosts',
    'a.test, b.test',
    '--max-view-memory',
    '50000000',
    '--max-queued-bytes',
    '1048576',
    '--max-response-bytes',
    '60',
  ]);
  try {
    const url = await listening(server);
    const post = async (query: string) =>
      (await (
        await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query }),
        })
      ).json()) as { errors?: { extensions?: unknown }[] };
    expect((await post('{ usersCount { id count } }')).errors).toBeUndefined();
    expect((await post('{ usersCount { id count id count } }')).errors?.[0]?.extensions).toMatchObject({
      code: 'LIMIT_EXCEEDED',
      limit: 'maxTokens',
      max: 8,
    });
    // --max-response-bytes: six view ids do not fit in 60 bytes.
    expect((await post('{ views { id } }')).errors?.[0]?.extensions).toMatchObject({
      code: 'LIMIT_EXCEEDED',
      limit: 'maxResponseBytes',
      max: 60,
    });
    // --allowed-hosts: a listed name is served, another is not (DNS rebinding).
    const status = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const target = new URL(url);
        httpRequest(
          {
            host: target.hostname,
            port: target.port,
            path: target.pathname,
            method: 'POST',
            headers: { host, 'content-type': 'application/json' },
          },
          (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          },
        )
          .on('error', reject)
          .end(JSON.stringify({ query: '{ usersCount { id } }' }));
      });
    expect(await status('b.test')).toBe(200);
    expect(await status('c.test')).toBe(403);
  } finally {
    server.child.signal('SIGTERM');
  }
  expect(await server.exit).toBe(0);
  const bad = start(['--max-json-depth', '0']);
  expect(await bad.exit).toBe(2);
  expect(bad.stderr.join('\n')).toContain('--max-json-depth must be an integer');
});
