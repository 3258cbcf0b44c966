import { createClient, type Client as WsClient } from 'graphql-ws';
import { afterEach, expect, test } from 'vitest';
import WebSocket from 'ws';
import type { Row } from '../../engine/index.js';
import type { RunningServer } from '../../server/app.js';
import { mintToken } from '../../server/auth.js';
import { type Feed, followWs } from './helpers/clients.js';
import { LocalView, type UpdateEvent } from './helpers/local-view.js';
import { startTestServer } from './helpers/server.js';

/**
 * Each event is serialised once per cohort (event, document, operation name, variables) and
 * written to every socket of that cohort (see `useSharedEventExecution`). Subscribers that
 * differ in any of these must each get their own bytes: other selection sets of one view on
 * one socket, the same document with other variables (`@include`), the same document and
 * variables for two viewers whose rules give them different views. Real graphql-ws clients;
 * each copy is checked against the rows a query returns for the same selection and viewer.
 */
const SECRET = 'cohorts-test-secret-0123456789abcdefghij';

let server: RunningServer | undefined;
const sockets: WsClient[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) await socket.dispose();
  await server?.close();
  server = undefined;
});

function socket(running: RunningServer, token?: string): WsClient {
  const client = createClient({
    url: running.wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    ...(token === undefined ? {} : { connectionParams: { authorization: `Bearer ${token}` } }),
  });
  sockets.push(client);
  return client;
}

async function request<T>(running: RunningServer, query: string, variables: object = {}, token?: string): Promise<T> {
  const response = await fetch(running.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown[] };
  expect(body.errors).toBeUndefined();
  return body.data as T;
}

/** A subscription's copy, kept from its events (which must follow each other). */
function copyOf(feed: Feed<UpdateEvent>): LocalView {
  const copy = new LocalView();
  for (const event of feed.events) copy.apply({ ...event, previousVersion: event.previousVersion ?? null });
  return copy;
}

const byId = (rows: Iterable<Row>): Row[] => [...rows].sort((a, b) => String(a['id']).localeCompare(String(b['id'])));

test('other selection sets and other variables of one view each get their own bytes', async () => {
  server = await startTestServer();
  const running = server;
  const first = socket(running);
  const second = socket(running);
  const WIDE = 'id title likes author { name }';
  const NARROW = 'id likes';
  const INCLUDE = 'id likes title @include(if: $title)';
  const selections = [
    { client: first, rows: WIDE, variables: {} },
    { client: first, rows: NARROW, variables: {} },
    { client: second, rows: NARROW, variables: {} },
    { client: second, rows: INCLUDE, variables: { title: true } },
    { client: first, rows: INCLUDE, variables: { title: false } },
  ];
  const follows = selections.map(({ client, rows, variables }) => {
    const declared = rows.includes('$title') ? '($title: Boolean!)' : '';
    const query = `subscription ${declared} { topPosts { view version previousVersion kind hash removed added { ${rows} } updated { ${rows} } } }`;
    return followWs(client, query, variables, (data) => data['topPosts'] as UpdateEvent);
  });
  await Promise.all(follows.map(({ feed }) => feed.until((events) => events.length === 1, 'the SNAPSHOT')));

  await request(
    running,
    'mutation { createUser(input: { id: "a", name: "Ann", email: "a@x", role: "user", active: true }) { id } }',
  );
  for (let i = 0; i < 4; i++)
    await request(
      running,
      `mutation { createPost(input: { id: "p${i}", authorId: "a", title: "T${i}", published: true, likes: ${i} }) { id } }`,
    );
  await request(running, 'mutation { updatePost(id: "p1", patch: { likes: 10, title: "Top" }) { id } }');
  await request(running, 'mutation { deletePost(id: "p2") { id } }');
  const last = (
    await request<{ views: { id: string; version: number }[] }>(running, '{ views { id version } }')
  ).views.find((view) => view.id === 'topPosts')?.version;
  await Promise.all(follows.map(({ feed }) => feed.until((events) => events.at(-1)?.version === last, 'every DELTA')));

  const wanted = (rows: string, variables: object) =>
    request<{ topPosts: Row[] }>(
      running,
      `query ${rows.includes('$title') ? '($title: Boolean!)' : ''} { topPosts { ${rows} } }`,
      variables,
    );
  for (const [i, { rows, variables }] of selections.entries()) {
    const copy = copyOf(follows[i]!.feed);
    expect(byId(copy.rows.values())).toEqual(byId((await wanted(rows, variables)).topPosts));
    // Every row of every event has exactly the fields its own selection asks for.
    const fields = rows === WIDE ? ['author', 'id', 'likes', 'title'] : rows === NARROW ? ['id', 'likes'] : undefined;
    const keys =
      fields ?? ((variables as { title?: boolean }).title === true ? ['id', 'likes', 'title'] : ['id', 'likes']);
    for (const event of follows[i]!.feed.events)
      for (const row of [...event.added, ...event.updated]) expect(Object.keys(row as object).sort()).toEqual(keys);
  }
});

test('two viewers with the same document and variables get their own views, never the other one’s rows', async () => {
  server = await startTestServer({ authSecret: SECRET });
  const running = server;
  const [u1, u2, boss] = await Promise.all([
    mintToken(SECRET, { sub: 'u1', role: 'viewer' }),
    mintToken(SECRET, { sub: 'u2', role: 'viewer' }),
    mintToken(SECRET, { sub: 'boss', role: 'admin' }),
  ]);
  const QUERY =
    'subscription { posts { view version previousVersion kind hash removed added { id authorId published likes } updated { id authorId published likes } } }';
  const viewers = [u1, u2].map((token) =>
    followWs(socket(running, token), QUERY, {}, (data) => data['posts'] as UpdateEvent),
  );
  await Promise.all(viewers.map(({ feed }) => feed.until((events) => events.length === 1, 'the SNAPSHOT')));

  const post = (id: string, author: string, published: boolean, likes: number) =>
    request(
      running,
      `mutation { createPost(input: { id: "${id}", authorId: "${author}", title: "t", published: ${published}, likes: ${likes} }) { id } }`,
      {},
      boss,
    );
  await post('public', 'u2', true, 1);
  await post('draft1', 'u1', false, 2);
  await post('draft2', 'u2', false, 3);
  await request(running, 'mutation { updatePost(id: "draft1", patch: { likes: 20 }) { id } }', {}, u1);
  await request(running, 'mutation { updatePost(id: "public", patch: { likes: 10 }) { id } }', {}, boss);

  const expectedIds = [
    ['draft1', 'public'],
    ['draft2', 'public'],
  ];
  for (const [i, { feed }] of viewers.entries()) {
    await feed.until(
      (events) => {
        const copy = copyOf({ events } as Feed<UpdateEvent>);
        return (
          byId(copy.rows.values())
            .map((row) => row['id'])
            .join() === expectedIds[i]!.join() && [...copy.rows.values()].some((row) => row['likes'] === 10)
        );
      },
      `viewer ${i + 1}'s rows`,
    );
  }
  for (const [i, token] of [u1, u2].entries()) {
    const { posts } = await request<{ posts: Row[] }>(running, '{ posts { id authorId published likes } }', {}, token);
    const copy = copyOf(viewers[i]!.feed);
    expect(byId(copy.rows.values())).toEqual(byId(posts));
    // No event ever carried a row of the other viewer's draft.
    const other = i === 0 ? 'draft2' : 'draft1';
    for (const event of viewers[i]!.feed.events)
      expect([...event.added, ...event.updated].some((row) => (row as Row)['id'] === other)).toBe(false);
  }
});
