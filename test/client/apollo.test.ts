import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApolloClient, ApolloLink, CombinedGraphQLErrors, InMemoryCache } from '@apollo/client';
import { GraphQLWsLink } from '@apollo/client/link/subscriptions';
import { createClient } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { createLiveLink } from '../../client/apollo.js';
import { makeComparator } from '../../client/index.js';
import { PostsLiveDocument, TopPostsDocument, UsersListDocument } from '../graphql/generated/graphql.js';
import { eventually, startTestServer } from '../graphql/helpers/server.js';
import { type Copy, runScenario } from './helpers.js';

/**
 * The Apollo link with the real Apollo Client (InMemoryCache, GraphQLWsLink) against a real
 * server: every result an app's subscription receives is the whole current result in view
 * order, through random mutations, a cut socket and a server restart on the same file.
 */

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

// Apollo's GraphQLWsLink reads the global WebSocket when a socket fails (browsers and Node 22
// have one; Node 20 does not).
const globals = globalThis as { WebSocket?: unknown };
beforeAll(() => {
  globals.WebSocket ??= WebSocket;
});
afterAll(() => {
  if (globals.WebSocket === WebSocket) delete globals.WebSocket;
});

test('Apollo subscriptions receive the whole ordered result on every event', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'client-apollo-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const problems: string[] = [];
  const statuses: string[] = [];
  const results: { kind: string; ids: string[] }[] = [];
  const byLikes = makeComparator([{ field: 'likes', direction: 'desc' }]);

  const client = await runScenario(
    join(dir, 'live.sqlite'),
    (server) => {
      const ws = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
      const live = createLiveLink({
        retryDelayMs: () => 50,
        onStatus: (status, error) => {
          statuses.push(status);
          if (error instanceof Error && /mismatch|gap/.test(error.message)) problems.push(error.message);
        },
      });
      const apollo = new ApolloClient({
        link: ApolloLink.from([live, new GraphQLWsLink(ws)]),
        cache: new InMemoryCache(),
      });
      const copies: { [view: string]: { state: Copy['state'] } } = {
        topPosts: { state: undefined },
        usersList: { state: undefined },
      };
      const top = apollo.subscribe({ query: TopPostsDocument }).subscribe(({ data, error }) => {
        if (error !== undefined) problems.push(`topPosts: ${error.message}`);
        if (!data) return;
        const update = data.topPosts;
        results.push({ kind: update.kind, ids: update.added.map((row) => row.id) });
        const sorted = [...update.added].sort(byLikes);
        if (sorted.some((row, i) => row !== update.added[i])) problems.push('topPosts rows out of order');
        copies['topPosts'] = { state: { version: update.version, rows: update.added } };
      });
      const users = apollo.subscribe({ query: UsersListDocument }).subscribe(({ data, error }) => {
        if (error !== undefined) problems.push(`usersList: ${error.message}`);
        if (data) copies['usersList'] = { state: { version: data.usersList.version, rows: data.usersList.added } };
      });
      return {
        copies,
        problems,
        cut: () => ws.terminate(),
        close: async () => {
          top.unsubscribe();
          users.unsubscribe();
          await ws.dispose();
          apollo.stop();
        },
      };
    },
    cleanups,
    11,
  );

  expect(client.problems).toEqual([]);
  expect(statuses.filter((s) => s === 'reconnecting').length).toBeGreaterThanOrEqual(4); // a cut and a restart, two views
  expect(results.length).toBeGreaterThan(10);
  expect(results.every((result) => result.kind === 'SNAPSHOT')).toBe(true);
});

test('a subscription the server refuses ends with its GraphQL error, with no retry', async () => {
  const server = await startTestServer();
  cleanups.push(() => server.close());
  const ws = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
  cleanups.push(() => ws.dispose());
  const statuses: string[] = [];
  const live = createLiveLink({ onStatus: (status) => statuses.push(status) });
  const apollo = new ApolloClient({ link: ApolloLink.from([live, new GraphQLWsLink(ws)]), cache: new InMemoryCache() });
  cleanups.push(() => apollo.stop());
  const codes: unknown[] = [];
  const sub = apollo.subscribe({ query: PostsLiveDocument, variables: { limit: 5000 } }).subscribe(({ error }) => {
    if (CombinedGraphQLErrors.is(error)) codes.push(...error.errors.map((e) => e.extensions?.['code']));
  });
  cleanups.push(() => sub.unsubscribe());
  await eventually(() => codes.length > 0, 'the error');
  expect(codes).toEqual(['BAD_USER_INPUT']);
  expect(statuses).toEqual(['connecting', 'failed']);
});
