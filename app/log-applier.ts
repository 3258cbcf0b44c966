import {
  type Circuit,
  type EngineFault,
  isEngineFault,
  type Record,
  type RecordChange,
  type ViewUpdate,
} from '../engine/index.js';
import type { LoggedTransaction } from '../storage/index.js';
import type { RowReader } from './pg-rows.js';
import type { Logger, ViewClock, ViewHost } from './view-host.js';

/**
 * The version clock of an instance that follows a change log: the position it applied. View
 * versions are log positions (see `ViewHostOptions.logVersions`): the same on every instance,
 * never reissued by a restart, and never above the applied position.
 */
export class LogClock implements ViewClock {
  #position: number;
  /** The position this instance loaded at: earlier runs applied no further. */
  readonly base: number;

  constructor(position: number) {
    this.#position = position;
    this.base = position;
  }

  now(): number {
    return this.#position;
  }

  advance(position: number): void {
    if (position > this.#position) this.#position = position;
  }
}

function partKey(txid: string, part: number): string {
  return `${txid}/${part}`;
}

/**
 * Applies committed transactions from the change log to the engine, each as one `ingestBatch`,
 * and publishes the updates. A transaction's entries are reduced to each record's final state
 * (a row inserted then deleted in one transaction never shows), then compared with the engine's
 * record: absent → present is a CREATE, present → absent a DELETE, otherwise an UPDATE (a no-op
 * when equal). Whoever wrote the rows (a mutation of any instance, or any SQL client), every
 * instance reaches the same records after the same transaction.
 *
 * Writers waiting for their own requests `expect` each one's part of their transaction first and
 * `take` its updates once it is applied (read your writes).
 */
export class LogApplier {
  readonly #circuit: Circuit;
  readonly #clock: LogClock;
  readonly #host: ViewHost;
  readonly #rows: RowReader;
  readonly #onEngineFault: (fault: EngineFault) => void;
  /** By `partKey`: the updates of a writer's own parts, kept from `expect` until `take`. */
  readonly #expected = new Map<string, readonly ViewUpdate[] | undefined>();
  #failed = false;

  constructor(
    circuit: Circuit,
    clock: LogClock,
    host: ViewHost,
    rows: RowReader,
    options: { logger?: Logger | undefined; onEngineFault: (fault: EngineFault) => void },
  ) {
    this.#circuit = circuit;
    this.#clock = clock;
    this.#host = host;
    this.#rows = rows;
    this.#onEngineFault = options.onEngineFault;
  }

  /** Keep the updates of part `part` of transaction `txid` for `take` (call before it commits). */
  expect(txid: string, part: number): void {
    this.#expected.set(partKey(txid, part), undefined);
  }

  /** The updates of an expected part (once applied), forgotten afterwards. */
  take(txid: string, part: number): readonly ViewUpdate[] {
    const key = partKey(txid, part);
    const updates = this.#expected.get(key);
    this.#expected.delete(key);
    return updates ?? [];
  }

  apply(transaction: LoggedTransaction): void {
    if (this.#failed) return;
    const changes = this.#changes(transaction);
    let updates: ViewUpdate[] = [];
    if (changes.length > 0) {
      try {
        // Versions are the transaction's position, whatever the engine counted.
        updates = this.#circuit.ingestBatch(changes).map((update) => ({ ...update, version: transaction.position }));
      } catch (error) {
        // Reconciled against the engine's own records, a batch can only fail by a bug.
        this.#failed = true;
        if (isEngineFault(error)) {
          this.#host.stop(error);
          this.#onEngineFault(error);
          return;
        }
        this.#host.stop(error);
        throw error;
      }
    }
    this.#clock.advance(transaction.position);
    if (transaction.part !== null) {
      const key = partKey(transaction.txid, transaction.part);
      if (this.#expected.has(key)) this.#expected.set(key, updates);
    }
    this.#host.publish(updates);
  }

  /** The engine changes that bring the engine's records to the transaction's final state. */
  #changes(transaction: LoggedTransaction): RecordChange[] {
    const finals = new Map<string, Map<string, Record | null>>();
    const of = (table: string): Map<string, Record | null> => {
      let map = finals.get(table);
      if (map === undefined) finals.set(table, (map = new Map()));
      return map;
    };
    for (const entry of transaction.entries) {
      if (!this.#rows.serves(entry.table)) continue;
      const table = of(entry.table);
      if (entry.op === 'TRUNCATE') {
        for (const id of table.keys()) table.set(id, null);
        for (const record of this.#circuit.records(entry.table)) table.set(record.id, null);
      } else if (entry.id !== null) {
        const record = entry.op === 'UPSERT' && entry.data !== null ? this.#rows.record(entry.table, entry.data) : null;
        table.set(entry.id, record ?? null);
      }
    }
    const changes: RecordChange[] = [];
    for (const [table, records] of finals) {
      for (const [id, record] of records) {
        const current = this.#circuit.getRecord(table, id);
        if (record === null) {
          if (current !== undefined) changes.push({ table, op: 'DELETE', id });
        } else {
          changes.push({ table, op: current === undefined ? 'CREATE' : 'UPDATE', id, data: record });
        }
      }
    }
    return changes;
  }
}
