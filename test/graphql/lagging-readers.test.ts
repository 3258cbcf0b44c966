import { createClient, type Client as WsClient } from 'graphql-ws';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import type { RunningServer } from '../../server/app.js';
import { followWs } from './helpers/clients.js';
import { mutateOk, startTestServer } from './helpers/server.js';

/**
 * A graphql-ws client that reads slowly is not sent a backlog of DELTAs: once more than a
 * quarter of `maxQueuedBytes` (at most 1 MiB) waits unread for its socket, its DELTAs are
 * dropped, and when the socket has drained it gets a fresh SNAPSHOT, then consecutive DELTAs
 * again; its socket stays open. A client reading at full speed on another socket gets every
 * DELTA. Real graphql-ws clients; the slow one pauses its socket (`ws` stops reading it).
 */
const ROW_BYTES = 1024 * 1024;
const UPDATES = 24;
/** Every DELTA of the big user carries its 1 MiB name; SNAPSHOTs do not. */
const USERS = 'subscription { usersList { kind version previousVersion updated { id age name } added { id age } } }';

interface Event {
  readonly kind: 'SNAPSHOT' | 'DELTA';
  readonly version: number;
  readonly previousVersion: number | null;
  readonly added: { id: string; age: number | null }[];
  readonly updated: { id: string; age: number | null }[];
}

let server: RunningServer;
let fast: WsClient | undefined;
let slow: WsClient | undefined;
const slowSockets: WebSocket[] = [];

/** A `ws` WebSocket whose instances the test can pause. */
class PausableSocket extends WebSocket {
  constructor(...args: ConstructorParameters<typeof WebSocket>) {
    super(...args);
    slowSockets.push(this);
  }
}

beforeAll(async () => {
  server = await startTestServer({
    maxQueuedBytes: 64 * 1024 * 1024,
    maxPayloadBytes: 4 * ROW_BYTES,
    writeLimits: { maxRecordBytes: 2 * ROW_BYTES },
  });
  fast = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
  slow = createClient({ url: server.wsUrl, webSocketImpl: PausableSocket, retryAttempts: 0, lazy: true });
});

afterAll(async () => {
  for (const socket of slowSockets) socket.terminate();
  await fast?.dispose();
  await slow?.dispose();
  await server?.close();
});

/** Each event follows the one before it: a DELTA applies to the version the copy has. */
function expectConsecutive(events: readonly Event[]): void {
  expect(events[0]?.kind).toBe('SNAPSHOT');
  for (let i = 1; i < events.length; i++) {
    const event = events[i] as Event;
    const before = (events[i - 1] as Event).version;
    if (event.kind === 'SNAPSHOT') expect(event.version).toBeGreaterThan(before);
    else expect(event.previousVersion).toBe(before);
  }
}

test('a slow reader gets a fresh SNAPSHOT instead of a backlog of DELTAs, then consecutive DELTAs', async () => {
  await mutateOk(server, 'mutation ($input: CreateUserInput!) { createUser(input: $input) { id } }', {
    input: { id: 'big', name: 'x'.repeat(ROW_BYTES), email: 'big@example.com', role: 'user', active: true, age: 0 },
  });
  const fastFeed = followWs(fast as WsClient, USERS, {}, (data) => data['usersList'] as Event).feed;
  const slowFeed = followWs(slow as WsClient, USERS, {}, (data) => data['usersList'] as Event).feed;
  await fastFeed.until((events) => events.length === 1, 'the fast SNAPSHOT');
  await slowFeed.until((events) => events.length === 1, 'the slow SNAPSHOT');
  const socket = slowSockets[0] as WebSocket;
  socket.pause();

  // 24 MiB of DELTAs: more than the kernel's buffers hold (a paused reader's window stays small), so the server's queue fills.
  for (let age = 1; age <= UPDATES; age++)
    await mutateOk(server, `mutation { updateUser(id: "big", patch: { age: ${age} }) { id } }`);
  await fastFeed.until((events) => events.length === 1 + UPDATES, 'every DELTA at full speed', 30_000);
  expectConsecutive(fastFeed.events);

  socket.resume();
  const last = (events: readonly Event[]): boolean => {
    const event = events.at(-1);
    const row = event?.kind === 'SNAPSHOT' ? event.added.find((r) => r.id === 'big') : event?.updated[0];
    return row?.age === UPDATES;
  };
  await slowFeed.until(last, 'the slow reader to catch up', 30_000);
  expectConsecutive(slowFeed.events);
  const kinds = slowFeed.events.map((event) => event.kind);
  // Some DELTAs were dropped for a later SNAPSHOT; the socket was not closed.
  expect(kinds.lastIndexOf('SNAPSHOT')).toBeGreaterThan(0);
  expect(slowFeed.events.length).toBeLessThan(1 + UPDATES);
  expect(slowFeed.error).toBeUndefined();
  expect(socket.readyState).toBe(WebSocket.OPEN);

  // And it follows every change from there.
  await mutateOk(server, 'mutation { updateUser(id: "big", patch: { age: 1000 }) { id } }');
  await slowFeed.until((events) => events.at(-1)?.updated[0]?.age === 1000, 'the next DELTA');
  expectConsecutive(slowFeed.events);
}, 120_000);
