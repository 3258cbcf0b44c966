/**
 * The floor: a `ws` server that, on each POST, writes one pre-serialised frame (a graphql-ws
 * `next` message carrying a `topPosts` DELTA) to every open socket, then answers.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { announce, answerControl } from './control.js';
import { topPostsFrame } from './payload.js';

const server = createServer((request, response) => {
  request.resume();
  request.on('end', () => {
    version++;
    const frame = topPostsFrame(version);
    for (const socket of wss.clients) socket.send(frame);
    response.end(JSON.stringify({ version }));
  });
});
const wss = new WebSocketServer({ server });
let version = 0;
server.listen(0, '127.0.0.1');
await once(server, 'listening');
answerControl(() => wss.clients.size);
announce(`http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`);
