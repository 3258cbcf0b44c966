import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, cacheExchange, fetchExchange, subscriptionExchange } from '@urql/core';
import { createClient } from 'graphql-ws';
import { afterEach, expect, test } from 'vitest';
import WebSocket from 'ws';
import { makeComparator } from '../../client/index.js';
import { forwardTo, liveExchange } from '../../client/urql.js';
import {
  AllViewsDocument,
  PostsLiveDocument,
  TopPostsDocument,
  UsersListDocument,
} from '../graphql/generated/graphql.js';
import { eventually, startTestServer } from '../graphql/helpers/server.js';
import { type Copy, runScenario, strip } from './helpers.js';

/**
 * The urql exchange with a real urql Client (subscriptions over graphql-ws, the rest over fetch)
 * against a real server: every result a subscription receives is the whole current result in
 * view order, through random mutations, a cut socket and a server restart on the same file;
 * queries pass through; a subscription with bad arguments gets its GraphQL error.
 */

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

test('urql subscriptions receive the whole ordered result on every event', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'client-urql-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const problems: string[] = [];
  const statuses: string[] = [];
  const kinds = new Set<string>();
  const byLikes = makeComparator([{ field: 'likes', direction: 'desc' }]);
  let urql: Client | undefined;

  const client = await runScenario(
    join(dir, 'live.sqlite'),
    (server) => {
      const ws = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
      urql = new Client({
        url: server.url,
        exchanges: [
          cacheExchange,
          liveExchange({
            retryDelayMs: () => 50,
            onStatus: (status, error) => {
              statuses.push(status);
              if (error instanceof Error && /mismatch|gap/.test(error.message)) problems.push(error.message);
            },
          }),
          subscriptionExchange({ forwardSubscription: forwardTo(ws) }),
          fetchExchange,
        ],
      });
      const copies: { [view: string]: Copy } = { topPosts: { state: undefined }, usersList: { state: undefined } };
      const top = urql.subscription(TopPostsDocument, {}).subscribe(({ data, error }) => {
        if (error !== undefined) problems.push(`topPosts: ${error.message}`);
        if (!data) return;
        const update = data.topPosts;
        kinds.add(update.kind);
        const sorted = [...update.added].sort(byLikes);
        if (sorted.some((row, i) => row !== update.added[i])) problems.push('topPosts rows out of order');
        copies['topPosts'] = { state: { version: update.version, rows: update.added } };
      });
      const users = urql.subscription(UsersListDocument, {}).subscribe(({ data, error }) => {
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
        },
      };
    },
    cleanups,
    23,
  );

  expect(client.problems).toEqual([]);
  expect(statuses.filter((s) => s === 'reconnecting').length).toBeGreaterThanOrEqual(4);
  expect([...kinds]).toEqual(['SNAPSHOT']);
  // Queries still go through the chain (here over fetch).
  const query = await urql?.query(AllViewsDocument, {}, { requestPolicy: 'network-only' }).toPromise();
  expect(query?.error).toBeUndefined();
  expect(strip(query?.data?.topPosts ?? [])).toEqual(strip(client.copies['topPosts']?.state?.rows ?? []));
});

test('a subscription the server refuses gets its GraphQL error once, with no retry', async () => {
  const server = await startTestServer();
  cleanups.push(() => server.close());
  const ws = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
  cleanups.push(() => ws.dispose());
  const statuses: string[] = [];
  const urql = new Client({
    url: server.url,
    exchanges: [
      liveExchange({ onStatus: (status) => statuses.push(status) }),
      subscriptionExchange({ forwardSubscription: forwardTo(ws) }),
      fetchExchange,
    ],
  });
  const codes: unknown[] = [];
  const sub = urql.subscription(PostsLiveDocument, { limit: 5000 }).subscribe(({ error }) => {
    codes.push(...(error?.graphQLErrors.map((e) => e.extensions['code']) ?? []));
  });
  cleanups.push(() => sub.unsubscribe());
  await eventually(() => codes.length > 0, 'the error');
  expect(codes).toEqual(['BAD_USER_INPUT']);
  expect(statuses).toEqual(['connecting', 'failed']);
});
