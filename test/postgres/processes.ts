import { resolve } from 'node:path';
import { createClient, type Client as WsClient } from 'graphql-ws';
import { afterEach, beforeEach } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../config/load.js';
import { evaluateView, hashRows, type Record, type ViewDefinition } from '../../engine/index.js';
import { LocalView, type UpdateEvent } from '../graphql/helpers/local-view.js';
import { killProcessGroups, spawnProcess, type TestProcess } from '../process-groups.js';
import { createDatabase, type TestDatabase } from './helpers.js';

/**
 * Server processes over one test database, their subscribers' copies, and the oracle (the plain
 * evaluator over what the PostgreSQL tables hold). Every process is registered with
 * `killProcessGroups`, every socket with the caller's `sockets` list: the test's afterEach ends both.
 */
const root = resolve(import.meta.dirname, '../..');
const checked = await loadConfig();

/**
 * For a describe block of process tests: a fresh database before each test (`env.db`) and, after
 * it, the test's sockets (`env.sockets`) disposed, every process it started killed, `cleanUp`
 * run, and the database dropped — on every path, failures and timeouts included.
 */
export function eachTestDatabase(cleanUp?: (db: TestDatabase) => Promise<void>): {
  readonly db: TestDatabase;
  readonly sockets: WsClient[];
} {
  let current: TestDatabase | undefined;
  const sockets: WsClient[] = [];
  beforeEach(async () => {
    current = await createDatabase();
  });
  afterEach(async () => {
    for (const socket of sockets.splice(0)) await socket.dispose();
    await killProcessGroups();
    if (current === undefined) return;
    await cleanUp?.(current);
    await current.drop();
    current = undefined;
  });
  return {
    get db(): TestDatabase {
      if (current === undefined) throw new Error('no test database outside a test');
      return current;
    },
    sockets,
  };
}

/** The demo views the tests follow, with the fields they select. */
export const VIEWS: { readonly [view: string]: string } = {
  usersList: 'id name email role active age',
  topPosts: 'id authorId title published likes author { id name email role active age }',
  postsPerAuthor: 'id authorId posts likes',
};

export interface Instance {
  readonly process: TestProcess;
  readonly url: string;
  readonly wsUrl: string;
  /** Its JSON log lines so far. */
  logs(): { msg?: string; [field: string]: unknown }[];
}

/** `server/main.ts --database` in a process of its own; resolves once it listens. */
export async function startInstance(db: TestDatabase, args: readonly string[] = []): Promise<Instance> {
  const child = spawnProcess(
    process.execPath,
    ['--import', 'tsx', 'server/main.ts', '--port', '0', '--database', db.url, '--log-level', 'info', ...args],
    { cwd: root, env: { ...process.env, AUTH_SECRET: '', LOG_LEVEL: 'info' } },
  );
  // A start is a minute at most, even on a loaded machine.
  const line = await child.waitForLine((text) => text.includes('"listening"'), { timeoutMs: 60_000 });
  const url = String((JSON.parse(line) as { url: string }).url);
  return {
    process: child,
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    logs: () =>
      child.lines.map((text) => {
        try {
          return JSON.parse(text) as { msg?: string };
        } catch {
          return { msg: text };
        }
      }),
  };
}

/** One subscription's copy, with every problem it met (a delta that did not apply, a version going back). */
export interface Subscriber {
  readonly view: string;
  readonly instance: Instance;
  readonly copy: LocalView;
  readonly versions: number[];
  readonly problems: string[];
  events: number;
  /** Whether the server ended the stream (its instance exited, say). */
  ended: boolean;
  stop(): void;
}

/** Follows `view` on `instance` into `copy` (resuming with `sinceVersion` when given). */
export function subscribe(
  sockets: WsClient[],
  instance: Instance,
  view: string,
  sinceVersion?: number,
  copy = new LocalView(),
): Subscriber {
  const socket = createClient({ url: instance.wsUrl, webSocketImpl: WebSocket, retryAttempts: 0 });
  sockets.push(socket);
  const selection = VIEWS[view] as string;
  const subscriber: Subscriber = {
    view,
    instance,
    copy,
    versions: [],
    problems: [],
    events: 0,
    ended: false,
    stop: () => undefined,
  };
  subscriber.stop = socket.subscribe<{ [view: string]: UpdateEvent }>(
    {
      query: `subscription($since: Int) { ${view}(sinceVersion: $since) { view version previousVersion kind hash removed added { ${selection} } updated { ${selection} } } }`,
      variables: { since: sinceVersion ?? null },
    },
    {
      next: (result) => {
        const event = result.data?.[view];
        if (event === undefined) {
          subscriber.problems.push(`errors: ${JSON.stringify(result.errors)}`);
          return;
        }
        const last = subscriber.versions.at(-1);
        if (last !== undefined && event.version < last)
          subscriber.problems.push(`version ${event.version} after ${last}`);
        subscriber.versions.push(event.version);
        subscriber.events++;
        try {
          copy.apply(event);
        } catch (error) {
          subscriber.problems.push(error instanceof Error ? error.message : String(error));
        }
      },
      error: () => {
        subscriber.ended = true;
      },
      complete: () => {
        subscriber.ended = true;
      },
    },
  );
  return subscriber;
}

/** Every row of the followed tables, as the database holds them now. */
/** What the PostgreSQL tables hold, by table and id. */
export async function tables(db: TestDatabase): Promise<Map<string, Map<string, Record>>> {
  const result = new Map<string, Map<string, Record>>();
  for (const table of ['users', 'posts']) {
    const rows = await db.sql<{ row: Record }>(`SELECT to_jsonb(t) AS row FROM ${table} t`);
    result.set(table, new Map(rows.map(({ row }) => [row.id, row])));
  }
  return result;
}

/** The plain evaluator's hash of `view` over what the tables hold. */
export async function expectedHash(db: TestDatabase, view: string): Promise<string> {
  return hashRows(evaluateView(definition(view), await tables(db)));
}

function definition(view: string): ViewDefinition {
  return checked.config.views.find((candidate) => candidate.id === view) as ViewDefinition;
}

/**
 * Resolves once every copy equals the oracle over the tables (by hash, the rows checked too);
 * throws after `timeoutMs`, naming each copy that did not, its instance's readiness and a few differing rows.
 */
export async function converged(
  db: TestDatabase,
  subscribers: readonly Subscriber[],
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const data = await tables(db);
    const wanted = new Map(Object.keys(VIEWS).map((view) => [view, evaluateView(definition(view), data)]));
    const behind = subscribers.filter((s) => s.copy.hash !== hashRows(wanted.get(s.view) ?? []));
    if (behind.length === 0) {
      for (const s of subscribers) {
        const rows = wanted.get(s.view) ?? [];
        if (s.copy.localHash() !== hashRows(rows)) throw new Error(`${s.view}: the copy's rows do not match its hash`);
      }
      return;
    }
    if (Date.now() > deadline) {
      const details: string[] = [];
      for (const s of behind) {
        const ready = await fetch(s.instance.url.replace(/graphql$/, 'ready')).then((r) => r.text(), String);
        const want = new Map((wanted.get(s.view) ?? []).map((row) => [row['id'] as string, JSON.stringify(row)]));
        const diff = [...new Set([...want.keys(), ...s.copy.rows.keys()])]
          .filter((id) => want.get(id) !== JSON.stringify(s.copy.rows.get(id)))
          .slice(0, 5)
          .map((id) => `${id}: copy ${JSON.stringify(s.copy.rows.get(id))} oracle ${want.get(id)}`);
        details.push(
          `${s.view}@${s.copy.version} on ${s.instance.url} (${ready}; problems ${s.problems.slice(0, 3).join(', ')}): ${diff.join('; ')}`,
        );
      }
      throw new Error(`copies never converged:\n${details.join('\n')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** One GraphQL mutation over HTTP: ok, or the error's code. */
export async function mutate(
  instance: Instance,
  query: string,
  variables: { [name: string]: unknown } = {},
): Promise<{ ok: true } | { ok: false; code: string; message: string; status: number }> {
  const response = await fetch(instance.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { errors?: { message: string; extensions?: { code?: string } }[] };
  if (body.errors === undefined) return { ok: true };
  return {
    ok: false,
    code: String(body.errors[0]?.extensions?.code),
    message: String(body.errors[0]?.message),
    status: response.status,
  };
}

/** A createUser mutation for `id`. */
export function createUser(id: string, age = 1): [string, { [name: string]: unknown }] {
  return [
    'mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }',
    { input: { id, name: `User ${id}`, email: `${id}@x`, role: 'viewer', active: true, age } },
  ];
}

/** Resolves once `condition` resolves true (polled every 50 ms); throws after `timeoutMs`. */
export async function until(condition: () => Promise<boolean>, label: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
