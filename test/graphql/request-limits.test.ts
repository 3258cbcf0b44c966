import { request as httpRequest } from 'node:http';
import { print } from 'graphql';
import type { Client as WsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import type { RunningServer } from '../../server/app.js';
import { CreateUserDocument, IngestBatchDocument } from './generated/graphql.js';
import { createGraphQLWsClient } from './helpers/clients.js';
import { startTestServer } from './helpers/server.js';

/**
 * Every request and write limit against a real server: a refused document, body, message or
 * write gets a coded error (LIMIT_EXCEEDED with the limit's name and value, or BAD_USER_INPUT
 * with `max` for writes) before anything runs; nothing is applied, nothing is logged as an
 * internal error, and graphql-ws answers the operation without dropping the socket.
 */
const PAYLOAD = 64 * 1024;
const MAX_COST = 100;
const BATCH = 20;
const RECORD_BYTES = 2048;
const JSON_DEPTH = 8;

let server: RunningServer;
let ws: WsClient;
const logs: string[] = [];

interface Response {
  status: number;
  data?: { [field: string]: unknown } | null;
  errors?: { message: string; extensions?: { [key: string]: unknown } }[];
}

async function post(query: string, variables: { [name: string]: unknown } | string = {}): Promise<Response> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    // Variables may come as JSON text: too deep for JSON.stringify here.
    body: `{"query":${JSON.stringify(query)},"variables":${typeof variables === 'string' ? variables : JSON.stringify(variables)}}`,
  });
  return { status: response.status, ...((await response.json()) as Omit<Response, 'status'>) };
}

function codes(response: Response): unknown[] {
  return (response.errors ?? []).map((error) => error.extensions?.['code']);
}

/** A refusal before execution: only LIMIT_EXCEEDED errors (several limits may be hit at once), one for `limit`. */
function expectLimit(response: Response, limit: string, max: number, status = 400): void {
  expect(response.status, JSON.stringify(response)).toBe(status);
  expect(new Set(codes(response)), JSON.stringify(response)).toEqual(new Set(['LIMIT_EXCEEDED']));
  const error = response.errors?.find((e) => e.extensions?.['limit'] === limit);
  expect(error?.extensions, JSON.stringify(response)).toMatchObject({ code: 'LIMIT_EXCEEDED', limit, max });
  expect(response.data ?? undefined).toBeUndefined();
}

async function wsResult(query: string): Promise<{ errors?: readonly { extensions?: unknown }[]; data?: unknown }> {
  return new Promise((resolve, reject) => {
    let result: { errors?: readonly { extensions?: unknown }[]; data?: unknown } | undefined;
    ws.subscribe(
      { query },
      {
        next: (value) => void (result = value as typeof result),
        error: (error) =>
          Array.isArray(error) ? resolve({ errors: error as { extensions?: unknown }[] }) : reject(error),
        complete: () => (result === undefined ? reject(new Error('no result')) : resolve(result)),
      },
    );
  });
}

const nested = (depth: number): string => `{ ${'a { '.repeat(depth)}b${' }'.repeat(depth)} }`;
const USERS_COUNT = '{ usersCount { id count } }';
const CREATE_USER = print(CreateUserDocument);
const INGEST_BATCH = print(IngestBatchDocument);
const user = (id: string, name = 'Ann') => ({ id, name, email: `${id}@example.com`, role: 'user', active: true });

beforeAll(async () => {
  server = await startTestServer({
    log: (line) => void logs.push(line),
    maxPayloadBytes: PAYLOAD,
    requestLimits: { maxCost: MAX_COST },
    writeLimits: { maxBatchChanges: BATCH, maxRecordBytes: RECORD_BYTES, maxJsonDepth: JSON_DEPTH },
  });
  ws = createGraphQLWsClient(server);
});

afterAll(async () => {
  await ws?.dispose();
  await server?.close();
  // No refusal is an internal error.
  expect(logs.filter((line) => line.includes('"level":"error"'))).toEqual([]);
});

describe('documents', () => {
  test('a document nested 10,000 deep is refused by the token limit before the parser recurses', async () => {
    expectLimit(await post(nested(10_000)), 'maxTokens', 2_000);
  });

  test('the same over graphql-ws is an error for that operation; the socket keeps working', async () => {
    const refused = await wsResult(nested(10_000));
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'LIMIT_EXCEEDED', limit: 'maxTokens', max: 2_000 });
    expect(await wsResult(USERS_COUNT)).toMatchObject({ data: { usersCount: [{ id: '*' }] } });
  });

  test('depth', async () => {
    const deep = `{ ${'... on Query { '.repeat(12)}usersCount { id }${' }'.repeat(12)} }`;
    expectLimit(await post(deep), 'maxDepth', 12);
    const refused = await wsResult(deep);
    expect(refused.errors?.map((error) => error.extensions)).toContainEqual(
      expect.objectContaining({ code: 'LIMIT_EXCEEDED', limit: 'maxDepth' }),
    );
  });

  test('aliases', async () => {
    const query = `{ ${Array.from({ length: 16 }, (_, i) => `u${i}: user(id: "x") { id }`).join(' ')} }`;
    expectLimit(await post(query), 'maxAliases', 15);
  });

  test('directives', async () => {
    expectLimit(await post(`{ usersCount { ${'id @include(if: true) '.repeat(11)} } }`), 'maxDirectives', 10);
  });

  test('cost', async () => {
    const fields = 'id name email role active age';
    expectLimit(
      await post(`{ ${Array.from({ length: 10 }, (_, i) => `u${i}: usersList { ${fields} }`).join(' ')} }`),
      'maxCost',
      MAX_COST,
    );
  });

  test('live views per operation: aliases of view fields count, through fragments', async () => {
    const fragment = 'fragment F on Query { f1: usersCount { id } f2: activeUsers { id } }';
    const aliases = Array.from({ length: 9 }, (_, i) => `v${i}: usersCount { id }`).join(' ');
    expectLimit(await post(`{ ${aliases} ...F } ${fragment}`), 'maxLiveFields', 10);
    // Ten are fine; a field named twice under one key is one view.
    const ok = await post(
      `{ ${Array.from({ length: 10 }, (_, i) => `v${i}: usersCount { id }`).join(' ')} v0: usersCount { count } }`,
    );
    expect(ok.errors).toBeUndefined();
  });

  test('ordinary documents and introspection pass', async () => {
    expect((await post(USERS_COUNT)).errors).toBeUndefined();
    const { getIntrospectionQuery } = await import('graphql');
    const introspection = await post(getIntrospectionQuery());
    expect(introspection.errors).toBeUndefined();
  });
});

describe('payload: one limit for every transport', () => {
  const big = JSON.stringify({ query: USERS_COUNT, variables: { pad: 'x'.repeat(PAYLOAD) } });

  test('an HTTP body longer than the limit (Content-Length) is 413 LIMIT_EXCEEDED', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: big,
    });
    expectLimit({ status: response.status, ...((await response.json()) as object) }, 'maxPayloadBytes', PAYLOAD, 413);
  });

  test('a chunked body (no Content-Length) is cut while it streams, with the same answer', async () => {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpRequest(
        server.url,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => void (text += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
        },
      );
      request.on('error', reject);
      for (let i = 0; i < big.length; i += 8192) request.write(big.slice(i, i + 8192));
      request.end();
    });
    expectLimit({ status, ...(JSON.parse(body) as object) }, 'maxPayloadBytes', PAYLOAD, 413);
  });

  test('a graphql-ws message longer than the limit closes the socket with 1009', async () => {
    const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
    try {
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
      socket.send(JSON.stringify({ type: 'connection_init', payload: { pad: 'x'.repeat(PAYLOAD) } }));
      expect(await closed).toBe(1009);
    } finally {
      socket.terminate();
    }
    // The server goes on.
    expect((await post(USERS_COUNT)).errors).toBeUndefined();
  });
});

describe('writes', () => {
  test(`more than ${BATCH} changes in one batch: BAD_USER_INPUT with max, nothing applied`, async () => {
    const changes = Array.from({ length: BATCH + 1 }, (_, i) => ({
      table: 'users',
      op: 'CREATE',
      id: `b${i}`,
      data: user(`b${i}`),
    }));
    const refused = await post(INGEST_BATCH, { changes });
    expect(codes(refused)).toEqual(['BAD_USER_INPUT']);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ limit: 'maxBatchChanges', max: BATCH });
    expect((await post('{ user(id: "b0") { id } }')).data).toEqual({ user: null });
    expect((await post(INGEST_BATCH, { changes: changes.slice(0, BATCH) })).errors).toBeUndefined();
  });

  test('a record larger than the limit: BAD_USER_INPUT with max, also when a patch makes it so', async () => {
    const refused = await post(CREATE_USER, { input: user('big', 'x'.repeat(RECORD_BYTES)) });
    expect(codes(refused)).toEqual(['BAD_USER_INPUT']);
    expect(refused.errors?.[0]?.extensions).toMatchObject({ limit: 'maxRecordBytes', max: RECORD_BYTES, id: 'big' });
    expect((await post(CREATE_USER, { input: user('small') })).errors).toBeUndefined();
    const patched = await post('mutation($p: UserPatch!) { updateUser(id: "small", patch: $p) { id } }', {
      p: { name: 'y'.repeat(RECORD_BYTES) },
    });
    expect(patched.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', limit: 'maxRecordBytes' });
    expect((await post('{ user(id: "small") { name } }')).data).toEqual({ user: { name: 'Ann' } });
  });

  test('JSON nested deeper than the limit is refused before it is stored, even 30,000 deep', async () => {
    const fields = JSON.stringify(user('deep')).slice(1, -1);
    for (const depth of [30_000, JSON_DEPTH + 1]) {
      const name = `${'['.repeat(depth)}"x"${']'.repeat(depth)}`;
      const refused = await post(
        INGEST_BATCH,
        `{"changes":[{"table":"users","op":"CREATE","id":"deep","data":{${fields},"name":${name}}}]}`,
      );
      expect(codes(refused), JSON.stringify(refused)).toEqual(['BAD_USER_INPUT']);
      expect(refused.errors?.[0]?.extensions).toMatchObject({ limit: 'maxJsonDepth', max: JSON_DEPTH, field: 'name' });
    }
    expect((await post('{ user(id: "deep") { id } }')).data).toEqual({ user: null });
  });
});
