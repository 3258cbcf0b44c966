import pg from 'pg';
import { afterEach, describe, expect, test } from 'vitest';
import { ensureSchema, LogFollower, type LoggedTransaction } from '../../storage/index.js';
import { createDatabase, postgresMissing, type TestDatabase } from './helpers.js';

/**
 * The follower alone, on a log whose positions gain a digit inside one page (99 → 100,
 * 999 → 1000): every transaction is delivered once, whole, in position order. Positions are
 * numbers; a page sorted by their text ('100' before '97') delivered a later transaction first
 * and then dropped the earlier ones for good.
 */
const missing = await postgresMissing();

describe.skipIf(missing !== undefined)('LogFollower', () => {
  let db: TestDatabase | undefined;
  let follower: LogFollower | undefined;

  afterEach(async () => {
    await follower?.stop();
    follower = undefined;
    await db?.drop();
    db = undefined;
  });

  test('delivers transactions in position order when positions gain a digit within a page', async () => {
    db = await createDatabase();
    const setup = new pg.Client({ connectionString: db.url });
    await setup.connect();
    try {
      await ensureSchema(
        setup,
        [{ name: 'items', columns: [{ name: 'n', type: 'integer', nullable: false }] }],
        db.name,
      );
    } finally {
      await setup.end();
    }
    // Transactions of 1 to 4 rows from position 96 on, then from 996 on.
    const written: number[][] = [];
    const write = async (rows: number): Promise<void> => {
      const values = Array.from({ length: rows }, (_, i) => `('r${written.length}-${i}', ${i})`).join(', ');
      // One transaction, one row per INSERT: `rows` log entries under one txid.
      await db?.sql(`BEGIN; INSERT INTO items (id, n) VALUES ${values}; COMMIT`);
      const [row] = (await db?.sql<{ last: string }>(`SELECT currval('lv_changes_position')::text AS last`)) ?? [];
      const last = Number(row?.last);
      written.push(Array.from({ length: rows }, (_, i) => last - rows + 1 + i));
    };
    await db.sql(`SELECT setval('lv_changes_position', 95)`);
    for (const rows of [1, 2, 4, 1, 3]) await write(rows);
    await db.sql(`SELECT setval('lv_changes_position', 995)`);
    for (const rows of [2, 3, 1, 4]) await write(rows);
    expect(written.flat()).toContain(100);
    expect(written.flat()).toContain(1000);

    const delivered: LoggedTransaction[] = [];
    let gap: (error: Error) => void = () => undefined;
    const stopped = new Promise<never>((_, reject) => {
      gap = reject;
    });
    follower = new LogFollower({
      url: db.url,
      from: 0,
      instance: 'test',
      apply: (transaction) => delivered.push(transaction),
      onGap: (error) => gap(error),
    });
    follower.start();
    await Promise.race([follower.reached(written.at(-1)?.at(-1) as number), stopped]);

    expect(delivered.map((t) => t.entries.map((entry) => entry.position))).toEqual(written);
    expect(delivered.map((t) => t.position)).toEqual(written.map((positions) => positions.at(-1)));
  });
});
