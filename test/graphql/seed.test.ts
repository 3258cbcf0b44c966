import { afterAll, beforeAll, expect, test } from 'vitest';
import type { RunningServer } from '../../server/app.js';
import { CreateUserDocument } from './generated/graphql.js';
import { must, type Transport, urqlOverWs } from './helpers/clients.js';
import { followView } from './helpers/demo.js';
import { plain } from './helpers/local-view.js';
import { startTestServer } from './helpers/server.js';

/**
 * The seed scenario end to end (DESIGN §1): one createUser reaches every view it changes,
 * not only the first one, and the mutation lists all of them.
 */
let server: RunningServer;
let transport: Transport;

beforeAll(async () => {
  server = await startTestServer();
  transport = urqlOverWs(server);
});

afterAll(async () => {
  await transport?.close();
  await server?.close();
});

test('a createUser with active: true reaches usersList, usersCount and activeUsers', async () => {
  const views = ['usersList', 'usersCount', 'activeUsers'] as const;
  const subscriptions = views.map((view) => followView(transport.client, view));
  for (const { feed } of subscriptions) await feed.until((events) => events.length === 1, 'snapshot');
  const snapshots = subscriptions.map(({ feed }) => feed.events[0]);
  expect(snapshots.map((event) => event?.kind)).toEqual(['SNAPSHOT', 'SNAPSHOT', 'SNAPSHOT']);
  expect(snapshots[1]?.added.map(plain)).toEqual([{ id: '*', count: 0 }]);

  const ann = { id: 'u1', name: 'Ann', email: 'ann@example.com', role: 'admin', active: true, age: null };
  const result = await must(transport.client, CreateUserDocument, { input: ann });
  expect(plain(result.createUser.user)).toEqual(ann);

  for (const { feed } of subscriptions) await feed.until((events) => events.length === 2, 'delta');
  const [list, count, active] = subscriptions.map(({ feed }) => feed.events[1]);
  expect(list).toMatchObject({ kind: 'DELTA', added: [ann], updated: [], removed: [] });
  expect(count).toMatchObject({ kind: 'DELTA', added: [], updated: [{ id: '*', count: 1 }], removed: [] });
  expect(active).toMatchObject({ kind: 'DELTA', added: [ann], updated: [], removed: [] });
  for (const [i, { feed }] of subscriptions.entries()) {
    expect(feed.events[1]?.version).toBe((snapshots[i]?.version ?? NaN) + 1);
  }

  const reported = result.createUser.views.map(({ view, version }) => ({ view, version }));
  expect(reported.sort((a, b) => a.view.localeCompare(b.view))).toEqual(
    [list, count, active]
      .map((event) => ({ view: event?.view, version: event?.version }))
      .sort((a, b) => String(a.view).localeCompare(String(b.view))),
  );
  for (const { stop } of subscriptions) stop();
});
