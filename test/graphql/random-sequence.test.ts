import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningServer } from '../../server/app.js';
import {
  AllViewsDocument,
  type ChangeInput,
  CreatePostDocument,
  CreateUserDocument,
  DeletePostDocument,
  DeleteUserDocument,
  IngestBatchDocument,
  PostDocument,
  UpdatePostDocument,
  UpdateUserDocument,
  UserDocument,
  ViewsDocument,
} from './generated/graphql.js';
import { must, type Outcome, run, type Transport, urqlOverSse, urqlOverWs } from './helpers/clients.js';
import { DEMO_VIEWS, type DemoView, followView } from './helpers/demo.js';
import { LocalView, plain } from './helpers/local-view.js';
import { startTestServer } from './helpers/server.js';

/**
 * A seeded random sequence of mutations over users and posts (creates, patches flipping
 * `active`, `published`, `likes`, `authorId`, deletes, batches, rejected bad inputs), with
 * a subscriber on each of the five demo views. Checked at the end:
 * - each client-side copy, built only from the events received, equals the view's query
 *   result (in view order) and its hash equals the server's hash;
 * - versions rose and every delta applied to the version before it (its previousVersion),
 *   and the versions the mutations reported for each view are exactly the versions the
 *   subscriber received;
 * - every mutation succeeded or failed exactly as a plain model predicts, and the stored
 *   records equal the model (a rejected mutation applied nothing).
 * SEED=<n> replays a sequence.
 */
const SEED = Number(process.env['SEED'] ?? 20_251_125);

interface Model {
  users: Map<string, { [field: string]: unknown }>;
  posts: Map<string, { [field: string]: unknown }>;
}

const USER_IDS = Array.from({ length: 24 }, (_, i) => `u${i}`);
const POST_IDS = Array.from({ length: 48 }, (_, i) => `p${i}`);
const NAMES = ['Ann', 'Bob', 'Cid', 'Dee', 'Eve', 'ann'];
const ROLES = ['admin', 'editor', 'viewer'];

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe.each([
  { name: 'graphql-ws (urql, generated documents)', connect: urqlOverWs, mutations: 300 },
  { name: 'SSE (urql + graphql-sse, generated documents)', connect: urqlOverSse, mutations: 150 },
])('random mutations over $name', ({ connect, mutations }) => {
  let server: RunningServer;
  let transport: Transport;

  beforeAll(async () => {
    server = await startTestServer();
    transport = connect(server);
  });

  afterAll(async () => {
    await transport?.close();
    await server?.close();
  });

  test(`${mutations} mutations: local copies equal the query results and the hashes`, async () => {
    const client = transport.client;
    const next = random(SEED + mutations);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
    const chance = (p: number): boolean => next() < p;
    const model: Model = { users: new Map(), posts: new Map() };

    const subscriptions = new Map(DEMO_VIEWS.map((view) => [view, followView(client, view)]));
    for (const { feed } of subscriptions.values()) await feed.until((events) => events.length >= 1, 'snapshot');
    const reported = new Map<string, number[]>(DEMO_VIEWS.map((view) => [view, []]));
    const outcomes = new Map<string, number>();

    const expectOutcome = <Data extends object>(
      outcome: Outcome<Data>,
      expected: 'ok' | 'BAD_USER_INPUT' | 'NOT_FOUND' | 'CONFLICT',
      label: string,
    ): Data | undefined => {
      outcomes.set(expected, (outcomes.get(expected) ?? 0) + 1);
      if (expected === 'ok') {
        if (!outcome.ok)
          throw new Error(`${label}: expected success, got ${outcome.codes.join(',')}: ${outcome.messages.join('; ')}`);
        for (const payload of Object.values(outcome.data) as { views?: { view: string; version: number }[] }[]) {
          for (const { view, version } of payload.views ?? []) reported.get(view)?.push(version);
        }
        return outcome.data;
      }
      if (outcome.ok) throw new Error(`${label}: expected ${expected}, got success`);
      expect([...new Set(outcome.codes)], label).toEqual([expected]);
      return undefined;
    };

    const newUser = (): { [field: string]: unknown } => ({
      name: pick(NAMES),
      email: `${pick(NAMES).toLowerCase()}@example.com`,
      role: pick(ROLES),
      active: chance(0.6),
      age: chance(0.3) ? null : Math.floor(next() * 80),
    });
    const newPost = (): { [field: string]: unknown } => ({
      authorId: pick(USER_IDS),
      title: `title ${Math.floor(next() * 1000)}`,
      published: chance(0.7),
      likes: Math.floor(next() * 16),
    });

    for (let step = 0; step < mutations; step++) {
      const label = `step ${step} (seed ${SEED})`;
      const roll = next();
      if (roll < 0.16) {
        const id = pick(USER_IDS);
        const input = { id, ...newUser() };
        const data = expectOutcome(
          await run(client, CreateUserDocument, { input } as never),
          model.users.has(id) ? 'CONFLICT' : 'ok',
          label,
        );
        if (data !== undefined) model.users.set(id, input);
      } else if (roll < 0.32) {
        const id = pick(USER_IDS);
        const patch: { [field: string]: unknown } = {};
        const current = model.users.get(id);
        if (chance(0.6)) patch['active'] = !(current?.['active'] ?? false);
        if (chance(0.3)) patch['name'] = pick(NAMES);
        if (chance(0.2)) patch['age'] = chance(0.5) ? null : Math.floor(next() * 80);
        const data = expectOutcome(
          await run(client, UpdateUserDocument, { id, patch } as never),
          current ? 'ok' : 'NOT_FOUND',
          label,
        );
        if (data !== undefined && current !== undefined) model.users.set(id, { ...current, ...patch });
      } else if (roll < 0.4) {
        const id = pick(USER_IDS);
        const data = expectOutcome(await run(client, DeleteUserDocument, { id }), 'ok', label);
        expect(data?.deleteUser.user == null, label).toBe(!model.users.has(id));
        model.users.delete(id);
      } else if (roll < 0.56) {
        const id = pick(POST_IDS);
        const input = { id, ...newPost() };
        const data = expectOutcome(
          await run(client, CreatePostDocument, { input } as never),
          model.posts.has(id) ? 'CONFLICT' : 'ok',
          label,
        );
        if (data !== undefined) model.posts.set(id, input);
      } else if (roll < 0.76) {
        const id = pick(POST_IDS);
        const current = model.posts.get(id);
        const patch: { [field: string]: unknown } = {};
        if (chance(0.5)) patch['published'] = !(current?.['published'] ?? false);
        if (chance(0.5)) patch['likes'] = Math.floor(next() * 16);
        if (chance(0.3)) patch['authorId'] = pick(USER_IDS);
        const data = expectOutcome(
          await run(client, UpdatePostDocument, { id, patch } as never),
          current ? 'ok' : 'NOT_FOUND',
          label,
        );
        if (data !== undefined && current !== undefined) model.posts.set(id, { ...current, ...patch });
      } else if (roll < 0.84) {
        const id = pick(POST_IDS);
        const data = expectOutcome(await run(client, DeletePostDocument, { id }), 'ok', label);
        expect(data?.deletePost.post == null, label).toBe(!model.posts.has(id));
        model.posts.delete(id);
      } else if (roll < 0.92) {
        // A batch that the model says is valid, or one that ends in a CONFLICT.
        const changes: ChangeInput[] = [];
        const scratch: Model = { users: new Map(model.users), posts: new Map(model.posts) };
        const size = 2 + Math.floor(next() * 4);
        for (let i = 0; i < size; i++) {
          const onUsers = chance(0.5);
          const table = onUsers ? scratch.users : scratch.posts;
          const id = pick(onUsers ? USER_IDS : POST_IDS);
          const current = table.get(id);
          if (current === undefined) {
            const data = onUsers ? newUser() : newPost();
            changes.push({ table: onUsers ? 'users' : 'posts', op: 'CREATE', id, data });
            table.set(id, { id, ...data });
          } else if (chance(0.5)) {
            const data = onUsers
              ? { active: !current['active'] }
              : { likes: Math.floor(next() * 16), published: !current['published'] };
            changes.push({ table: onUsers ? 'users' : 'posts', op: 'UPDATE', id, data });
            table.set(id, { ...current, ...data });
          } else {
            changes.push({ table: onUsers ? 'users' : 'posts', op: 'DELETE', id });
            table.delete(id);
          }
        }
        const conflicting = [...scratch.users.keys()][0];
        const fail = chance(0.25) && conflicting !== undefined;
        if (fail) changes.push({ table: 'users', op: 'CREATE', id: conflicting, data: newUser() });
        const data = expectOutcome(
          await run(client, IngestBatchDocument, { changes }),
          fail ? 'CONFLICT' : 'ok',
          label,
        );
        if (data !== undefined) {
          model.users = scratch.users;
          model.posts = scratch.posts;
        }
      } else {
        // Bad input, rejected by GraphQL (variables) or by the store (values GraphQL allows).
        const user = [...model.users.keys()][0];
        const post = [...model.posts.keys()][0];
        const variant = Math.floor(next() * 6);
        const outcome: Outcome<object> =
          variant === 0
            ? await run(client, CreateUserDocument, { input: { ...newUser(), active: 'yes' } } as never)
            : variant === 1 && user !== undefined
              ? await run(client, UpdateUserDocument, { id: user, patch: { name: null } } as never)
              : variant === 2
                ? await run(client, CreatePostDocument, {
                    input: { authorId: 'u1', published: true, likes: 1 },
                  } as never)
                : variant === 3
                  ? await run(client, CreateUserDocument, { input: { ...newUser(), nickname: 'x' } } as never)
                  : variant === 4
                    ? await run(client, IngestBatchDocument, {
                        changes: [{ table: 'posts', op: 'CREATE', id: 'p-new', data: { ...newPost(), likes: 'many' } }],
                      })
                    : post !== undefined
                      ? await run(client, UpdatePostDocument, { id: post, patch: { likes: 2 ** 31 } } as never)
                      : await run(client, CreateUserDocument, { input: { name: 'x' } } as never);
        expectOutcome(outcome, 'BAD_USER_INPUT', `${label} bad input ${variant}`);
      }
    }

    // Wait until every subscriber has the last version a mutation reported for its view (every
    // change came through a mutation, each answered once the server's views included it).
    const last = new Map(
      [...subscriptions].map(([view, { feed }]) => [
        view,
        Math.max(feed.events[0]?.version ?? 0, ...(reported.get(view) ?? [])),
      ]),
    );
    for (const [view, { feed }] of subscriptions) {
      await feed.until((events) => events.at(-1)?.version === last.get(view), `${view} to reach ${last.get(view)}`);
    }
    const info = await must(client, ViewsDocument, {});

    const current = await must(client, AllViewsDocument, {});
    for (const [view, { feed, stop }] of subscriptions) {
      stop();
      const local = new LocalView();
      for (const event of feed.events) local.apply(event);
      const meta = info.views.find((v) => v.id === view);
      const server = current.views.find((v) => v.id === view);
      // A view's current version is at least its last update's (over PostgreSQL a SNAPSHOT carries
      // the log position the server applied, which other views' changes may have raised).
      expect(local.version, view).toBe(last.get(view));
      expect(server?.version, view).toBeGreaterThanOrEqual(local.version);
      expect(local.sorted(meta?.orderBy ?? []), view).toEqual((current[view as DemoView] as unknown[]).map(plain));
      expect(local.localHash(), view).toBe(local.hash);
      expect(local.hash, view).toBe(server?.hash);
      expect(
        local.kinds.filter((kind) => kind === 'SNAPSHOT'),
        view,
      ).toHaveLength(1);

      // Versions rise, and each DELTA applies to the version before it (with SQLite, versions are
      // consecutive; over PostgreSQL they are log positions, rising with gaps).
      const chain = feed.events.slice(1).map((event, i) => ({
        previousVersion: event.previousVersion,
        rises: event.version > (feed.events[i]?.version ?? Number.POSITIVE_INFINITY),
      }));
      expect(chain, view).toEqual(
        feed.events.slice(0, -1).map((event) => ({ previousVersion: event.version, rises: true })),
      );
      const received = feed.events.slice(1).map((event) => event.version);
      expect(
        [...(reported.get(view) ?? [])].sort((a, b) => a - b),
        `${view}: versions reported by mutations`,
      ).toEqual(received);
    }

    for (const id of USER_IDS) {
      const { user } = await must(client, UserDocument, { id });
      const expected = model.users.get(id);
      expect(user === null ? null : plain(user), `user ${id}`).toEqual(
        expected === undefined ? null : { id, age: null, ...expected },
      );
    }
    for (const id of POST_IDS) {
      const { post } = await must(client, PostDocument, { id });
      const expected = model.posts.get(id);
      expect(post === null ? null : plain(post), `post ${id}`).toEqual(
        expected === undefined ? null : { id, ...expected },
      );
    }
    // The sequence exercised what it claims to: successes, each error code, every view.
    expect(outcomes.get('ok')).toBeGreaterThan(mutations / 3);
    for (const code of ['BAD_USER_INPUT', 'NOT_FOUND', 'CONFLICT']) expect(outcomes.get(code), code).toBeGreaterThan(0);
    for (const view of DEMO_VIEWS) expect(reported.get(view)?.length, view).toBeGreaterThan(3);
  });
});
