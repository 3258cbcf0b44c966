import type { ClientBase } from 'pg';
import { StoreError } from '../errors.js';
import { type ColumnSpec, quote, type TableSpec } from './columns.js';

/**
 * The change-capture objects, all prefixed `lv_` so they never clash with a user's tables:
 * - `lv_changes`: the log, one row per changed record (`position`, `txid`, `table_name`, `op`
 *   UPSERT | DELETE | TRUNCATE, `id`, `data` = the whole new row as jsonb, `part` = the request
 *   of a server's group commit, see `PART_SETTING`), written by
 * - `lv_capture()`: the row trigger `lv_capture` on every served table (and a statement
 *   trigger `lv_capture_truncate`), which first takes the transaction-level advisory lock
 *   `LOG_LOCK`, then a position from the sequence `lv_changes_position`. The lock is held
 *   until the transaction's commit is visible, so positions are handed out in commit order
 *   and a reader may simply read `position > last` (see docs/postgres.md);
 * - `lv_instances`: each running server's applied position and last heartbeat, for pruning;
 * - `lv_pruned`: one row, the highest position pruning removed (see `LogPruner`).
 */
export const LOG_LOCK = 7_628_141_001;
/** Taken while the schema is created, so that instances starting together do not race. */
const SETUP_LOCK = 7_628_141_002;
/**
 * The setting a writer sets (`set_config(…, true)`) to mark which of its requests the rows it
 * writes next belong to: the log keeps it in `part`, and followers apply each part of a
 * transaction as its own step (see `LoggedTransaction`).
 */
export const PART_SETTING = 'lv.part';
/** Taken by a pruning (one at a time across instances) and by an instance registering before its load. */
export const PRUNE_LOCK = 7_628_141_003;
/** The channel `lv_capture` notifies on commit. */
export const LOG_CHANNEL = 'lv_changes';

const CAPTURE_DDL = `
CREATE SEQUENCE IF NOT EXISTS lv_changes_position;
CREATE TABLE IF NOT EXISTS lv_changes (
  position bigint PRIMARY KEY,
  txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  table_name text NOT NULL,
  op text NOT NULL,
  id text,
  data jsonb,
  logged_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  part integer
);
CREATE TABLE IF NOT EXISTS lv_instances (
  instance text PRIMARY KEY,
  position bigint NOT NULL,
  seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS lv_pruned (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  through bigint NOT NULL
);
CREATE OR REPLACE FUNCTION lv_capture() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  writer_part integer := NULLIF(current_setting('${PART_SETTING}', true), '')::integer;
BEGIN
  -- Serialise log writers until commit: positions follow commit order.
  PERFORM pg_advisory_xact_lock(${LOG_LOCK});
  IF TG_OP = 'TRUNCATE' THEN
    INSERT INTO lv_changes (position, table_name, op, id, data, part)
      VALUES (nextval('lv_changes_position'), TG_TABLE_NAME, 'TRUNCATE', NULL, NULL, writer_part);
  ELSE
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.id IS DISTINCT FROM NEW.id) THEN
      INSERT INTO lv_changes (position, table_name, op, id, data, part)
        VALUES (nextval('lv_changes_position'), TG_TABLE_NAME, 'DELETE', OLD.id, NULL, writer_part);
    END IF;
    IF TG_OP <> 'DELETE' THEN
      INSERT INTO lv_changes (position, table_name, op, id, data, part)
        VALUES (nextval('lv_changes_position'), TG_TABLE_NAME, 'UPSERT', NEW.id, to_jsonb(NEW), writer_part);
    END IF;
  END IF;
  PERFORM pg_notify('${LOG_CHANNEL}', '');
  RETURN NULL;
END $fn$;
`;

/**
 * Creates what is missing, inside one transaction under `SETUP_LOCK`: each served table
 * (`id text PRIMARY KEY`, one column per field) unless it exists, the capture objects, and the
 * triggers on every served table. An existing table is used as it is when it fits; otherwise
 * nothing is created and a `StoreError` `INCOMPATIBLE_TABLE` (exit 2) names every misfit.
 */
export async function ensureSchema(client: ClientBase, tables: readonly TableSpec[], location: string): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query(`SELECT pg_advisory_xact_lock(${SETUP_LOCK})`);
    const problems: string[] = [];
    const missing: TableSpec[] = [];
    for (const table of tables) {
      const existing = await existingColumns(client, table.name);
      if (existing === undefined) missing.push(table);
      else problems.push(...misfits(table, existing));
    }
    if (problems.length > 0) {
      throw new StoreError(
        'INCOMPATIBLE_TABLE',
        `the PostgreSQL database ${location} holds tables that do not fit the config (nothing was changed):\n  - ${problems.join('\n  - ')}`,
        { file: location },
      );
    }
    for (const table of missing) await client.query(createTable(table));
    await client.query(CAPTURE_DDL);
    await addPartColumn(client);
    // Only the missing triggers: CREATE TRIGGER locks the table until this transaction ends,
    // which, while writers hold rows and wait for the log lock, can close a deadlock.
    const present = await existingTriggers(client);
    for (const table of tables) {
      const name = quote(table.name);
      if (!present.has(`${table.name}/lv_capture`)) {
        await client.query(
          `CREATE OR REPLACE TRIGGER lv_capture AFTER INSERT OR UPDATE OR DELETE ON ${name} FOR EACH ROW EXECUTE FUNCTION lv_capture()`,
        );
      }
      if (!present.has(`${table.name}/lv_capture_truncate`)) {
        await client.query(
          `CREATE OR REPLACE TRIGGER lv_capture_truncate AFTER TRUNCATE ON ${name} FOR EACH STATEMENT EXECUTE FUNCTION lv_capture()`,
        );
      }
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * `lv_changes.part` (which request of a server's group commit wrote the row; NULL for other
 * clients), added to a log created by an earlier version. Only when missing: ALTER TABLE holds
 * an exclusive lock on the log until this transaction ends, which, while other writers wait
 * for the log lock, is a deadlock.
 */
async function addPartColumn(client: ClientBase): Promise<void> {
  const found = await client.query(
    `SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'lv_changes' AND column_name = 'part'`,
  );
  if (found.rows.length === 0) await client.query('ALTER TABLE lv_changes ADD COLUMN part integer');
}

/** The capture triggers in place, as `table/trigger`. */
async function existingTriggers(client: ClientBase): Promise<Set<string>> {
  const found = await client.query<{ name: string }>(
    `SELECT c.relname || '/' || t.tgname AS name FROM pg_trigger t
       JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND t.tgname LIKE 'lv\\_capture%'`,
  );
  return new Set(found.rows.map((row) => row.name));
}

interface ExistingColumn {
  readonly type: string;
  readonly nullable: boolean;
  readonly hasDefault: boolean;
}

async function existingColumns(client: ClientBase, table: string): Promise<Map<string, ExistingColumn> | undefined> {
  const found = await client.query<{ kind: string }>(
    `SELECT c.relkind AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = current_schema() AND c.relname = $1`,
    [table],
  );
  if (found.rows.length === 0) return undefined;
  const columns = await client.query<{ name: string; type: string; nullable: string; default: string | null }>(
    `SELECT column_name AS name, data_type AS type, is_nullable AS nullable, column_default AS default
       FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`,
    [table],
  );
  const primary = await client.query<{ name: string }>(
    `SELECT a.attname AS name FROM pg_index i
       JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
      WHERE n.nspname = current_schema() AND c.relname = $1 AND i.indisprimary`,
    [table],
  );
  const result = new Map<string, ExistingColumn>();
  for (const column of columns.rows) {
    result.set(column.name, {
      type: column.type,
      nullable: column.nullable === 'YES',
      hasDefault: column.default !== null,
    });
  }
  const kind = found.rows[0]?.kind;
  // Marks what the misfit check reports: not a plain table, or a primary key other than (id).
  if (kind !== 'r' && kind !== 'p') result.set('\u0000kind', { type: kind ?? '?', nullable: false, hasDefault: false });
  const keys = primary.rows.map((row) => row.name);
  if (keys.length !== 1 || keys[0] !== 'id')
    result.set('\u0000key', { type: keys.join(', '), nullable: false, hasDefault: false });
  return result;
}

/** What keeps an existing table from holding the config table's records exactly. */
function misfits(table: TableSpec, existing: Map<string, ExistingColumn>): string[] {
  const problems: string[] = [];
  const where = `table "${table.name}"`;
  const kind = existing.get('\u0000kind');
  if (kind !== undefined) return [`${where} is not a plain table (relkind ${kind.type})`];
  const key = existing.get('\u0000key');
  if (key !== undefined)
    problems.push(`${where}: its primary key must be (id), it is ${key.type === '' ? 'missing' : `(${key.type})`}`);
  const wanted: ColumnSpec[] = [{ name: 'id', type: 'text', nullable: false }, ...table.columns];
  for (const column of wanted) {
    const found = existing.get(column.name);
    if (found === undefined) {
      problems.push(`${where} has no column "${column.name}" (${describe(column)})`);
      continue;
    }
    if (found.type !== column.type || (found.nullable !== column.nullable && column.name !== 'id'))
      problems.push(`${where}: column "${column.name}" is ${describe(found)}, the config needs ${describe(column)}`);
  }
  const served = new Set(wanted.map((column) => column.name));
  for (const [name, column] of existing) {
    if (name.startsWith('\u0000') || served.has(name)) continue;
    // Other columns are kept as they are, provided an INSERT without them succeeds.
    if (!column.nullable && !column.hasDefault)
      problems.push(`${where}: column "${name}" is not in the config and is NOT NULL without a default`);
  }
  return problems;
}

function describe(column: { type: string; nullable: boolean }): string {
  return `${column.type}${column.nullable ? '' : ' NOT NULL'}`;
}

function createTable(table: TableSpec): string {
  const columns = ['id text PRIMARY KEY'];
  for (const column of table.columns) {
    let definition = `${quote(column.name)} ${column.type}${column.nullable ? '' : ' NOT NULL'}`;
    // NaN and infinities have no JSON form: no record could carry them.
    if (column.type === 'double precision')
      definition += ` CHECK (${quote(column.name)} <> 'NaN' AND abs(${quote(column.name)}) <> 'Infinity')`;
    columns.push(definition);
  }
  return `CREATE TABLE ${quote(table.name)} (${columns.join(', ')})`;
}
