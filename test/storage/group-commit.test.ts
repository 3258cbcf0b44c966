import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Circuit, type ViewUpdate } from '../../engine/index.js';
import { GroupCommitter, openStore, type Store, type StoreChange, type StoreError } from '../../storage/index.js';
import { tempDir } from './helpers.js';

let dir: string;
let cleanup: () => void;
let store: Store;
beforeEach(() => {
  ({ dir, cleanup } = tempDir());
  store = openStore({ file: join(dir, 'live.sqlite') });
});
afterEach(() => {
  store.close();
  cleanup();
});

const create = (id: string, fields: object = {}): StoreChange => ({
  table: 't',
  op: 'CREATE',
  id,
  record: { id, ...fields },
});
const ids = () => [...store.load()].map((r) => r.id);

describe('GroupCommitter', () => {
  it('commits the requests of one event-loop turn in one transaction, resolving each after the commit', async () => {
    const committer = new GroupCommitter(store);
    const settled: string[] = [];
    const promises = Array.from({ length: 50 }, (_, i) =>
      committer.submit([create(`r${String(i).padStart(2, '0')}`)]).then(() => {
        settled.push(`r${i}`);
        expect(ids()).toContain(`r${String(i).padStart(2, '0')}`); // durable before the caller hears of it
      }),
    );
    expect(committer.pending).toBe(50);
    expect(ids()).toEqual([]);
    await Promise.all(promises);
    expect(settled).toHaveLength(50);
    expect(committer.stats).toEqual({ groups: 1, committed: 50, rejected: 0, largestGroup: 50 });
    // a request in a later turn is another group
    await committer.submit([create('later')]);
    expect(committer.stats.groups).toBe(2);
  });

  it('begin runs once per group, before the savepoints: what it writes stays when every request is refused', async () => {
    const groups: number[] = [];
    const committer = new GroupCommitter(store, {
      begin: (requests) => {
        groups.push(requests.length);
        store.setMeta('groups', String(groups.length));
      },
      stage: () => {
        throw new Error('refused');
      },
    });
    const results = await Promise.allSettled([committer.submit([create('a')]), committer.submit([create('b')])]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(groups).toEqual([2]);
    expect(store.getMeta('groups')).toBe('1');
    expect(ids()).toEqual([]);
  });

  it('a failing request is rejected alone (its writes rolled back); the others commit', async () => {
    const committer = new GroupCommitter(store);
    const results = await Promise.allSettled([
      committer.submit([create('a')]),
      committer.submit([create('b'), { table: 't', op: 'CREATE', id: 'c' } as StoreChange]), // no record: BAD_CHANGE
      committer.submit([create('d')]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(((results[1] as PromiseRejectedResult).reason as StoreError).code).toBe('BAD_CHANGE');
    expect(ids()).toEqual(['a', 'd']);
    expect(committer.stats).toMatchObject({ groups: 1, committed: 2, rejected: 1 });
  });

  it('maxGroup splits a large burst; flush() and close() commit what is queued', async () => {
    const committer = new GroupCommitter(store, { maxGroup: 10 });
    const promises = Array.from({ length: 25 }, (_, i) => committer.submit([create(`r${i}`)]));
    expect(committer.pending).toBe(5); // two groups of 10 were flushed inside submit
    committer.close();
    await Promise.all(promises);
    expect(committer.stats).toMatchObject({ groups: 3, committed: 25, largestGroup: 10 });
    await expect(committer.submit([create('x')])).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('when SQLite aborts the whole transaction, every request of the group is rejected and commitFailed is called', async () => {
    const file = store.file;
    store.close();
    const raw = new Database(file);
    raw.exec(
      `CREATE TRIGGER doom BEFORE INSERT ON records WHEN NEW.id = 'doom' BEGIN SELECT RAISE(ROLLBACK, 'simulated I/O failure'); END`,
    );
    raw.close();
    store = openStore({ file });
    const failures: unknown[] = [];
    const committer = new GroupCommitter(store, {
      commitFailed: (error, staged) => failures.push([error, staged.length]),
    });
    const results = await Promise.allSettled([
      committer.submit([create('a')]),
      committer.submit([create('doom')]),
      committer.submit([create('c')]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(((results[0] as PromiseRejectedResult).reason as StoreError).code).toBe('TRANSACTION_ABORTED');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toEqual([expect.objectContaining({ code: 'TRANSACTION_ABORTED' }), 1]);
    expect(ids()).toEqual([]);
    // the next group works
    await committer.submit([create('e')]);
    expect(ids()).toEqual(['e']);
  });

  it('with the engine as the stage: exact validation inside a group, file and engine agree, updates published in commit order', async () => {
    const circuit = new Circuit({ tables: ['t'] });
    const { version } = circuit.registerView({ id: 'count', from: 't', aggregate: { n: { fn: 'count' } } });
    const published: ViewUpdate[] = [];
    const committer = new GroupCommitter<StoreChange[], ViewUpdate[]>(store, {
      stage: (changes, tx) => {
        tx.write(changes);
        return circuit.ingestBatch(changes.map((c) => ({ table: c.table, op: c.op, id: c.id, data: c.record })));
      },
      committed: (staged) => {
        for (const { result } of staged) published.push(...result);
      },
    });
    const results = await Promise.allSettled([
      committer.submit([create('a', { v: 1 })]),
      committer.submit([create('a', { v: 2 })]), // CONFLICT: sees the first request of the same group
      committer.submit([{ table: 't', op: 'UPDATE', id: 'zz', record: { id: 'zz' } }]), // NOT_FOUND
      committer.submit([create('b'), { table: 't', op: 'DELETE', id: 'a' }]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect(results.slice(1, 3).map((r) => ((r as PromiseRejectedResult).reason as { code: string }).code)).toEqual([
      'CONFLICT',
      'NOT_FOUND',
    ]);
    expect(committer.stats.groups).toBe(1);
    expect([...store.load()].map((r) => r.data)).toEqual([...circuit.records('t')]);
    expect(published.map((u) => [u.version, u.updated])).toEqual([
      [version + 1, [{ id: '*', n: 1 }]],
      // b created and a deleted: the count stays 1, no update
    ]);
  });
});
