import type { ClientBase } from 'pg';
import type { JsonObject } from '../types.js';
import { quote } from './columns.js';

/** The served tables as one snapshot saw them, and the log position that snapshot includes. */
export interface TablesSnapshot {
  /** Every log entry at or below it is in `rows`; none above it is. */
  readonly position: number;
  /** Per table, every row as `to_jsonb` renders it (extra columns included). */
  readonly rows: ReadonlyMap<string, readonly JsonObject[]>;
}

/**
 * Reads every served table and the highest log position in one REPEATABLE READ snapshot.
 * Positions are taken in commit order (see schema.ts), so the snapshot holds exactly the
 * transactions logged at or below `position`: following the log from there applies every
 * later one once, and no earlier one twice. With an empty log, the position is where pruning
 * stopped (0 on a new database).
 */
export async function readSnapshot(client: ClientBase, tables: readonly string[]): Promise<TablesSnapshot> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    const head = await client.query<{ position: string }>(
      `SELECT greatest((SELECT max(position) FROM lv_changes), (SELECT through FROM lv_pruned), 0)::text AS position`,
    );
    const rows = new Map<string, JsonObject[]>();
    for (const table of tables) {
      const result = await client.query<{ row: JsonObject }>(`SELECT to_jsonb(t) AS row FROM ${quote(table)} AS t`);
      rows.set(
        table,
        result.rows.map((row) => row.row),
      );
    }
    await client.query('COMMIT');
    return { position: Number(head.rows[0]?.position ?? 0), rows };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
