import { type FormattedExecutionResult, print } from 'graphql';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import type { RunningServer } from '../../server/app.js';
import { CreateUserDocument, IngestBatchDocument } from './generated/graphql.js';
import { createGraphQLWsClient } from './helpers/clients.js';
import { startTestServer } from './helpers/server.js';

/**
 * Every error code, over plain HTTP (and once over graphql-ws): bad input is
 * BAD_USER_INPUT whether GraphQL or the store finds it, engine errors keep their code and
 * location, and a rejected mutation applies nothing (no record, no view version moves).
 */
let server: RunningServer;
const logs: string[] = [];

interface Response {
  data?: { [field: string]: unknown } | null;
  errors?: { message: string; extensions?: { [key: string]: unknown } }[];
}

async function post(query: string, variables: { [name: string]: unknown } = {}): Promise<Response> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as Response;
}

const VERSIONS = '{ views { id version hash } }';
const ANN = { id: 'ann', name: 'Ann', email: 'ann@example.com', role: 'admin', active: true, age: 41 };
const CREATE_USER = print(CreateUserDocument);
const INGEST_BATCH = print(IngestBatchDocument);

beforeAll(async () => {
  server = await startTestServer({ log: (line) => void logs.push(line) });
  const created = await post(CREATE_USER, { input: ANN });
  expect(created.errors).toBeUndefined();
});

afterAll(async () => {
  await server?.close();
});

/** Runs `query`, expects one or more errors all with `code`, and checks nothing changed. */
async function rejects(code: string, query: string, variables: { [name: string]: unknown } = {}): Promise<Response> {
  const before = await post(VERSIONS);
  const response = await post(query, variables);
  expect(response.errors?.length, JSON.stringify(response)).toBeGreaterThan(0);
  expect(new Set(response.errors?.map((error) => error.extensions?.['code'])), JSON.stringify(response.errors)).toEqual(
    new Set([code]),
  );
  expect(await post(VERSIONS)).toEqual(before);
  return response;
}

describe('BAD_USER_INPUT', () => {
  test('a variable of the wrong type', async () => {
    await rejects('BAD_USER_INPUT', CREATE_USER, { input: { ...ANN, id: 'x1', active: 'yes' } });
  });

  test('a missing required field in a variable', async () => {
    const { name: _name, ...withoutName } = ANN;
    await rejects('BAD_USER_INPUT', CREATE_USER, { input: { ...withoutName, id: 'x2' } });
  });

  test('an unknown field in a variable', async () => {
    await rejects('BAD_USER_INPUT', CREATE_USER, { input: { ...ANN, id: 'x3', nickname: 'A' } });
  });

  test('an Int out of the 32-bit range', async () => {
    await rejects('BAD_USER_INPUT', CREATE_USER, { input: { ...ANN, id: 'x4', age: 2 ** 31 } });
  });

  test('literal arguments of the wrong type, unknown or missing fields', async () => {
    await rejects(
      'BAD_USER_INPUT',
      'mutation { createUser(input: { id: "x5", name: 1, email: "e", role: "r", active: true }) { id } }',
    );
    await rejects(
      'BAD_USER_INPUT',
      'mutation { createUser(input: { id: "x6", name: "n", email: "e", role: "r", active: true, nick: "n" }) { id } }',
    );
    await rejects(
      'BAD_USER_INPUT',
      'mutation { createUser(input: { id: "x7", email: "e", role: "r", active: true }) { id } }',
    );
  });

  test('a patch setting a required field to null (valid GraphQL, refused by the store)', async () => {
    const response = await rejects(
      'BAD_USER_INPUT',
      'mutation { updateUser(id: "ann", patch: { name: null }) { id } }',
    );
    expect(response.errors?.[0]?.extensions).toMatchObject({ table: 'users', id: 'ann', field: 'name' });
  });

  test('ingestBatch data with an unknown field, a wrong type, a mismatched id, an empty id', async () => {
    const change = (data: unknown, id = 'x8') => ({ changes: [{ table: 'users', op: 'CREATE', id, data }] });
    const { id: _id, ...fields } = ANN;
    const unknown = await rejects('BAD_USER_INPUT', INGEST_BATCH, change({ ...fields, nickname: 'A' }));
    expect(unknown.errors?.[0]?.extensions).toMatchObject({ table: 'users', id: 'x8', field: 'nickname' });
    await rejects('BAD_USER_INPUT', INGEST_BATCH, change({ ...fields, age: 'old' }));
    await rejects('BAD_USER_INPUT', INGEST_BATCH, change({ ...fields, id: 'other' }));
    await rejects('BAD_USER_INPUT', INGEST_BATCH, change(fields, ''));
    await rejects('BAD_USER_INPUT', INGEST_BATCH, change([1, 2]));
  });

  test('ingestBatch with an unknown table or operation (enums)', async () => {
    await rejects('BAD_USER_INPUT', INGEST_BATCH, {
      changes: [{ table: 'comments', op: 'CREATE', id: 'c1', data: {} }],
    });
    await rejects('BAD_USER_INPUT', INGEST_BATCH, { changes: [{ table: 'users', op: 'UPSERT', id: 'c1', data: {} }] });
  });

  test('over graphql-ws too', async () => {
    const ws = createGraphQLWsClient(server);
    try {
      const result = await new Promise<{ errors?: FormattedExecutionResult['errors'] | undefined }>(
        (resolve, reject) => {
          ws.subscribe(
            { query: CREATE_USER, variables: { input: { ...ANN, id: 'x9', active: 'yes' } } },
            { next: resolve, error: reject, complete: () => undefined },
          );
        },
      );
      expect(result.errors?.map((error) => error.extensions?.['code'])).toEqual(['BAD_USER_INPUT']);
    } finally {
      await ws.dispose();
    }
  });
});

describe('NOT_FOUND', () => {
  test('updating a record that does not exist', async () => {
    const response = await rejects(
      'NOT_FOUND',
      'mutation { updateUser(id: "nobody", patch: { active: false }) { id } }',
    );
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', table: 'users', id: 'nobody' });
  });

  test('a batch updating a record that does not exist applies none of its changes', async () => {
    const { id: _id, ...fields } = ANN;
    await rejects('NOT_FOUND', INGEST_BATCH, {
      changes: [
        { table: 'users', op: 'CREATE', id: 'y1', data: fields },
        { table: 'users', op: 'UPDATE', id: 'nobody', data: { active: false } },
      ],
    });
    expect((await post('{ user(id: "y1") { id } }')).data).toEqual({ user: null });
  });

  test('deleting a record that does not exist is not an error: it changes nothing', async () => {
    const before = await post(VERSIONS);
    const response = await post('mutation { deleteUser(id: "nobody") { id user { id } views { view } } }');
    expect(response).toEqual({ data: { deleteUser: { id: 'nobody', user: null, views: [] } } });
    expect(await post(VERSIONS)).toEqual(before);
  });
});

describe('CONFLICT', () => {
  test('creating a record whose id exists', async () => {
    const response = await rejects('CONFLICT', CREATE_USER, { input: ANN });
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', table: 'users', id: 'ann' });
  });

  test('a batch with a conflicting create applies none of its changes', async () => {
    const { id: _id, ...fields } = ANN;
    await rejects('CONFLICT', INGEST_BATCH, {
      changes: [
        { table: 'users', op: 'CREATE', id: 'z1', data: fields },
        { table: 'posts', op: 'CREATE', id: 'z2', data: { authorId: 'z1', title: 't', published: true, likes: 1 } },
        { table: 'users', op: 'CREATE', id: 'ann', data: fields },
      ],
    });
    expect((await post('{ user(id: "z1") { id } post(id: "z2") { id } }')).data).toEqual({ user: null, post: null });
  });
});

test('other validation errors keep GRAPHQL_VALIDATION_FAILED', async () => {
  const response = await post('{ usersList { nope } }');
  expect(response.errors?.map((error) => error.extensions?.['code'])).toEqual(['GRAPHQL_VALIDATION_FAILED']);
});

test('an unexpected error is masked as INTERNAL_SERVER_ERROR and logged as one JSON line', async () => {
  expect(logs).toEqual([]); // deliberate errors are not logged
  // A bug below the resolver: any error that is not an AppError.
  const apply = vi.spyOn(server.store, 'apply').mockRejectedValueOnce(new Error('a bug in the write path'));
  try {
    const response = await post(CREATE_USER, { input: { ...ANN, id: 'late' } });
    expect(response.errors?.map((error) => [error.message, error.extensions?.['code']])).toEqual([
      ['Unexpected error.', 'INTERNAL_SERVER_ERROR'],
    ]);
  } finally {
    apply.mockRestore();
  }
  expect(logs).toHaveLength(1);
  expect(JSON.parse(logs[0] ?? '{}')).toMatchObject({
    level: 'error',
    msg: 'unexpected error',
    error: { message: 'a bug in the write path' },
  });
});
