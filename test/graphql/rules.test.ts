import { createClient, type Client as WsClient } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../config/load.js';
import { engineDefinition, type ViewConfig } from '../../config/types.js';
import {
  canonicalJson,
  evaluateView,
  type Record,
  type Row,
  type Value,
  type ViewDefinition,
  type ViewParams,
} from '../../engine/index.js';
import type { RunningServer } from '../../server/app.js';
import { mintToken } from '../../server/auth.js';
import { type Feed, followWs } from './helpers/clients.js';
import { pick, post, random, tablesOf } from './helpers/live.js';
import { LocalView, plain, type UpdateEvent } from './helpers/local-view.js';
import { eventually, startTestServer } from './helpers/server.js';

/**
 * Row-level rules with a real server, real tokens and real clients (the demo's rules, see
 * config/demo.ts), checked against a model of those rules written here independently:
 * - two viewers and an admin subscribe to the same ad-hoc queries and named views; random
 *   mutations by all three follow. Every row any of them receives is one they may read at
 *   that version, and at the end each local copy equals the plain evaluator applied to only
 *   the records that viewer may read;
 * - every mutation the rules forbid is refused with FORBIDDEN and changes nothing; a post the
 *   actor may not read is absent for its writes (update: NOT_FOUND; delete: ok, nothing changes);
 * - a joined record the viewer may not read is null in a left join;
 * - tokens: missing, malformed, wrong secret, expired, without exp, alg none — over HTTP,
 *   SSE and graphql-ws.
 */
const SECRET = 'rules-test-secret-0123456789abcdefghij';
const SEED = Number(process.env['SEED'] ?? 777);
const STEPS = 160;

interface Actor {
  readonly sub: string;
  readonly role: string;
  token: string;
}
const ACTORS: Actor[] = [
  { sub: 'u1', role: 'viewer', token: '' },
  { sub: 'u2', role: 'viewer', token: '' },
  { sub: 'boss', role: 'admin', token: '' },
];
const POST_IDS = Array.from({ length: 14 }, (_, i) => `p${i}`);
const AUTHORS = ['u1', 'u2', 'u3'];

/** The demo's rules, written out plainly: the model the server is checked against. */
const mayReadPost = (viewer: Actor, post: Record): boolean =>
  post['published'] === true || post['authorId'] === viewer.sub;
const mayWritePost = (actor: Actor, post: Record): boolean => actor.role === 'admin' || post['authorId'] === actor.sub;
const mayWriteUser = (actor: Actor, user: Record): boolean =>
  actor.role === 'admin' || (user.id === actor.sub && user['role'] === actor.role);

function readable(viewer: Actor): (table: string, record: Record) => boolean {
  return (table, record) => table !== 'posts' || mayReadPost(viewer, record);
}

let server: RunningServer;

/** Every socket a test opened: disposed after it, so a failed test leaves no subscription to the next. */
const opened: WsClient[] = [];

async function socket(token: string | undefined): Promise<WsClient> {
  const client = createClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    ...(token === undefined ? {} : { connectionParams: { authorization: `Bearer ${token}` } }),
  });
  opened.push(client);
  return client;
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((client) => client.dispose()));
});

beforeAll(async () => {
  server = await startTestServer({ authSecret: SECRET, liveQueries: { graceMs: 50 } });
  for (const actor of ACTORS) actor.token = await mintToken(SECRET, { sub: actor.sub, role: actor.role });
});

afterAll(async () => {
  await server?.close();
});

const POST = 'id authorId title published likes';
const USER = 'id name email role active age';

interface Watched {
  readonly field: string;
  readonly query: string;
  readonly variables: { [name: string]: unknown };
  readonly definition: ViewDefinition;
  readonly params: ViewParams;
  /** Whether its rows are posts (each must be readable by the viewer). */
  readonly postRows: boolean;
}

async function watchedViews(): Promise<Watched[]> {
  const config = (await loadConfig()).config;
  const named = (id: string, selection: string, postRows: boolean, params: ViewParams = {}): Watched => {
    const view = config.views.find((v) => v.id === id) as ViewConfig;
    const args =
      Object.keys(params).length === 0
        ? ''
        : `(${Object.entries(params)
            .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
            .join(', ')})`;
    return {
      field: id,
      query: `subscription { ${id}${args} { view version previousVersion kind hash removed added { ${selection} } updated { ${selection} } } }`,
      variables: {},
      definition: engineDefinition(view),
      params,
      postRows,
    };
  };
  const update = (selection: string): string =>
    `view version previousVersion kind hash removed added { ${selection} } updated { ${selection} }`;
  return [
    {
      field: 'posts',
      query: `subscription { posts(where: { likes: { gte: 2 } }, orderBy: [{ field: likes, direction: DESC }], limit: 4) { ${update(POST)} } }`,
      variables: {},
      definition: {
        id: 'q',
        from: 'posts',
        where: { likes: { gte: 2 } },
        orderBy: [{ field: 'likes', direction: 'desc' }],
        limit: 4,
      },
      params: {},
      postRows: true,
    },
    {
      field: 'posts',
      query: `subscription { posts(where: { or: [{ title: { startsWith: "a" } }, { authorId: { in: ["u2", "u3"] } }] }) { ${update(POST)} } }`,
      variables: {},
      definition: {
        id: 'q',
        from: 'posts',
        where: { or: [{ title: { startsWith: 'a' } }, { authorId: { in: ['u2', 'u3'] } }] },
        limit: 1000,
      },
      params: {},
      postRows: true,
    },
    {
      field: 'users',
      query: `subscription { users(where: { active: { eq: true } }, orderBy: [{ field: name }]) { ${update(USER)} } }`,
      variables: {},
      definition: {
        id: 'q',
        from: 'users',
        where: { active: { eq: true } },
        orderBy: [{ field: 'name', direction: 'asc' }],
        limit: 1000,
      },
      params: {},
      postRows: false,
    },
    named('topPosts', `${POST} author { ${USER} }`, true),
    named('postsPerAuthor', 'id authorId posts likes', false),
    named('postsByAuthor', POST, true, { authorId: 'u1' }),
    named('postsByAuthor', POST, true, { authorId: 'u2' }),
  ];
}

describe('two viewers and an admin, random mutations', () => {
  test(`${STEPS} mutations: copies equal the evaluator over readable rows; forbidden writes change nothing`, async () => {
    const next = random(SEED);
    const watched = await watchedViews();
    const sockets = await Promise.all(ACTORS.map((actor) => socket(actor.token)));
    const leaks: string[] = [];
    const feeds = ACTORS.map((actor, a) =>
      watched.map((w) =>
        followWs(sockets[a] as WsClient, w.query, w.variables, (data) => {
          const event = data[w.field] as UpdateEvent;
          if (w.postRows) {
            for (const row of [...event.added, ...event.updated] as Row[]) {
              if (!mayReadPost(actor, row as Record))
                leaks.push(`${actor.sub} got ${JSON.stringify(row)} in ${w.field}`);
            }
          }
          return event;
        }),
      ),
    );
    await Promise.all(feeds.flat().map(({ feed }) => feed.until((events) => events.length >= 1, 'snapshot')));

    const boss = ACTORS[2] as Actor;
    for (const [id, role] of [
      ['u1', 'viewer'],
      ['u2', 'viewer'],
      ['u3', 'viewer'],
      ['boss', 'admin'],
    ] as const) {
      const created = await post(
        server,
        `mutation { createUser(input: { id: "${id}", name: "${id.toUpperCase()}", email: "${id}@x", role: "${role}", active: true }) { id } }`,
        {},
        boss.token,
      );
      expect(created.errors).toBeUndefined();
    }

    const counts = new Map<string, number>();
    const expectOutcome = async (
      actor: Actor,
      query: string,
      variables: object,
      expected: string,
      label: string,
      unchanged = expected !== 'ok',
    ): Promise<void> => {
      const before = JSON.stringify([...tablesOf(server)].map(([t, rows]) => [t, [...rows.values()]]));
      const result = await post(server, query, variables as { [name: string]: unknown }, actor.token);
      const code = result.errors === undefined ? 'ok' : String(result.errors[0]?.extensions?.code);
      counts.set(code, (counts.get(code) ?? 0) + 1);
      expect(code, `${label}: ${JSON.stringify(result.errors)}`).toBe(expected);
      if (unchanged) {
        expect(
          JSON.stringify([...tablesOf(server)].map(([t, rows]) => [t, [...rows.values()]])),
          `${label} changed something`,
        ).toBe(before);
      }
    };

    for (let step = 0; step < STEPS; step++) {
      const actor = pick(next, ACTORS);
      const label = `step ${step} by ${actor.sub} (seed ${SEED})`;
      const roll = next();
      const id = pick(next, POST_IDS);
      const current = server.store.record('posts', id);
      if (roll < 0.3) {
        const input = {
          id,
          authorId: next() < 0.6 ? actor.sub : pick(next, AUTHORS),
          title: pick(next, ['alpha', 'beta', 'apple']),
          published: next() < 0.5,
          likes: Math.floor(next() * 6),
        };
        const expected = !mayWritePost(actor, input as Record)
          ? 'FORBIDDEN'
          : current !== undefined
            ? 'CONFLICT'
            : 'ok';
        await expectOutcome(
          actor,
          'mutation($i: CreatePostInput!) { createPost(input: $i) { id post { id } } }',
          { i: input },
          expected,
          label,
        );
      } else if (roll < 0.7) {
        const patch: { [field: string]: unknown } = {};
        if (next() < 0.5) patch['published'] = next() < 0.5;
        if (next() < 0.5) patch['likes'] = Math.floor(next() * 6);
        if (next() < 0.25) patch['authorId'] = pick(next, AUTHORS);
        const after = current === undefined ? undefined : ({ ...current, ...patch } as Record);
        const expected =
          current === undefined || !mayReadPost(actor, current)
            ? 'NOT_FOUND'
            : mayWritePost(actor, current) && mayWritePost(actor, after as Record)
              ? 'ok'
              : 'FORBIDDEN';
        await expectOutcome(
          actor,
          'mutation($id: ID!, $p: PostPatch!) { updatePost(id: $id, patch: $p) { id } }',
          { id, p: patch },
          expected,
          label,
        );
      } else if (roll < 0.8) {
        const hidden = current !== undefined && !mayReadPost(actor, current);
        const expected = current === undefined || hidden || mayWritePost(actor, current) ? 'ok' : 'FORBIDDEN';
        const query = 'mutation($id: ID!) { deletePost(id: $id) { id } }';
        await expectOutcome(actor, query, { id }, expected, label, expected !== 'ok' || hidden);
      } else if (roll < 0.9) {
        const user = pick(next, ['u1', 'u2', 'u3', 'boss']);
        const stored = server.store.record('users', user) as Record;
        const patch: { [field: string]: unknown } = { active: next() < 0.6 };
        if (next() < 0.2) patch['role'] = pick(next, ['viewer', 'admin']);
        const expected =
          mayWriteUser(actor, stored) && mayWriteUser(actor, { ...stored, ...patch } as Record) ? 'ok' : 'FORBIDDEN';
        await expectOutcome(
          actor,
          'mutation($id: ID!, $p: UserPatch!) { updateUser(id: $id, patch: $p) { id } }',
          { id: user, p: patch },
          expected,
          label,
        );
      } else if (roll < 0.94) {
        const expected = actor.role === 'admin' ? 'ok' : 'FORBIDDEN';
        const fresh = `n${String(step)}`;
        await expectOutcome(
          actor,
          `mutation { createUser(input: { id: "${fresh}", name: "N", email: "n@x", role: "viewer", active: true }) { id } }`,
          {},
          expected,
          label,
        );
      } else {
        // A batch: one forbidden change refuses all of it.
        const own = {
          table: 'posts',
          op: 'CREATE',
          id: `b${step}`,
          data: { authorId: actor.sub, title: 'batch', published: true, likes: 1 },
        };
        const other = {
          table: 'posts',
          op: 'CREATE',
          id: `c${step}`,
          data: { authorId: 'u3', title: 'batch', published: true, likes: 1 },
        };
        const changes = next() < 0.5 ? [own] : [own, other];
        const expected = changes.length === 1 || actor.role === 'admin' ? 'ok' : 'FORBIDDEN';
        await expectOutcome(
          actor,
          'mutation($c: [ChangeInput!]!) { ingestBatch(changes: $c) { ids } }',
          { c: changes },
          expected,
          label,
        );
      }
    }

    for (const [a, actor] of ACTORS.entries()) {
      const tables = tablesOf(server, readable(actor));
      for (const [w, view] of watched.entries()) {
        const { feed, stop } = (feeds[a] as { feed: Feed<UpdateEvent>; stop: () => void }[])[w] as {
          feed: Feed<UpdateEvent>;
          stop: () => void;
        };
        const expected = evaluateView(view.definition, tables, view.params);
        const order = (view.definition.orderBy ?? []).map((key) => ({
          field: key.field,
          direction: key.direction ?? 'asc',
        }));
        const label = `${actor.sub}: ${view.field} ${JSON.stringify(view.params)}`;
        await feed
          .until((events) => {
            const copy = new LocalView();
            for (const event of events) copy.apply(event);
            return canonicalJson(copy.sorted(order) as Value) === canonicalJson(expected as Value);
          }, label)
          .catch((error: unknown) => {
            const copy = new LocalView();
            for (const event of feed.events) copy.apply(event);
            throw new Error(
              `${String(error)}\nlocal ${JSON.stringify(copy.sorted(order))}\nexpected ${JSON.stringify(expected)}`,
            );
          });
        const local = new LocalView();
        for (const event of feed.events) local.apply(event);
        expect(local.sorted(order), label).toEqual(expected.map(plain));
        expect(local.localHash(), label).toBe(local.hash);
        stop();
      }
    }
    expect(leaks).toEqual([]);
    for (const code of ['ok', 'FORBIDDEN', 'CONFLICT', 'NOT_FOUND'])
      expect(counts.get(code) ?? 0, code).toBeGreaterThan(3);
    await Promise.all(sockets.map((s) => s.dispose()));
  });

  test('per-viewer views are shared by viewers with equal bound values, and not otherwise', async () => {
    const [u1, u2] = ACTORS as [Actor, Actor];
    const again = await mintToken(SECRET, { sub: 'u1', role: 'viewer' }); // another token, same viewer
    const clients = await Promise.all([u1.token, again, u2.token].map(socket));
    const query = 'subscription { posts(where: { likes: { gte: 1 } }) { view version } }';
    const subs = clients.map((client) => followWs(client, query, {}, (data) => data['posts'] as { view: string }));
    await Promise.all(subs.map(({ feed }) => feed.until((events) => events.length === 1, 'snapshot')));
    const [a, b, c] = subs.map(({ feed }) => feed.events[0]?.view);
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    // topPosts asks for published posts, readable by everyone: one view for all viewers.
    const top = clients.map((client) =>
      followWs(client, 'subscription { topPosts { view } }', {}, (data) => data['topPosts'] as { view: string }),
    );
    await Promise.all(top.map(({ feed }) => feed.until((events) => events.length === 1, 'snapshot')));
    expect(new Set(top.map(({ feed }) => feed.events[0]?.view))).toEqual(new Set(['topPosts']));
    await Promise.all(clients.map((client) => client.dispose()));
  });
});

test('a joined record the viewer may not read is null in a left join', async () => {
  const { checkConfig } = await import('../../config/validate.js');
  const checked = checkConfig({
    tables: [
      {
        name: 'projects',
        type: 'Project',
        fields: { owner: 'ID!', name: 'String!' },
        rules: { read: { owner: { eq: { viewer: 'sub' } } } },
      },
      { name: 'tasks', type: 'Task', fields: { projectId: 'ID', title: 'String!' } },
    ],
    views: [
      {
        id: 'tasksWithProject',
        from: 'tasks',
        join: [{ table: 'projects', as: 'project', on: { left: 'projectId', right: 'id' }, kind: 'left' }],
      },
      {
        id: 'tasksPerProject',
        from: 'tasks',
        join: [{ table: 'projects', as: 'project', on: { left: 'projectId', right: 'id' } }],
        groupBy: ['project.name'],
        aggregate: { tasks: { fn: 'count' } },
      },
    ],
  });
  const own = await startTestServer({ checked, authSecret: SECRET });
  try {
    await own.store.apply([
      { table: 'projects', op: 'CREATE', id: 'a', data: { owner: 'u1', name: 'A' } },
      { table: 'projects', op: 'CREATE', id: 'b', data: { owner: 'u2', name: 'B' } },
      { table: 'tasks', op: 'CREATE', id: 't1', data: { projectId: 'a', title: 'one' } },
      { table: 'tasks', op: 'CREATE', id: 't2', data: { projectId: 'b', title: 'two' } },
    ]);
    const token = await mintToken(SECRET, { sub: 'u1', role: 'viewer' });
    const client = createClient({
      url: own.wsUrl,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      lazy: true,
      connectionParams: { authorization: `Bearer ${token}` },
    });
    const sub = followWs(
      client,
      'subscription { tasksWithProject { version previousVersion kind removed added { id title projectId project { id owner name } } updated { id title projectId project { id owner name } } } }',
      {},
      (data) => data['tasksWithProject'] as UpdateEvent,
    );
    await sub.feed.until((events) => events.length === 1, 'snapshot');
    expect(sub.feed.events[0]?.added).toEqual([
      { id: 't1', title: 'one', projectId: 'a', project: { id: 'a', owner: 'u1', name: 'A' } },
      { id: 't2', title: 'two', projectId: 'b', project: null },
    ]);
    await own.store.apply([{ table: 'projects', op: 'UPDATE', id: 'b', data: { owner: 'u1' } }]);
    await own.store.apply([{ table: 'projects', op: 'UPDATE', id: 'a', data: { owner: 'u2', name: 'A2' } }]);
    await sub.feed.until((events) => events.length === 3, 'two deltas');
    const local = new LocalView();
    for (const event of sub.feed.events) local.apply(event);
    expect(local.sorted()).toEqual([
      { id: 't1', title: 'one', projectId: 'a', project: null },
      { id: 't2', title: 'two', projectId: 'b', project: { id: 'b', owner: 'u1', name: 'B' } },
    ]);
    // Rows feeding aggregates are filtered too (an inner join here: unreadable projects drop out).
    const counts = await post(own, '{ tasksPerProject { id tasks } }', {}, token);
    expect(counts.data?.['tasksPerProject']).toEqual([{ id: 'B', tasks: 1 }]);
    await client.dispose();
  } finally {
    await own.close();
  }
});

describe('tokens', () => {
  const badTokens = async (): Promise<[string, string | undefined][]> => [
    ['missing', undefined],
    ['malformed', 'not-a-jwt'],
    ['wrong secret', await mintToken('another-secret-0123456789abcdefghijkl', { sub: 'u1', role: 'viewer' })],
    ['expired', await mintToken(SECRET, { sub: 'u1', role: 'viewer' }, -60)],
    ['without exp', await unsigned({ alg: 'HS256' }, { sub: 'u1' }, SECRET)],
    [
      'alg none',
      `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'u1', exp: Math.floor(Date.now() / 1000) + 600 })}.`,
    ],
  ];

  test('HTTP: refused with 401 and UNAUTHENTICATED; a valid token is served', async () => {
    for (const [label, token] of await badTokens()) {
      const result = await post(server, '{ users { id } }', {}, token);
      expect(result.status, label).toBe(401);
      expect(
        result.errors?.map((e) => e.extensions?.code),
        label,
      ).toEqual(['UNAUTHENTICATED']);
      expect(result.data, label).toBeUndefined();
    }
    const ok = await post(server, '{ users { id } }', {}, (ACTORS[0] as Actor).token);
    expect(ok.status).toBe(200);
    expect(ok.errors).toBeUndefined();
  });

  test('SSE: refused with 401 and UNAUTHENTICATED', async () => {
    for (const [label, token] of await badTokens()) {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        },
        body: JSON.stringify({ query: 'subscription { usersCount { version } }' }),
      });
      expect(response.status, label).toBe(401);
      expect(await response.text(), label).toContain('UNAUTHENTICATED');
    }
    const controller = new AbortController();
    const ok = await fetch(server.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        authorization: `Bearer ${(ACTORS[0] as Actor).token}`,
      },
      body: JSON.stringify({ query: 'subscription { usersCount { version } }' }),
      signal: controller.signal,
    });
    expect(ok.status).toBe(200);
    const reader = ok.body?.getReader();
    const first = await reader?.read();
    expect(new TextDecoder().decode(first?.value)).toContain('usersCount');
    controller.abort();
  });

  test('graphql-ws: the socket is closed with 4403 Forbidden', async () => {
    for (const [label, token] of await badTokens()) {
      const client = await socket(token);
      const closed = await new Promise<{ code: number; reason: string }>((resolve) => {
        client.on('closed', (event) => resolve(event as { code: number; reason: string }));
        client.subscribe(
          { query: 'subscription { usersCount { version } }' },
          { next: () => undefined, error: () => undefined, complete: () => undefined },
        );
      });
      expect(closed.code, label).toBe(4403);
      expect(closed.reason, label).toMatch(/^unauthenticated: /);
      await client.dispose();
    }
    const client = await socket((ACTORS[0] as Actor).token);
    const sub = followWs(client, 'subscription { usersCount { version } }', {}, (data) => data['usersCount']);
    await sub.feed.until((events) => events.length === 1, 'snapshot with a valid token');
    await client.dispose();
    await eventually(() => server.store.listenerCount() === 0, `release (${server.store.listenerCount()} left)`);
  });
});

/** spawnSync blocks the worker, so no test timeout can fire: the script gets its own bound. */
const TOKEN_SCRIPT_LIMIT = { timeout: 120_000, killSignal: 'SIGKILL' } as const;

test('npm run token mints a token the server accepts', async () => {
  const { spawnSync } = await import('node:child_process');
  const { resolve } = await import('node:path');
  const minted = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'server/token.ts', '--sub', 'u2', '--role', 'admin', '--expires', '5m'],
    {
      cwd: resolve(import.meta.dirname, '../..'),
      env: { ...process.env, AUTH_SECRET: SECRET },
      encoding: 'utf8',
      ...TOKEN_SCRIPT_LIMIT,
    },
  );
  expect(minted.status, minted.stderr).toBe(0);
  const token = minted.stdout.trim();
  const result = await post(server, '{ views { id } }', {}, token);
  expect(result.status).toBe(200);
  const { decodeJwt } = await import('jose');
  expect(decodeJwt(token)).toMatchObject({ sub: 'u2', role: 'admin' });
  const missing = spawnSync(process.execPath, ['--import', 'tsx', 'server/token.ts', '--sub', 'u2'], {
    cwd: resolve(import.meta.dirname, '../..'),
    env: { ...process.env, AUTH_SECRET: '' },
    encoding: 'utf8',
    ...TOKEN_SCRIPT_LIMIT,
  });
  expect(missing.status).toBe(2);
  expect(missing.stderr).toContain('AUTH_SECRET');
});

function b64(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** A correctly signed HS256 token with exactly these claims (no exp added). */
async function unsigned(header: object, claims: object, secret: string): Promise<string> {
  const { createHmac } = await import('node:crypto');
  const body = `${b64({ ...header, typ: 'JWT' })}.${b64(claims)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}
