import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { defineConfig } from '../../config/types.js';
import { checkConfig } from '../../config/validate.js';
import { evaluateView, type Operand, type Predicate, type Row, type Value } from '../../engine/index.js';
import type { RunningServer } from '../../server/app.js';
import { mintToken } from '../../server/auth.js';
import { followWs } from './helpers/clients.js';
import { hostileJson, pick, post, random, tablesOf } from './helpers/live.js';
import { LocalView, plain, type UpdateEvent } from './helpers/local-view.js';
import { startTestServer } from './helpers/server.js';

/**
 * Values from clients are data, never engine syntax: a `JSON` filter operand shaped like a
 * parameter reference (`{ param: "x" }`), a rule's viewer claim (`{ viewer: "sub" }`), a
 * tagged literal or a predicate compares as that very value — as a query, as a live
 * subscription followed through changes, and with row-level rules on (where the engine
 * does hold parameters named `$viewer.sub`). The oracle is the plain evaluator given every
 * operand tagged as a literal.
 */
const SEED = Number(process.env['SEED'] ?? 7_011);
const SECRET = 'json-operands-test-secret-0123456789abcdef';

const config = defineConfig({
  tables: [
    {
      name: 'notes',
      type: 'Note',
      fields: { owner: 'ID!', tags: 'JSON' },
      rules: { read: { owner: { eq: { viewer: 'sub' } } } },
    },
  ],
  views: [],
});

let server: RunningServer;
let token: string;
const OPS = ['eq', 'ne', 'in', 'nin', 'contains'] as const;
const QUERY = 'query($where: NoteWhere) { notes(where: $where) { id owner tags } }';
const LIVE =
  'subscription($where: NoteWhere) { notes(where: $where) { view version previousVersion kind added { id owner tags } updated { id owner tags } removed } }';

/** Values drawn once and reused, so operands do match stored values. */
let pool: Value[];

beforeAll(async () => {
  server = await startTestServer({ checked: checkConfig(config), authSecret: SECRET });
  token = await mintToken(SECRET, { sub: 'u1' });
  const next = random(SEED);
  pool = [
    { param: 'x' },
    { param: '$viewer.sub' },
    { viewer: 'sub' },
    { literal: 'u1' },
    'u1',
    ...Array.from({ length: 20 }, () => hostileJson(next)),
  ];
  const changes = Array.from({ length: 60 }, (_, i) => ({
    table: 'notes',
    op: 'CREATE' as const,
    id: `n${i}`,
    data: {
      owner: i % 4 === 0 ? 'u2' : 'u1',
      tags: next() < 0.3 ? [pick(next, pool), pick(next, pool)] : pick(next, pool),
    },
  }));
  await server.store.apply(changes);
});

afterAll(async () => {
  await server?.close();
});

function randomFilter(next: () => number): { input: { [op: string]: Value }; predicate: Predicate } {
  const op = pick(next, OPS);
  const operand: Value =
    op === 'in' || op === 'nin'
      ? Array.from({ length: 1 + Math.floor(next() * 3) }, () => pick(next, pool))
      : pick(next, pool);
  // The oracle's own spelling: every operand tagged, whatever it is.
  const tagged: Operand = { literal: operand };
  // u1 reads only its own notes: the read rule, ANDed as the server does.
  return {
    input: { [op]: operand },
    predicate: { and: [{ tags: { [op]: tagged } }, { owner: { eq: 'u1' } }] } as Predicate,
  };
}

test('random hostile operands: queries return what the evaluator returns', async () => {
  const next = random(SEED + 1);
  let nonEmpty = 0;
  for (let i = 0; i < 120; i++) {
    const filter = randomFilter(next);
    const result = await post(server, QUERY, { where: { tags: filter.input } }, token);
    expect(result.errors, JSON.stringify(filter.input)).toBeUndefined();
    const expected = evaluateView(
      { id: 'oracle', from: 'notes', where: filter.predicate, limit: 1000 },
      tablesOf(server),
    );
    expect(result.data?.['notes'], JSON.stringify(filter.input)).toEqual(expected);
    if (expected.length > 0) nonEmpty++;
  }
  expect(nonEmpty).toBeGreaterThan(30);
});

test('{ param: "$viewer.sub" } is not the viewer parameter the rules bind', async () => {
  const result = await post(server, QUERY, { where: { tags: { eq: { param: '$viewer.sub' } } } }, token);
  const rows = result.data?.['notes'] as { tags: unknown }[];
  expect(rows.length).toBeGreaterThan(0);
  for (const row of rows) expect(row.tags).toEqual({ param: '$viewer.sub' });
});

test('random hostile operands: live subscriptions follow changes', async () => {
  const next = random(SEED + 2);
  const ws = createClient({
    url: server.wsUrl,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    connectionParams: { authorization: `Bearer ${token}` },
  });
  try {
    const fixed = (operand: Value): ReturnType<typeof randomFilter> => ({
      input: { eq: operand },
      predicate: { and: [{ tags: { eq: { literal: operand } } }, { owner: { eq: 'u1' } }] } as Predicate,
    });
    const filters = [
      fixed({ param: '$viewer.sub' }),
      fixed({ param: 'x' }),
      fixed({ viewer: 'sub' }),
      ...Array.from({ length: 6 }, () => randomFilter(next)),
    ];
    const subscriptions = filters.map((filter) =>
      followWs(ws, LIVE, { where: { tags: filter.input } }, (data) => data['notes'] as UpdateEvent),
    );
    await Promise.all(subscriptions.map(({ feed }) => feed.until((events) => events.length >= 1, 'snapshot')));
    for (let step = 0; step < 60; step++) {
      const id = `n${Math.floor(next() * 70)}`;
      const tags = pick(next, pool);
      const stored = server.store.record('notes', id);
      const exists = stored !== undefined;
      const result = exists
        ? await post(
            server,
            'mutation($id: ID!, $tags: JSON) { updateNote(id: $id, patch: { tags: $tags }) { id } }',
            { id, tags },
            token,
          )
        : await post(
            server,
            'mutation($id: ID!, $tags: JSON) { createNote(input: { id: $id, owner: "u1", tags: $tags }) { id } }',
            { id, tags },
            token,
          );
      // u2's notes are absent for u1's writes (u1 may not read them).
      const hidden = stored !== undefined && stored['owner'] !== 'u1';
      expect(result.errors?.map((e) => e.extensions?.code)).toEqual(hidden ? ['NOT_FOUND'] : undefined);
    }
    const tables = tablesOf(server);
    for (const [i, { feed }] of subscriptions.entries()) {
      const filter = filters[i] as (typeof filters)[number];
      const expected = evaluateView({ id: 'oracle', from: 'notes', where: filter.predicate }, tables);
      const byId = (rows: readonly Row[]) => [...rows].sort((a, b) => (String(a['id']) < String(b['id']) ? -1 : 1));
      await feed.until(
        (events) => {
          const copy = new LocalView();
          for (const event of events) copy.apply(event);
          return JSON.stringify(byId(copy.sorted([]).map(plain))) === JSON.stringify(byId(expected));
        },
        `subscription ${JSON.stringify(filter.input)} to converge`,
      );
    }
  } finally {
    await ws.dispose();
  }
});
