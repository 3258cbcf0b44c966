import type { ClientBase } from 'pg';
import { PRUNE_LOCK } from './schema.js';

/**
 * `lv_instances`: each running instance's applied log position and when it last said so. The
 * pruner keeps every entry above the lowest position of the instances seen within the lease
 * (see `LogPruner`), so an instance that is catching up finds what it still needs.
 */

/**
 * Records a starting instance before it reads its snapshot, at the log's head as of now (its
 * snapshot will be at or above it). Taken under the prune lock, so a pruning either ran before
 * (and the head read here is above what it removed) or runs after and sees this row: a prune
 * can never remove what the snapshot about to be read still needs followed.
 */
export async function registerInstance(client: ClientBase, instance: string): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(`SELECT pg_advisory_xact_lock(${PRUNE_LOCK})`);
    await client.query(
      `INSERT INTO lv_instances (instance, position, seen_at)
         VALUES ($1, greatest((SELECT max(position) FROM lv_changes), (SELECT max(through) FROM lv_pruned), 0), now())
         ON CONFLICT (instance) DO UPDATE SET position = excluded.position, seen_at = now()`,
      [instance],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/** The heartbeat: this instance has applied everything up to `position`, and is alive. */
export async function recordPosition(client: ClientBase, instance: string, position: number): Promise<void> {
  await client.query(
    `INSERT INTO lv_instances (instance, position, seen_at) VALUES ($1, $2, now())
       ON CONFLICT (instance) DO UPDATE SET position = excluded.position, seen_at = now()`,
    [instance, position],
  );
}

/** A graceful stop: this instance no longer holds back pruning. */
export async function unregisterInstance(client: ClientBase, instance: string): Promise<void> {
  await client.query('DELETE FROM lv_instances WHERE instance = $1', [instance]);
}
