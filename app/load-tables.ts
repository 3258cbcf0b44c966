import type { CheckedConfig } from '../config/validate.js';
import { ConfigError } from '../config/validate.js';
import type { Circuit, Record } from '../engine/index.js';
import { isEngineError } from '../engine/index.js';
import { type JsonObject, type Store, type StoreChange, StoreError } from '../storage/index.js';
import { isAppError } from './errors.js';
import { RecordValidator } from './record-validator.js';

/** Meta key: the tables of the config the stored records were last checked against. */
const TABLES_KEY = 'config_tables';

export interface LoadedTables {
  /** Records loaded into the circuit. */
  readonly records: number;
  /** Stored tables that the config does not list (their records stay in the file, unread). */
  readonly ignored: readonly { table: string; count: number }[];
  /** Whether every record was checked against the config (it changed since the last start). */
  readonly checked: boolean;
  /** Records rewritten to the file in their normalised form (after such a check). */
  readonly rewritten: number;
}

/**
 * Loads every stored record of the config's tables into `circuit` with `circuit.load`.
 *
 * Records were validated when they were written, so a start with the same tables as the
 * previous one reads them as they are (fast path: ~1M records in a few seconds). When the
 * tables changed (a field or a table added, a type changed), every record is checked against
 * the new config and normalised — a nullable field it lacks becomes `null`, as for a new
 * record — and, in one transaction, the normalised records are written back and the new
 * tables remembered, so that the file and the engine hold the same records and the next
 * start can trust them again. A record that does not fit (a required field added, a field
 * removed, a type changed) stops the start with a `ConfigError` naming it; nothing is written.
 */
export function loadTables(store: Store, circuit: Circuit, checked: CheckedConfig): LoadedTables {
  const fingerprint = tablesFingerprint(checked);
  const stored = new Map(store.tables().map(({ table, count }) => [table, count]));
  const trusted = stored.size === 0 || store.getMeta(TABLES_KEY) === fingerprint;
  const problems: string[] = [];
  let misfits = 0;
  let records = 0;
  const rewrites: StoreChange[] = [];
  for (const table of checked.config.tables) {
    if (!stored.has(table.name)) continue;
    const validator = trusted ? undefined : new RecordValidator(table);
    const rows =
      validator === undefined
        ? (store.loadRecords(table.name) as IterableIterator<Record>) // circuit.load checks each id
        : normalised(store.loadRecords(table.name), validator, {
            misfit: (problem) => {
              if (problems.length < 5) problems.push(problem);
              misfits++;
            },
            changed: (record) => rewrites.push({ table: table.name, op: 'UPDATE', id: record.id, record }),
          });
    try {
      records += circuit.load(table.name, rows);
    } catch (error) {
      if (isEngineError(error))
        throw new StoreError('CORRUPT', `the store ${store.file}: ${error.message}`, {
          file: store.file,
          cause: error,
        });
      throw error;
    }
  }
  if (misfits > 0) {
    if (misfits > problems.length) problems.push(`… ${misfits - problems.length} more stored records that do not fit`);
    throw new ConfigError(
      problems.map(
        (problem) => `stored record ${problem} (in ${store.file}); change the config back, or use another --data file`,
      ),
    );
  }
  if (store.getMeta(TABLES_KEY) !== fingerprint) {
    store.transaction((tx) => {
      tx.write(rewrites);
      store.setMeta(TABLES_KEY, fingerprint);
    });
  }
  const ignored = [...stored]
    .filter(([table]) => !checked.tables.has(table))
    .map(([table, count]) => ({ table, count }));
  return { records, ignored, checked: !trusted, rewritten: rewrites.length };
}

function* normalised(
  rows: IterableIterator<JsonObject>,
  validator: RecordValidator,
  report: { misfit: (problem: string) => void; changed: (record: Record) => void },
): IterableIterator<Record> {
  for (const data of rows) {
    let record: Record;
    try {
      record = validator.check(String(data['id']), data);
    } catch (error) {
      if (!isAppError(error)) throw error;
      report.misfit(error.message);
      continue;
    }
    // Normalising only adds fields (null), so a record that changed has more of them.
    if (Object.keys(record).length !== Object.keys(data).length) report.changed(record);
    yield record;
  }
}

/** The tables' names and fields, in a canonical form. */
function tablesFingerprint(checked: CheckedConfig): string {
  const tables = [...checked.config.tables]
    .map((table) => ({
      name: table.name,
      fields: Object.fromEntries(Object.entries(table.fields).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return JSON.stringify(tables);
}
