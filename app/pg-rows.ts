import { parseFieldType, type ScalarType } from '../config/types.js';
import type { CheckedConfig } from '../config/validate.js';
import type { Record } from '../engine/index.js';
import type { JsonObject, TableSpec } from '../storage/index.js';
import { isAppError } from './errors.js';
import { RecordValidator } from './record-validator.js';

/** The SQL type of each field type (`!` adds NOT NULL); `id` is always `text PRIMARY KEY`. */
const SQL_TYPES: { readonly [scalar in ScalarType]: string } = {
  ID: 'text',
  String: 'text',
  Int: 'integer',
  Float: 'double precision',
  Boolean: 'boolean',
  JSON: 'jsonb',
};

/** The config's tables as PostgreSQL holds them. */
export function tableSpecs(checked: CheckedConfig): TableSpec[] {
  return checked.config.tables.map((table) => ({
    name: table.name,
    columns: Object.entries(table.fields).map(([name, type]) => {
      const { scalar, nullable } = parseFieldType(type);
      return { name, type: SQL_TYPES[scalar], nullable };
    }),
  }));
}

/**
 * Turns rows (as `to_jsonb` renders them) into the engine's records: the config's fields only
 * (other columns of a user's table are not served), checked and normalised as the write path
 * checks a record. The column types make a misfit all but impossible; one (say, a JSON value
 * the validator refuses) is reported and the row is not served.
 */
export class RowReader {
  readonly #tables = new Map<string, { fields: readonly string[]; validator: RecordValidator }>();
  readonly #onMisfit: (table: string, id: string, reason: string) => void;

  constructor(checked: CheckedConfig, onMisfit: (table: string, id: string, reason: string) => void) {
    this.#onMisfit = onMisfit;
    for (const table of checked.config.tables)
      this.#tables.set(table.name, { fields: Object.keys(table.fields), validator: new RecordValidator(table) });
  }

  serves(table: string): boolean {
    return this.#tables.has(table);
  }

  /** The record a row holds, or undefined when it does not fit the config (reported). */
  record(table: string, row: JsonObject): Record | undefined {
    const spec = this.#tables.get(table);
    const id = row['id'];
    if (spec === undefined || typeof id !== 'string') return undefined;
    const data: { [field: string]: unknown } = { id };
    for (const field of spec.fields) data[field] = row[field] ?? null;
    try {
      return spec.validator.check(id, data);
    } catch (error) {
      if (!isAppError(error)) throw error;
      this.#onMisfit(table, id, error.message);
      return undefined;
    }
  }
}
