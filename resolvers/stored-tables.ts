import type { Circuit, Record } from '../engine/index.js';
import type { CheckedConfig } from '../config/validate.js';
import { ConfigError } from '../config/validate.js';
import { isEngineError } from '../engine/index.js';
import { StoreError, type JsonObject, type Store, type StoreChange } from '../storage/index.js';
import { RecordValidator } from './record-validator.js';

/**
 * Start-up from a store: its records into a fresh circuit (before any view is registered),
 * and the version every view starts at, so that versions keep rising across restarts.
 */

/** Meta key: the number of requests committed so far (an upper bound; see `RequestCounter`). */
const REQUESTS_KEY = 'requests';
/** Meta key: the tables of the config the stored records were last checked against. */
const TABLES_KEY = 'config_tables';
/** Versions are GraphQL `Int`s. */
const MAX_VERSION = 2 ** 31 - 1;

/**
 * Counts committed requests in the store's meta, inside each request's transaction, and
 * derives the version views start at after a (re)start:
 *
 *   versionBase = requests + epoch - 1
 *
 * Each request raises a view's version by at most 1, and the store's epoch rises by at least
 * 1 per open, so every version issued by an earlier run (at most that run's base plus the
 * requests it committed, since only committed requests are ever published) is below the
 * base of every later run. A client resuming with an old version is therefore never
 * mistaken for one of this run's (see `UpdateHistory`). The first run on a new file (and
 * every in-memory run) starts at 0. A request counted whose savepoint is then rolled back
 * (the engine rejected it) leaves the in-memory count one ahead of the file: still a bound.
 *
 * Versions are GraphQL `Int`s: this holds for 2^31 - 1 committed requests plus restarts,
 * after which the server refuses to start.
 */
export class RequestCounter {
  readonly #store: Store;
  #count: number;
  readonly versionBase: number;

  constructor(store: Store) {
    this.#store = store;
    const raw = store.getMeta(REQUESTS_KEY) ?? '0';
    const count = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(count)) {
      throw new StoreError('CORRUPT', `the store ${store.file} has an invalid request count ${JSON.stringify(raw)}`, { file: store.file });
    }
    this.#count = count;
    this.versionBase = count + store.epoch - 1;
    if (this.versionBase > MAX_VERSION - 1) {
      throw new Error(`the store ${store.file} has issued view versions up to ${this.versionBase}, the limit of a GraphQL Int; copy its records to a new file`);
    }
  }

  /** Requests committed (or about to be, inside the open transaction). */
  get count(): number {
    return this.#count;
  }

  /** Counts one more request; call inside its transaction, before applying it to the engine. */
  increment(): void {
    this.#store.setMeta(REQUESTS_KEY, String(this.#count + 1));
    this.#count++;
  }
}

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
      if (isEngineError(error)) throw new StoreError('CORRUPT', `the store ${store.file}: ${error.message}`, { file: store.file, cause: error });
      throw error;
    }
  }
  if (misfits > 0) {
    if (misfits > problems.length) problems.push(`… ${misfits - problems.length} more stored records that do not fit`);
    throw new ConfigError(problems.map((problem) => `stored record ${problem} (in ${store.file}); change the config back, or use another --data file`));
  }
  if (store.getMeta(TABLES_KEY) !== fingerprint) {
    store.transaction((tx) => {
      tx.write(rewrites);
      store.setMeta(TABLES_KEY, fingerprint);
    });
  }
  const ignored = [...stored].filter(([table]) => !checked.tables.has(table)).map(([table, count]) => ({ table, count }));
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
      if (!isEngineError(error)) throw error;
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
    .map((table) => ({ name: table.name, fields: Object.fromEntries(Object.entries(table.fields).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return JSON.stringify(tables);
}
