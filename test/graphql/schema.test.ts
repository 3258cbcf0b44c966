import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { generate } from '@graphql-codegen/cli';
import { buildClientSchema, getIntrospectionQuery, type IntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, expect, test } from 'vitest';
import codegenConfig from '../../codegen.js';
import { loadConfig } from '../../config/load.js';
import { buildSchema, printSortedSchema } from '../../graphql/index.js';
import type { RunningServer } from '../../server/app.js';
import { startTestServer } from './helpers/server.js';

/**
 * The committed `schema.graphql` and generated documents match the code (run
 * `npm run codegen` when these fail), and introspection of a running server returns the
 * same schema.
 */
const root = resolve(import.meta.dirname, '../..');
let server: RunningServer;

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  await server?.close();
});

async function demoSchema(): Promise<string> {
  return printSortedSchema(buildSchema(await loadConfig()));
}

test('schema.graphql is up to date (npm run codegen)', async () => {
  expect(await demoSchema()).toBe(await readFile(resolve(root, 'schema.graphql'), 'utf8'));
});

test('the generated typed documents are up to date (npm run codegen)', async () => {
  const outputs = await generate({ ...codegenConfig, cwd: root, silent: true }, false);
  expect(outputs.length).toBeGreaterThan(0);
  for (const output of outputs) {
    expect(output.content, output.filename).toBe(await readFile(resolve(root, output.filename), 'utf8'));
  }
});

test('introspection over HTTP returns the schema', async () => {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: getIntrospectionQuery({ descriptions: true, specifiedByUrl: true }) }),
  });
  const { data } = (await response.json()) as { data: IntrospectionQuery };
  expect(printSortedSchema(buildClientSchema(data))).toBe(await demoSchema());

  const types = new Map(data.__schema.types.map((type) => [type.name, type]));
  for (const name of [
    'User',
    'Post',
    'UsersListRow',
    'UsersListUpdate',
    'TopPostsRow',
    'ViewUpdateKind',
    'ChangeInput',
  ]) {
    expect(types.has(name), name).toBe(true);
  }
  const subscription = types.get('Subscription');
  const fields =
    subscription !== undefined && 'fields' in subscription ? subscription.fields.map((field) => field.name) : [];
  expect(fields.sort()).toEqual([
    'activeUsers',
    'posts',
    'postsByAuthor',
    'postsPerAuthor',
    'topPosts',
    'users',
    'usersCount',
    'usersList',
  ]);
});

test('GraphiQL is served to a browser', async () => {
  const response = await fetch(server.url, { headers: { accept: 'text/html' } });
  expect(response.status).toBe(200);
  expect(await response.text()).toContain('GraphiQL');
});
