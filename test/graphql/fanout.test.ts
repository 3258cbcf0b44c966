import { print } from 'graphql';
import type { Client as WsClient } from 'graphql-ws';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Row } from '../../engine/index.js';
import type { RunningServer } from '../../server/app.js';
import {
  CreatePostDocument,
  CreateUserDocument,
  DeletePostDocument,
  TopPostsDocument,
  UpdatePostDocument,
  ViewsDocument,
} from './generated/graphql.js';
import { createGraphQLWsClient, followWs, must, type Transport, urqlOverWs } from './helpers/clients.js';
import { LocalView, type UpdateEvent } from './helpers/local-view.js';
import { startTestServer } from './helpers/server.js';

/**
 * 100 concurrent subscribers of one view (10 sockets, 10 subscriptions each) receive the
 * identical sequence of events while 4 clients send mutations concurrently.
 */
const SOCKETS = 10;
const PER_SOCKET = 10;
const WRITERS = 4;
const ROUNDS = 20;

let server: RunningServer;
let sockets: WsClient[] = [];
let writers: Transport[] = [];

beforeAll(async () => {
  server = await startTestServer();
  sockets = Array.from({ length: SOCKETS }, () => createGraphQLWsClient(server));
  writers = Array.from({ length: WRITERS }, () => urqlOverWs(server));
});

afterAll(async () => {
  await Promise.all(writers.map((writer) => writer.close()));
  await Promise.all(sockets.map((socket) => socket.dispose()));
  await server?.close();
});

test('100 subscribers of topPosts receive the identical sequence', async () => {
  const query = print(TopPostsDocument);
  const subscribers = sockets.flatMap((socket) =>
    Array.from({ length: PER_SOCKET }, () => followWs(socket, query, {}, (data) => data['topPosts'] as UpdateEvent)),
  );
  // Another selection of the same view: events are executed once per distinct operation.
  const narrow = followWs(
    sockets[0]!,
    'subscription { topPosts { version previousVersion updated { id likes } } }',
    {},
    (data) => data['topPosts'] as { version: number; updated: object[] },
  );
  await Promise.all(
    [...subscribers, narrow].map(({ feed }) => feed.until((events) => events.length === 1, 'snapshot')),
  );
  expect(server.store.listenerCount('topPosts')).toBe(SOCKETS * PER_SOCKET + 1);

  for (const [w, writer] of writers.entries()) {
    await must(writer.client, CreateUserDocument, {
      input: { id: `w${w}`, name: `Writer ${w}`, email: `w${w}@example.com`, role: 'editor', active: true },
    });
  }
  // Each round, every writer changes its own posts at the same time.
  for (let round = 0; round < ROUNDS; round++) {
    await Promise.all(
      writers.map(async (writer, w) => {
        const id = `w${w}-p${round % 6}`;
        if (round < 6) {
          await must(writer.client, CreatePostDocument, {
            input: {
              id,
              authorId: `w${w}`,
              title: `post ${round}`,
              published: round % 3 !== 0,
              likes: (round * 7 + w) % 11,
            },
          });
        } else if (round % 5 === 4) {
          await must(writer.client, DeletePostDocument, { id: `w${w}-p${4 + (round % 2)}` });
        } else {
          await must(writer.client, UpdatePostDocument, {
            id: `w${w}-p${round % 4}`,
            patch: { likes: (round * 13 + w) % 17, published: round % 2 === 0 },
          });
        }
      }),
    );
  }

  const { views } = await must(writers[0]!.client, ViewsDocument, {});
  const topPosts = views.find((view) => view.id === 'topPosts');
  const final = topPosts?.version ?? NaN;
  await Promise.all(
    subscribers.map(({ feed }) => feed.until((events) => events.at(-1)?.version === final, `version ${final}`)),
  );

  const sequences = subscribers.map(({ feed }) => JSON.stringify(feed.events));
  expect(new Set(sequences).size).toBe(1);
  const events = subscribers[0]!.feed.events;
  await narrow.feed.until((narrowEvents) => narrowEvents.at(-1)?.version === final, 'the narrow subscriber');
  expect(narrow.feed.events.map((event) => event.version)).toEqual(events.map((event) => event.version));
  expect(narrow.feed.events.map((event) => event.updated)).toEqual(
    events.map((event) => event.updated.map((row) => ({ id: (row as Row)['id'], likes: (row as Row)['likes'] }))),
  );
  narrow.stop();
  expect(events.length).toBeGreaterThan(ROUNDS);
  const local = new LocalView();
  for (const event of events) local.apply(event);
  expect(local.localHash()).toBe(topPosts?.hash);
  expect(local.rows.size).toBeLessThanOrEqual(10);

  for (const { stop } of subscribers) stop();
});
