import type { CheckedConfig } from '../config/validate.js';
import { checkChange, type Record, type RecordChange } from '../engine/index.js';
import { AppError, withAppErrors } from './errors.js';
import { RecordValidator } from './record-validator.js';
import { checkJsonDepth, type WriteLimits } from './write-limits.js';

/**
 * One requested record change. Unlike the engine's `RecordChange`, `data` of an UPDATE is a
 * patch: its fields are merged into the stored record (as the record stands after the
 * earlier changes of the same call).
 */
export interface Change {
  readonly table: string;
  readonly op: RecordChange['op'];
  readonly id: string;
  readonly data?: unknown;
}

/** A change as the write path resolved it: the whole new record (`data`) and the stored one (`before`). */
export type ResolvedChange = RecordChange & { readonly before: Record | undefined };

/** The stored record of `table` and `id` as the request starts, whatever holds it. */
export type RecordLookup = (table: string, id: string) => Record | undefined;

/**
 * Whether the writer may read a stored record (its read rule). A record it may not read is
 * absent for its writes: an update is `NOT_FOUND` and a delete changes nothing, exactly as for
 * a missing id, so no answer tells a hidden record from a missing one.
 */
export type Sees = (table: string, record: Record) => boolean;

/**
 * Turns requested changes into engine changes with whole, validated records: the one
 * validation pass of every write path. The engine's `checkChange` judges the change itself
 * (table, id, operation, data), with the engine's messages; the table's `RecordValidator`
 * judges the fields; the write limits bound depth and size. `lookup` says what is stored
 * (the engine's state, or rows read FOR UPDATE from PostgreSQL); with `sees`, stored records
 * the writer may not read are absent for it (see `Sees`).
 */
export class ChangeResolver {
  readonly #validators = new Map<string, RecordValidator>();
  readonly #limits: WriteLimits;

  constructor(checked: CheckedConfig, limits: WriteLimits) {
    this.#limits = limits;
    for (const table of checked.config.tables) this.#validators.set(table.name, new RecordValidator(table));
  }

  /** Judges whole changes without resolving them: the table and id of each (before anything is read). */
  check(changes: readonly Change[]): void {
    const tableExists = (table: string): boolean => this.#validators.has(table);
    changes.forEach((change, index) => {
      const where = changes.length > 1 ? `changes[${index}]: ` : '';
      this.#checkDepth(change.data, `${where}${change.table} '${change.id}'`);
      withAppErrors(() => checkChange(tableExists, change.table, change.op, change.id, change.data, where));
    });
  }

  resolve(changes: readonly Change[], lookup: RecordLookup, sees?: Sees): ResolvedChange[] {
    const pending = new Map<string, Record | undefined>();
    const tableExists = (table: string): boolean => this.#validators.has(table);
    return changes.flatMap((change, index): ResolvedChange[] => {
      const where = changes.length > 1 ? `changes[${index}]: ` : '';
      const { table, op, id } = change;
      // Before anything walks the data recursively: a hostile depth must not overflow the stack.
      this.#checkDepth(change.data, `${where}${table} '${id}'`);
      // A patch is checked as data before it is merged (the merged record is whole).
      const patch = withAppErrors(() => checkChange(tableExists, table, op, id, change.data, where));
      const validator = this.#validators.get(table) as RecordValidator;
      const key = `${table}\u0000${id}`;
      // Records this request wrote are the writer's own; stored ones it may not read are absent.
      const stored = pending.has(key) ? pending.get(key) : lookup(table, id);
      const hidden = !pending.has(key) && stored !== undefined && sees !== undefined && !sees(table, stored);
      const before = hidden ? undefined : stored;
      if (op === 'DELETE') {
        if (hidden) return []; // as deleting a missing id: nothing changes
        pending.set(key, undefined);
        return [{ table, op, id, before }];
      }
      if (op === 'UPDATE' && before === undefined) {
        throw new AppError('NOT_FOUND', `${where}${table} '${id}' does not exist`, { table, id });
      }
      const record = validator.check(id, op === 'UPDATE' ? { ...before, ...patch } : { ...patch }, where);
      this.#checkSize(record, table, id, where);
      pending.set(key, record);
      return [{ table, op, id, data: record, before }];
    });
  }

  /** Each field's value (a record itself is not a level). */
  #checkDepth(data: unknown, what: string): void {
    const max = this.#limits.maxJsonDepth;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      checkJsonDepth(data, max, what);
      return;
    }
    for (const [field, value] of Object.entries(data))
      checkJsonDepth(value, max, `${what}: field '${field}'`, { field });
  }

  #checkSize(record: Record, table: string, id: string, where: string): void {
    const max = this.#limits.maxRecordBytes;
    const bytes = Buffer.byteLength(JSON.stringify(record));
    if (bytes > max) {
      throw new AppError('BAD_INPUT', `${where}${table} '${id}' is ${bytes} bytes as JSON, more than ${max}`, {
        table,
        id,
        limit: 'maxRecordBytes',
        max,
      });
    }
  }
}
