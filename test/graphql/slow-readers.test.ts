import { once } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Client as WsClient } from 'graphql-ws';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { WebSocket } from 'ws';
import type { RunningServer } from '../../server/app.js';
import { createGraphQLWsClient, followWs } from './helpers/clients.js';
import { eventually, mutateOk, startTestServer } from './helpers/server.js';

/**
 * A client that subscribes many times to a view holding a big row and then stops reading
 * must not make the server hold a copy of that row per subscription: past `maxQueuedBytes`
 * queued for its socket, the socket is closed (1013) and what was queued is freed, while
 * another subscriber of the same view keeps receiving.
 */
const ROW_BYTES = 10 * 1024 * 1024;
const SUBSCRIPTIONS = 20;
const MAX_QUEUED_BYTES = 4 * 1024 * 1024;
const USERS = 'subscription { usersList { kind version added { id name } updated { id name } } }';

let server: RunningServer;
let fast: WsClient;
let slow: WebSocket | undefined;

beforeAll(async () => {
  server = await startTestServer({
    maxPayloadBytes: 2 * ROW_BYTES,
    maxQueuedBytes: MAX_QUEUED_BYTES,
    writeLimits: { maxRecordBytes: 2 * ROW_BYTES },
  });
  fast = createGraphQLWsClient(server);
});

afterAll(async () => {
  slow?.terminate();
  await fast?.dispose();
  await server?.close();
});

// A full collection before each reading, so that what is counted is what is held.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/** Memory held by this process (server and clients): ws queues strings on the heap, Buffers outside it. */
const heldMemory = (): number => {
  collect();
  const { heapUsed, arrayBuffers } = process.memoryUsage();
  return heapUsed + arrayBuffers;
};

test('a client that stops reading is closed past the byte bound; the others keep receiving', async () => {
  await mutateOk(server, 'mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }', {
    input: { id: 'big', name: 'x'.repeat(ROW_BYTES), email: 'big@example.com', role: 'user', active: true },
  });
  const follower = followWs(fast, USERS, {}, (data) => data['usersList'] as { kind: string; version: number });
  await follower.feed.until((events) => events.length === 1, 'the fast SNAPSHOT');
  const baseline = heldMemory();

  // The slow client: graphql-ws by hand, then it stops reading its socket.
  slow = new WebSocket(server.wsUrl, 'graphql-transport-ws');
  await once(slow, 'open');
  slow.send(JSON.stringify({ type: 'connection_init' }));
  const [ack] = (await once(slow, 'message')) as [Buffer];
  expect(JSON.parse(String(ack))).toMatchObject({ type: 'connection_ack' });
  slow.pause();
  const closed = once(slow, 'close');
  for (let i = 0; i < SUBSCRIPTIONS; i++)
    slow.send(JSON.stringify({ id: `s${i}`, type: 'subscribe', payload: { query: USERS } }));

  // Its subscriptions start (the socket is cut a second after its close frame, so they last that long)
  // and then end on the server: only the fast one still listens to the view.
  await eventually(() => server.store.listenerCount('usersList') > 1, 'the slow subscriptions', 10_000);
  await eventually(() => server.store.listenerCount('usersList') === 1, 'the slow socket closed', 10_000);
  // What was queued for it is freed once the socket is gone (not a 10 MB copy per subscription).
  await eventually(() => heldMemory() - baseline < 3 * ROW_BYTES, 'the queue freed', 10_000);

  // The fast subscriber still gets every change.
  await mutateOk(server, 'mutation { updateUser(id: "big", patch: { name: "small" }) { id } }', {});
  await follower.feed.until((events) => events.length === 2, 'the fast DELTA');
  expect(follower.feed.events[1]).toMatchObject({
    kind: 'DELTA',
    version: (follower.feed.events[0]?.version ?? 0) + 1,
  });

  // Once it reads again, the slow client finds its socket closed (1013 if the close frame made it, else cut).
  slow.resume();
  const [code] = (await closed) as [number];
  expect([1013, 1006]).toContain(code);
});
