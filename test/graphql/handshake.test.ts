import { once } from 'node:events';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { WebSocket } from 'ws';
import type { RunningServer } from '../../server/app.js';
import { startTestServer } from './helpers/server.js';

/**
 * The wait for `connection_init` (graphql-ws's 3 s, timed by our transport rather than by
 * graphql-ws): a socket that never sends it is closed with 4408; one that sent it is
 * acknowledged and stays open past the wait.
 */
let server: RunningServer;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  server = await startTestServer();
});

afterAll(async () => {
  for (const socket of sockets) socket.terminate();
  await server?.close();
});

async function open(): Promise<WebSocket> {
  const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
  sockets.push(socket);
  await once(socket, 'open');
  return socket;
}

test('a socket that never sends connection_init is closed with 4408; an acknowledged one stays', async () => {
  const silent = await open();
  const polite = await open();
  const closed = once(silent, 'close') as Promise<[number, Buffer]>;
  const acked = once(polite, 'message') as Promise<[Buffer]>;
  polite.send(JSON.stringify({ type: 'connection_init' }));
  expect(JSON.parse(String((await acked)[0]))).toEqual({ type: 'connection_ack' });
  const [code, reason] = await closed;
  expect(code).toBe(4408);
  expect(String(reason)).toBe('Connection initialisation timeout');
  // Past the wait, the acknowledged socket still answers.
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(polite.readyState).toBe(WebSocket.OPEN);
  const pong = once(polite, 'message') as Promise<[Buffer]>;
  polite.send(JSON.stringify({ type: 'ping' }));
  expect(JSON.parse(String((await pong)[0]))).toEqual({ type: 'pong' });
}, 15_000);
