import { request } from 'node:http';
import { join } from 'node:path';
import { createClient } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { killProcessGroups, spawnProcess } from '../process-groups.js';
import { repoRoot } from '../storage/helpers.js';
import {
  listening,
  must,
  type ServerProcess,
  serverProcess,
  spawnServer,
  startServerProcess,
  stopServer,
  tempDir,
} from './helpers.js';

/**
 * Signals, as supervisors, terminals and `npm start` deliver them: one SIGTERM or SIGINT, to
 * the server or to its whole process group (Ctrl-C, `kill -- -pgid`; with `npm start` the
 * server then hears it twice, once forwarded by npm), stops it gracefully with exit 0, leaves
 * no process behind, and frees the data file for the next start. While it stops, a request
 * gets the retryable UNAVAILABLE (HTTP 503 with Retry-After), and further signals change nothing.
 */
let dir: string;
let cleanup: () => void;
beforeAll(() => {
  ({ dir, cleanup } = tempDir('durability-signals-'));
});
afterEach(killProcessGroups);
afterAll(() => cleanup());

const TIMEOUT_MS = 300_000; // a bound on a hang: starts take what they take on a busy machine
const CREATE_USER =
  'mutation { createUser(input: { id: "u1", name: "Ann", email: "a@example.com", role: "admin", active: true }) { id } }';

/** `npm start` as a user types it, in its own process group (npm and the server it runs). */
async function npmStart(args: readonly string[]): Promise<{ server: ServerProcess; url: string }> {
  const started = spawnProcess('npm', ['start', '--', '--port', '0', ...args], {
    cwd: repoRoot,
    env: { ...process.env, AUTH_SECRET: '' },
  });
  const server = serverProcess(started);
  return { server, url: (await listening(server)).url };
}

/** Whether any process of the group is left. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether the group empties once its leader exited. Not at once: a helper the server started
 * (tsx's esbuild service, when its transform cache is cold) sees its pipe close and exits
 * right after; 10 s only bounds a process that stays.
 */
async function groupEmpties(pgid: number): Promise<boolean> {
  for (let i = 0; i < 1000 && groupAlive(pgid); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  return !groupAlive(pgid);
}

const CASES: readonly { how: string; via: 'node' | 'npm'; signal: NodeJS.Signals; target: 'process' | 'group' }[] = [
  { how: 'SIGTERM to the server', via: 'node', signal: 'SIGTERM', target: 'process' },
  { how: 'SIGINT to the server', via: 'node', signal: 'SIGINT', target: 'process' },
  { how: 'SIGTERM to its process group', via: 'node', signal: 'SIGTERM', target: 'group' },
  { how: 'SIGINT to its process group (Ctrl-C)', via: 'node', signal: 'SIGINT', target: 'group' },
  { how: 'SIGTERM to npm start (a supervisor, docker stop)', via: 'npm', signal: 'SIGTERM', target: 'process' },
  { how: 'SIGINT to the process group of npm start (Ctrl-C)', via: 'npm', signal: 'SIGINT', target: 'group' },
  { how: 'SIGTERM to the process group of npm start', via: 'npm', signal: 'SIGTERM', target: 'group' },
];

for (const [index, { how, via, signal, target }] of CASES.entries()) {
  test(
    `${how}: exit 0 after a graceful stop, nothing left running, the file free for a restart`,
    async () => {
      const file = join(dir, `live-${index}.sqlite`);
      const first = via === 'npm' ? await npmStart(['--data', file]) : await startServerProcess(['--data', file]);
      await must(first.url, CREATE_USER);

      first.server.process.signal(signal, target);
      const { code, signal: killedBy } = await first.server.exited;
      expect({ code, killedBy }).toEqual({ code: 0, killedBy: null });
      expect(await groupEmpties(first.server.process.pid), 'a process of the group is still running').toBe(true);
      const messages = first.server.logs.map((log) => log.msg);
      expect(messages).toContain('stopped');
      expect(first.server.stderr()).toBe('');

      // The lock went with the process: the next start on the file works and has the record.
      const second = await startServerProcess(['--data', file]);
      expect(await must(second.url, '{ user(id: "u1") { name } }')).toEqual({ user: { name: 'Ann' } });
      expect(await stopServer(second.server)).toBe(0);
    },
    TIMEOUT_MS,
  );
}

test(
  'while it stops: an operation gets UNAVAILABLE (HTTP 503, Retry-After), more signals change nothing, exit 0',
  async () => {
    // The drain bound only caps a hang; the request held open below is what keeps the stop going.
    const server = spawnServer(['--port', '0', '--memory', '--drain-ms', '120000'], { env: { AUTH_SECRET: '' } });
    const { url } = await listening(server);
    const ws = createClient({
      url: url.replace(/^http/, 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: false,
    });
    try {
      expect(await wsResult(ws, '{ usersCount { count } }')).toEqual({ data: { usersCount: [{ count: 0 }] } });

      // A request in flight: its headers are read (the server answered 100 Continue), its body is not sent yet.
      const held = heldRequest(url, JSON.stringify({ query: CREATE_USER }));
      await held.continued;

      server.process.signal('SIGTERM');
      await server.process.waitForLine((line) => line.includes('"msg":"shutting down"'));
      server.process.signal('SIGINT');
      server.process.signal('SIGTERM', 'group');
      await server.process.waitForLine((line) => line.includes('"signal":"SIGTERM"') && line.includes('already'));
      await server.process.waitForLine((line) => line.includes('"signal":"SIGINT"') && line.includes('already'));

      // graphql-ws: an operation on the socket that is still open.
      const refused = (await wsResult(ws, '{ usersCount { count } }')) as { errors?: unknown };
      expect(refused.errors).toEqual([expect.objectContaining({ extensions: { code: 'UNAVAILABLE' } })]);

      // HTTP: the request whose body arrives now.
      const response = await held.finish();
      expect(response.status).toBe(503);
      expect(response.retryAfter).toBe('1');
      expect(JSON.parse(response.body)).toMatchObject({
        errors: [{ extensions: { code: 'UNAVAILABLE' } }],
      });
      expect(JSON.parse(response.body).errors[0].message).toMatch(/shutting down.*retry/);
    } finally {
      await ws.dispose();
    }
    expect((await server.exited).code).toBe(0);
    const messages = server.logs.map((log) => log.msg);
    expect(messages).not.toContain('second signal: exiting now');
    expect(messages.filter((msg) => msg === 'already shutting down')).toHaveLength(2);
    expect(messages.at(-1)).toBe('stopped');
  },
  TIMEOUT_MS,
);

/** One operation over graphql-ws: its single result, or `{ errors }` when it was refused. */
function wsResult(ws: ReturnType<typeof createClient>, query: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let result: unknown;
    ws.subscribe(
      { query },
      {
        next: (value) => void (result = value),
        error: (error) => (Array.isArray(error) ? resolve({ errors: error }) : reject(error)),
        complete: () => resolve(result),
      },
    );
  });
}

/**
 * A POST whose body waits: `continued` resolves once the server read the headers and answered
 * `100 Continue` (it has the request in hand); `finish` sends the body and reads the answer.
 */
function heldRequest(
  url: string,
  body: string,
): { continued: Promise<void>; finish(): Promise<{ status: number; retryAfter: string | undefined; body: string }> } {
  const req = request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' },
  });
  const answered = new Promise<{ status: number; retryAfter: string | undefined; body: string }>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          retryAfter: res.headers['retry-after'] as string | undefined,
          body: text,
        }),
      );
    });
  });
  answered.catch(() => undefined); // seen by `finish`; a test that fails first must not leave it unhandled
  const continued = new Promise<void>((resolve) => req.once('continue', () => resolve()));
  req.flushHeaders();
  return {
    continued,
    finish: () => {
      req.end(body);
      return answered;
    },
  };
}
