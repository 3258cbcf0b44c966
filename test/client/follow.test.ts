import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { print } from 'graphql';
import { createClient, type Client as WsClient } from 'graphql-ws';
import { afterEach, expect, test } from 'vitest';
import WebSocket from 'ws';
import { followView, type SubscribeClient } from '../../client/index.js';
import { TopPostsDocument, UsersListDocument } from '../graphql/generated/graphql.js';
import { post, random } from '../graphql/helpers/live.js';
import { eventually } from '../graphql/helpers/server.js';
import { AD_HOC_ARGS, expectEqualToQuery, mutate, POST, serve, strip } from './helpers.js';

/**
 * `followView` over graphql-ws against a real server on a file: random mutations, the client's
 * socket cut in the middle (it resumes with `sinceVersion` and gets the missed DELTAs), the
 * server restarted on the same file and port (it resubscribes and gets a SNAPSHOT), and at the
 * end every followed view equals the Query, rows and order, with the hash checked on every event.
 */

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A transport that records what it sends and receives. */
function recording(ws: WsClient): { client: SubscribeClient; sent: Record<string, unknown>[]; kinds: string[] } {
  const sent: Record<string, unknown>[] = [];
  const kinds: string[] = [];
  const client: SubscribeClient = {
    subscribe(payload, sink) {
      sent.push({ ...payload.variables });
      return ws.subscribe(payload, {
        next: (result) => {
          const event = Object.values((result.data ?? {}) as object)[0] as { kind?: string } | undefined;
          kinds.push(event?.kind ?? 'error');
          sink.next(result as never);
        },
        error: (error) => sink.error(error),
        complete: () => sink.complete(),
      });
    },
  };
  return { client, sent, kinds };
}

test('random mutations, a cut socket and a server restart: the copies equal the Query', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'client-follow-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'live.sqlite');
  let server = await serve(file);
  cleanups.push(() => server.close());
  const ws = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
  cleanups.push(() => ws.dispose());
  const { client, sent, kinds } = recording(ws);
  const problems: string[] = [];
  const onStatus = (status: string, error?: unknown) => {
    if (status === 'failed' || (error instanceof Error && /mismatch|gap/.test(error.message)))
      problems.push(`${status}: ${String(error)}`);
  };
  const options = { onStatus, retryDelayMs: () => 50 };
  const follows = {
    topPosts: followView(client, print(TopPostsDocument), options),
    usersList: followView(client, print(UsersListDocument), options),
  };
  const adHoc = followView(
    client,
    `subscription { posts(${AD_HOC_ARGS}) { added { ${POST} } updated { ${POST} } } }`,
    options,
  );
  cleanups.push(() => {
    for (const follow of [...Object.values(follows), adHoc]) follow.stop();
  });
  await eventually(() => [...Object.values(follows), adHoc].every((f) => f.status === 'live'), 'the views live');

  const next = random(7);
  for (let i = 0; i < 40; i++) await mutate(server, next);
  await expectEqualToQuery(server, follows);

  // Cut the socket: the client resumes with sinceVersion and gets the missed deltas.
  const before = sent.length;
  ws.terminate();
  for (let i = 0; i < 20; i++) await mutate(server, next);
  await expectEqualToQuery(server, follows);
  const resumed = sent.slice(before);
  expect(resumed.length).toBeGreaterThanOrEqual(2);
  expect(resumed.every((variables) => typeof variables['sinceVersion'] === 'number')).toBe(true);

  // Restart the server on the same file and port: the client follows it there.
  const port = server.port;
  await server.close();
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  server = await serve(file, port);
  for (let i = 0; i < 40; i++) await mutate(server, next);
  await expectEqualToQuery(server, follows);

  // A live query's order comes from its arguments, carried on the events: no sort declared here.
  const query = await post(server, `{ posts(${AD_HOC_ARGS}) { ${POST} } }`);
  expect(strip(adHoc.state?.rows ?? [])).toEqual(query.data?.['posts']);
  expect(adHoc.state?.rows.length).toBeGreaterThan(1);

  expect(problems).toEqual([]);
  expect(kinds.filter((kind) => kind === 'SNAPSHOT').length).toBeGreaterThanOrEqual(4); // first two, after restart two
  expect(kinds).not.toContain('error');
  expect(follows.topPosts.state?.rows.length).toBeGreaterThan(0);
});
