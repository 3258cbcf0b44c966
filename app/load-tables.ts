import type { CheckedConfig } from '../config/validate.js';
import { ConfigError } from '../config/validate.js';
import type { Circuit, Record } from '../engine/index.js';
import { checkChange, isEngineError } from '../engine/index.js';
import { type LoadedRecord, type Store, type StoreChange, StoreError } from '../storage/index.js';
import { isAppError, withAppErrors } from './errors.js';
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
 * Loads every stored record of the config's tables into `circuit` with `circuit.load`, each
 * checked on the way exactly as the write path checks a new record (the engine's `checkChange`,
 * then the table's `RecordValidator`) and normalised: a nullable field it lacks becomes `null`.
 *
 * Nothing is written before every record loaded. A record that does not fit stops the start,
 * named with its table and id, and leaves the file as it was:
 * - when the config's tables are the ones the records were last checked against, the record is
 *   damaged: a `StoreError` `CORRUPT` (exit 65), like a record the store cannot read;
 * - when the tables changed since (a field or a table added, a type changed), the config is the
 *   likely cause: a `ConfigError` naming the first records that do not fit.
 * After a load under changed tables the normalised records are written back and the new tables
 * remembered, in one transaction, so that the file and the engine hold the same records.
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
    const rows = checkedRecords(table.name, store.loadRecords(table.name), new RecordValidator(table), {
      misfit: (problem) => {
        if (trusted) {
          throw new StoreError(
            'CORRUPT',
            `the store ${store.file} is damaged: stored record ${problem}, though the records were checked against ` +
              'this config before; it was left untouched',
            { file: store.file },
          );
        }
        if (problems.length < 5) problems.push(problem);
        misfits++;
      },
      changed: (record) => rewrites.push({ table: table.name, op: 'UPDATE', id: record.id, record }),
    });
    try {
      records += circuit.load(table.name, rows);
    } catch (error) {
      if (isEngineError(error))
        throw new StoreError('CORRUPT', `the store ${store.file} is damaged: ${error.message}; it was left untouched`, {
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
        (problem) =>
          `stored record ${problem} (in ${store.file}, left untouched); change the config back, or use another --data file`,
      ),
    );
  }
  if (store.getMeta(TABLES_KEY) !== fingerprint || rewrites.length > 0) {
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

/** The stored records of `table`, each checked as the write path checks a CREATE; a misfit is reported and skipped. */
function* checkedRecords(
  table: string,
  rows: IterableIterator<LoadedRecord>,
  validator: RecordValidator,
  report: { misfit: (problem: string) => void; changed: (record: Record) => void },
): IterableIterator<Record> {
  const tableExists = (name: string) => name === table;
  for (const { id, data } of rows) {
    let record: Record;
    try {
      record = validator.check(id, withAppErrors(() => checkChange(tableExists, table, 'CREATE', id, data)) as Record);
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
