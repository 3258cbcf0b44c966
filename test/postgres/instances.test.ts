import pg from 'pg';
import { describe, expect, test } from 'vitest';
import { pick, random } from '../graphql/helpers/live.js';
import { eventually } from '../graphql/helpers/server.js';
import { postgresMissing } from './helpers.js';
import {
  converged,
  eachTestDatabase,
  expectedHash,
  type Instance,
  mutate,
  type Subscriber,
  startInstance,
  subscribe,
  tables,
  VIEWS,
} from './processes.js';

/**
 * Three server processes over one PostgreSQL database: subscribers on each, random mutations
 * sent round-robin to all three while a SQL client writes multi-row transactions, one instance
 * SIGKILLed mid-load and restarted. At the end every subscriber's copy on every instance equals
 * the plain evaluator over the PostgreSQL tables, every acknowledged mutation is in the tables,
 * no delta failed to apply, versions never went backwards; a client resumes on another instance
 * with sinceVersion and gets only the deltas it missed.
 */
const missing = await postgresMissing();

describe.skipIf(missing !== undefined)('three instances over one PostgreSQL database', () => {
  const env = eachTestDatabase();

  test('random mutations round-robin, SQL transactions, one instance killed and restarted: every copy equals the tables', async () => {
    const instances = await Promise.all([startInstance(env.db), startInstance(env.db), startInstance(env.db)]);
    const live = [true, true, true];
    const subscribers: Subscriber[] = [];
    for (const instance of instances)
      for (const view of Object.keys(VIEWS)) subscribers.push(subscribe(env.sockets, instance, view));
    await eventually(() => subscribers.every((s) => s.events > 0), 'every snapshot', 30_000);

    // A SQL client writing multi-row transactions on ids of its own, the whole time.
    const sql = new pg.Client({ connectionString: env.db.url });
    await sql.connect();
    let writing = true;
    let sqlTransactions = 0;
    const sqlWriter = (async () => {
      const next = random(7);
      while (writing) {
        const user = `s${Math.floor(next() * 8)}`;
        const other = `s${Math.floor(next() * 8)}`;
        await sql.query('BEGIN');
        await sql.query(
          `INSERT INTO users (id, name, email, role, active, age) VALUES ($1, $2, 'sql@x', 'viewer', $3, $4)
           ON CONFLICT (id) DO UPDATE SET name = excluded.name, active = excluded.active, age = excluded.age`,
          [user, `SQL ${Math.floor(next() * 100)}`, next() < 0.5, Math.floor(next() * 90)],
        );
        await sql.query(
          `INSERT INTO posts (id, "authorId", title, published, likes) VALUES ($1, $2, 'by sql', $3, $4)
           ON CONFLICT (id) DO UPDATE SET likes = excluded.likes, published = excluded.published`,
          [`sp-${other}`, next() < 0.5 ? user : `w0-u${Math.floor(next() * 6)}`, next() < 0.7, Math.floor(next() * 50)],
        );
        if (next() < 0.3) await sql.query('DELETE FROM users WHERE id = $1', [other]);
        await sql.query('COMMIT');
        sqlTransactions++;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();

    // Three workers, each on ids of its own, each request to the next instance in turn.
    type Model = Map<string, boolean>; // id → exists (users and posts), per worker
    const uncertain = new Set<string>();
    const acknowledged = new Map<string, { table: 'users' | 'posts'; fields: { [field: string]: unknown } | null }>();
    let turn = 0;
    let requests = 0;
    const OPS = 150;
    const worker = async (w: number): Promise<void> => {
      const next = random(100 + w);
      const exists: Model = new Map();
      for (let i = 0; i < OPS; i++) {
        let target = turn++ % 3;
        while (!live[target]) target = turn++ % 3;
        const instance = instances[target] as Instance;
        const table = next() < 0.5 ? 'users' : 'posts';
        const id = `w${w}-${table === 'users' ? 'u' : 'p'}${Math.floor(next() * 6)}`;
        const op = pick(next, ['create', 'update', 'delete'] as const);
        let query: string;
        let variables: { [name: string]: unknown };
        let fields: { [field: string]: unknown } | null;
        if (table === 'users') {
          fields = {
            name: `N${Math.floor(next() * 1000)}`,
            email: 'e@x',
            role: 'viewer',
            active: next() < 0.5,
            age: Math.floor(next() * 80),
          };
          if (op === 'create') {
            query = 'mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }';
            variables = { input: { id, ...fields } };
          } else if (op === 'update') {
            query = 'mutation($id: ID!, $patch: UserPatch!) { updateUser(id: $id, patch: $patch) { user { id } } }';
            variables = { id, patch: fields };
          } else {
            query = 'mutation($id: ID!) { deleteUser(id: $id) { user { id } } }';
            variables = { id };
            fields = null;
          }
        } else {
          fields = {
            authorId: `w${w}-u${Math.floor(next() * 6)}`,
            title: 'T',
            published: next() < 0.7,
            likes: Math.floor(next() * 100),
          };
          if (op === 'create') {
            query = 'mutation($input: CreatePostInput!) { createPost(input: $input) { post { id } } }';
            variables = { input: { id, ...fields } };
          } else if (op === 'update') {
            query = 'mutation($id: ID!, $patch: PostPatch!) { updatePost(id: $id, patch: $patch) { post { id } } }';
            variables = { id, patch: fields };
          } else {
            query = 'mutation($id: ID!) { deletePost(id: $id) { post { id } } }';
            variables = { id };
            fields = null;
          }
        }
        let outcome: Awaited<ReturnType<typeof mutate>>;
        try {
          outcome = await mutate(instance, query, variables);
        } catch {
          uncertain.add(id); // the instance died under it: its outcome is unknown
          continue;
        }
        requests++;
        if (!outcome.ok && outcome.code === 'UNAVAILABLE') {
          uncertain.add(id);
          continue;
        }
        const existed = exists.get(id) ?? false;
        if (!uncertain.has(id)) {
          const wanted =
            op === 'create' ? (existed ? 'CONFLICT' : 'ok') : op === 'update' && !existed ? 'NOT_FOUND' : 'ok';
          expect(outcome.ok ? 'ok' : outcome.code, `${op} ${id} on instance ${target}`).toBe(wanted);
        }
        if (outcome.ok) {
          exists.set(id, op !== 'delete');
          acknowledged.set(id, { table, fields });
        } else if (outcome.code === 'CONFLICT') exists.set(id, true);
        else if (outcome.code === 'NOT_FOUND') exists.set(id, false);
      }
    };
    const workers = [worker(0), worker(1), worker(2)];

    // Mid-load: SIGKILL instance 1, then start it again and subscribe there anew.
    await eventually(() => requests >= OPS, 'a third of the load', 60_000);
    const victim = instances[1] as Instance;
    live[1] = false;
    victim.process.signal('SIGKILL', 'group');
    await victim.process.exited;
    const restarted = await startInstance(env.db);
    instances[1] = restarted;
    live[1] = true;
    const survivors = subscribers.filter((_, index) => Math.floor(index / Object.keys(VIEWS).length) !== 1);
    const fresh = Object.keys(VIEWS).map((view) => subscribe(env.sockets, restarted, view));
    await Promise.all(workers);
    writing = false;
    await sqlWriter;
    await sql.end();

    const everyone = [...survivors, ...fresh];
    await eventually(() => fresh.every((s) => s.events > 0), 'the restarted instance to serve', 60_000);
    await converged(env.db, everyone);
    for (const subscriber of [...subscribers, ...fresh]) expect(subscriber.problems, subscriber.view).toEqual([]);
    for (const subscriber of everyone) expect(subscriber.copy.localHash()).toBe(subscriber.copy.hash);
    expect(sqlTransactions).toBeGreaterThan(0);
    expect(acknowledged.size).toBeGreaterThan(20);
    // The survivors followed the whole load as deltas (the restarted instance's may have come late).
    for (const subscriber of survivors)
      expect(subscriber.copy.kinds.filter((kind) => kind === 'DELTA').length).toBeGreaterThan(5);
    // Every acknowledged mutation is in the tables (its id's last acknowledged state, unless a later request's outcome was lost).
    const stored = await tables(env.db);
    for (const [id, { table, fields }] of acknowledged) {
      if (uncertain.has(id)) continue;
      const row = stored.get(table)?.get(id);
      if (fields === null) expect(row, id).toBeUndefined();
      else expect(row, id).toMatchObject(fields);
    }
  }, 240_000);

  test('a client resumes on another instance with sinceVersion and gets only the deltas it missed', async () => {
    const [a, b] = await Promise.all([startInstance(env.db), startInstance(env.db)]);
    const sql = new pg.Client({ connectionString: env.db.url });
    await sql.connect();
    try {
      const first = subscribe(env.sockets, a, 'usersList');
      await eventually(() => first.events > 0, 'the snapshot');
      await sql.query(
        `INSERT INTO users VALUES ('r1', 'Ra', 'r@x', 'viewer', true, 1), ('r2', 'Rb', 'r@x', 'viewer', true, 2)`,
      );
      await eventually(() => first.copy.rows.size === 2, 'the first rows');
      first.stop();
      const version = first.copy.version;
      // Missed while away: two transactions.
      await sql.query(`UPDATE users SET age = 10 WHERE id = 'r1'`);
      await sql.query(`INSERT INTO users VALUES ('r3', 'Rc', 'r@x', 'viewer', false, NULL)`);
      const kinds = first.copy.kinds.length;
      const resumed = subscribe(env.sockets, b, 'usersList', version, first.copy);
      await eventually(
        () => resumed.copy.rows.size === 3 && resumed.copy.rows.get('r1')?.['age'] === 10,
        'the missed deltas',
        20_000,
      );
      expect(first.copy.kinds.slice(kinds)).toEqual(['DELTA', 'DELTA']);
      expect(resumed.problems).toEqual([]);
      expect(resumed.copy.hash).toBe(await expectedHash(env.db, 'usersList'));
      // A version the other instance has not reached yet: it waits, then serves deltas (no older SNAPSHOT).
      await sql.query(`DELETE FROM users WHERE id = 'r2'`);
      await eventually(() => !resumed.copy.rows.has('r2'), 'the delete');
      expect(resumed.copy.kinds.at(-1)).toBe('DELTA');
    } finally {
      await sql.end();
    }
  }, 120_000);
});
