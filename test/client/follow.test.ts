import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { print } from 'graphql';
import { createClient, type Client as WsClient } from 'graphql-ws';
import { afterEach, expect, test } from 'vitest';
import WebSocket from 'ws';
import { type Following, followView, type LiveRow, type SubscribeClient } from '../../client/index.js';
import { loadConfig } from '../../config/load.js';
import { type RunningServer, startServer } from '../../server/app.js';
import { createLogger } from '../../server/logger.js';
import { AllViewsDocument, TopPostsDocument, UsersListDocument } from '../graphql/generated/graphql.js';
import { post, random } from '../graphql/helpers/live.js';
import { eventually } from '../graphql/helpers/server.js';

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

async function serve(file: string, port = 0): Promise<RunningServer> {
  const server = await startServer({
    checked: await loadConfig(),
    port,
    host: '127.0.0.1',
    storage: { file },
    logger: createLogger({ level: 'error', write: (line) => void process.stderr.write(`${line}\n`) }),
  });
  return server;
}

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

const MUTATIONS = {
  createUser: 'mutation($input: CreateUserInput!) { createUser(input: $input) { id } }',
  updateUser: 'mutation($id: ID!, $patch: UserPatch!) { updateUser(id: $id, patch: $patch) { id } }',
  deleteUser: 'mutation($id: ID!) { deleteUser(id: $id) { id } }',
  createPost: 'mutation($input: CreatePostInput!) { createPost(input: $input) { id } }',
  updatePost: 'mutation($id: ID!, $patch: PostPatch!) { updatePost(id: $id, patch: $patch) { id } }',
  deletePost: 'mutation($id: ID!) { deletePost(id: $id) { id } }',
};

/** One random mutation; errors (a create of an existing id, an update of a missing one) are fine. */
async function mutate(server: RunningServer, next: () => number): Promise<void> {
  const n = (k: number) => Math.floor(next() * k);
  const userId = `u${n(6)}`;
  const postId = `p${n(15)}`;
  const roll = next();
  if (roll < 0.15) {
    await post(server, MUTATIONS.createUser, {
      input: {
        id: userId,
        name: ['Ann', 'bob', 'Émile', 'zoë'][n(4)],
        email: 'x@example.com',
        role: 'r',
        active: true,
      },
    });
  } else if (roll < 0.25) await post(server, MUTATIONS.updateUser, { id: userId, patch: { name: `N${n(9)}` } });
  else if (roll < 0.3) await post(server, MUTATIONS.deleteUser, { id: userId });
  else if (roll < 0.55) {
    await post(server, MUTATIONS.createPost, {
      input: { id: postId, authorId: userId, title: `t${n(9)}`, published: next() < 0.7, likes: n(5) },
    });
  } else if (roll < 0.9) {
    const patch = [{ likes: n(5) }, { published: next() < 0.5 }, { authorId: userId }, { title: `t${n(9)}` }][n(4)];
    await post(server, MUTATIONS.updatePost, { id: postId, patch });
  } else await post(server, MUTATIONS.deletePost, { id: postId });
}

const POST = 'id authorId title published likes';
const AD_HOC_ARGS = 'where: { published: { eq: true } }, orderBy: [{ field: title, direction: DESC }], limit: 5';

const strip = (rows: readonly unknown[]) => JSON.parse(JSON.stringify(rows)) as unknown[];

/** Polls the Query until every followed copy has its version and its rows, in order. */
async function expectEqualToQuery(server: RunningServer, follows: { [view: string]: Following<LiveRow> }) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const data = (await post(server, print(AllViewsDocument))).data as { [view: string]: unknown[] } & {
      views: { id: string; version: number }[];
    };
    const differ = Object.entries(follows).filter(([view, follow]) => {
      const version = data.views.find((v) => v.id === view)?.version;
      const state = follow.state;
      return state?.version !== version || JSON.stringify(strip(state?.rows ?? [])) !== JSON.stringify(data[view]);
    });
    if (differ.length === 0) return;
    if (Date.now() > deadline)
      throw new Error(`views differ from the Query: ${differ.map(([view]) => view).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
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
