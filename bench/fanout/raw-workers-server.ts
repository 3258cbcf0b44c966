/**
 * The floor spread over worker threads: the main thread answers the trigger (a POST) and posts
 * the pre-serialised frame to `WORKERS` worker threads, each holding its own `ws` server on its
 * own port and writing the frame to its sockets (the shape of instances fed one ordered stream).
 * Announces the workers' URLs, space-separated: the benchmark spreads its subscribers over them.
 * Answers `cpu` for the whole process (every thread) and `subscribers` summed; `heap` is the main thread's only.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { announce, answerControl } from './control.js';
import { topPostsFrame } from './payload.js';

const WORKERS = Number(process.env['BENCH_FANOUT_WORKERS'] ?? 2);

type ToWorker = { type: 'frame'; frame: string } | { type: 'count' };
type FromWorker = { type: 'listening'; url: string } | { type: 'count'; sockets: number };

/** A worker: plain JavaScript (a worker thread does not get tsx's loader), `ws` resolved by the main thread. */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createServer } = require('node:http');
const { WebSocketServer } = require(workerData.ws);
const server = createServer();
const wss = new WebSocketServer({ server });
server.listen(0, '127.0.0.1', () => {
  parentPort.on('message', (message) => {
    if (message.type === 'frame') for (const socket of wss.clients) socket.send(message.frame);
    else parentPort.postMessage({ type: 'count', sockets: wss.clients.size });
  });
  parentPort.postMessage({ type: 'listening', url: 'http://127.0.0.1:' + server.address().port + '/graphql' });
});
`;

const ws = createRequire(import.meta.url).resolve('ws');
const workers = Array.from({ length: WORKERS }, () => new Worker(WORKER, { eval: true, workerData: { ws } }));
const urls = await Promise.all(
  workers.map(
    (worker) =>
      new Promise<string>((resolve) =>
        worker.once('message', (message: FromWorker) => {
          if (message.type === 'listening') resolve(message.url);
        }),
      ),
  ),
);
let version = 0;
const sockets = new Map<number, number>();
for (const [i, worker] of workers.entries()) {
  worker.on('message', (message: FromWorker) => {
    if (message.type === 'count') sockets.set(i, message.sockets);
  });
}
// The last known socket counts, refreshed on each look (the orchestrator polls until they are all there).
const subscribers = (): number => {
  for (const worker of workers) worker.postMessage({ type: 'count' } satisfies ToWorker);
  return [...sockets.values()].reduce((sum, n) => sum + n, 0);
};
const server = createServer((request, response) => {
  request.resume();
  request.on('end', () => {
    version++;
    const frame = topPostsFrame(version);
    for (const worker of workers) worker.postMessage({ type: 'frame', frame } satisfies ToWorker);
    response.end(JSON.stringify({ version }));
  });
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
answerControl(subscribers);
announce(`http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql ${urls.join(' ')}`);
