/**
 * A process of subscribers for `bench/fanout.bench.ts`: opens `count` connections to one
 * server, one subscription each, and tells the orchestrator (IPC) when all have subscribed
 * and when all have received a version (with the time the last of them did). Messages are
 * not parsed whole: the version is read from the text, so this process costs little.
 *
 * argv: <kind: raw|graphql-ws|sse> <url> <count> <query> <snapshot: 1 when a SNAPSHOT comes first>
 */
import { request as httpRequest } from 'node:http';
import { WebSocket } from 'ws';

export type SubscriberKind = 'raw' | 'graphql-ws' | 'sse';
export type SubscriberReport =
  | { readonly type: 'ready' }
  | { readonly type: 'got'; readonly version: number; readonly first: number; readonly last: number }
  | { readonly type: 'failed'; readonly error: string };

const [kind, url, countText, query, snapshotText] = process.argv.slice(2) as [
  SubscriberKind,
  string,
  string,
  string,
  string,
];
const count = Number(countText);
const snapshotFirst = snapshotText === '1';
/** Connections opened at a time (the server's accept backlog is finite). */
const OPENING = 100;

const now = (): number => performance.timeOrigin + performance.now();
const report = (message: SubscriberReport): void => void process.send?.(message);
const fail = (error: unknown): void => {
  report({ type: 'failed', error: error instanceof Error ? error.message : String(error) });
};

let ready = 0;
const onReady = (): void => {
  if (++ready === count) report({ type: 'ready' });
};
const received = new Map<number, { count: number; first: number }>();
const onMessage = (text: string): void => {
  const at = now();
  const match = /"version":(\d+)/.exec(text);
  if (match === null) return;
  if (text.includes('"kind":"SNAPSHOT"')) {
    onReady();
    return;
  }
  const version = Number(match[1]);
  const seen = received.get(version);
  if (seen === undefined) received.set(version, { count: 1, first: at });
  else seen.count++;
  const entry = received.get(version) as { count: number; first: number };
  if (entry.count === count) {
    received.delete(version);
    report({ type: 'got', version, first: entry.first, last: at });
  }
};

const sockets: { close(): void }[] = [];
function openWs(protocol: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket =
      protocol === undefined
        ? new WebSocket(url.replace(/^http/, 'ws'))
        : new WebSocket(url.replace(/^http/, 'ws'), protocol);
    sockets.push({ close: () => socket.terminate() });
    socket.once('error', reject);
    socket.once('open', () => {
      resolve();
      if (protocol === undefined) return onReady();
      socket.send(JSON.stringify({ type: 'connection_init' }));
    });
    socket.on('message', (data) => {
      const text = String(data);
      if (text.startsWith('{"type":"connection_ack"')) {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
        // Plain PubSub sends nothing at first: subscribed is as ready as it gets (the server counts).
        if (!snapshotFirst) onReady();
        return;
      }
      onMessage(text);
    });
  });
}

function openSse(): Promise<void> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ query });
    const request = httpRequest(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        'content-length': Buffer.byteLength(body),
      },
      agent: false,
    });
    sockets.push({ close: () => request.destroy() });
    request.once('error', reject);
    request.once('response', (response) => {
      resolve();
      response.setEncoding('utf8');
      let buffered = '';
      response.on('data', (chunk: string) => {
        buffered += chunk;
        let end = buffered.indexOf('\n\n');
        while (end >= 0) {
          onMessage(buffered.slice(0, end));
          buffered = buffered.slice(end + 2);
          end = buffered.indexOf('\n\n');
        }
      });
    });
    request.end(body);
  });
}

const open = (): Promise<void> =>
  kind === 'raw' ? openWs(undefined) : kind === 'graphql-ws' ? openWs('graphql-transport-ws') : openSse();
try {
  for (let i = 0; i < count; i += OPENING)
    await Promise.all(Array.from({ length: Math.min(OPENING, count - i) }, () => open()));
} catch (error) {
  fail(error);
}
process.on('disconnect', () => {
  for (const socket of sockets) socket.close();
  process.exit(0);
});
