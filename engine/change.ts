import { badInput } from './errors.js';
import type { Operation, Record, Value } from './types.js';

/**
 * Validates one record change the way every ingest does, before looking at the stored
 * records, and returns the record to store: `data` with `id` filled in for `CREATE` and
 * `UPDATE`, `undefined` for `DELETE` (whose `data` is ignored). The checks run in this
 * order and each throws an `EngineError` with code `BAD_INPUT` and this message, after
 * `prefix` (`ingestBatch` passes `changes[<index>]: `):
 *
 * - `unknown table '<table>'` (location: table, id)
 * - `table '<table>': id must be a non-empty string` (table)
 * - `table '<table>', id '<id>': unknown operation '<op>' (CREATE, UPDATE or DELETE)` (table, id, field `op`)
 * - `<table> '<id>': data must be an object` (table, id)
 * - `<table> '<id>': field '<field>' is not a JSON value` (table, id, field)
 * - `<table> '<id>': data.id '<data.id>' differs from the id argument` (table, id, field `id`)
 *
 * What needs the stored record (`CONFLICT` for a `CREATE` of an existing id, `NOT_FOUND`
 * for an `UPDATE` of a missing one) is the circuit's to check.
 */
export function checkChange(
  tableExists: (table: string) => boolean,
  table: string,
  op: Operation,
  id: string,
  data?: unknown,
  prefix = '',
): Record | undefined {
  if (!tableExists(table)) {
    throw badInput(`${prefix}unknown table '${String(table)}'`, {
      table: String(table),
      ...(typeof id === 'string' ? { id } : {}),
    });
  }
  if (typeof id !== 'string' || id.length === 0)
    throw badInput(`${prefix}table '${table}': id must be a non-empty string`, { table });
  switch (op) {
    case 'DELETE':
      return undefined;
    case 'CREATE':
    case 'UPDATE':
      return toRecord(table, id, data, prefix);
    default:
      throw badInput(
        `${prefix}table '${table}', id '${id}': unknown operation '${String(op)}' (CREATE, UPDATE or DELETE)`,
        {
          table,
          id,
          field: 'op',
        },
      );
  }
}

/** Checks `data` is a JSON object whose `id`, if any, is `id`; returns the record to store. */
function toRecord(table: string, id: string, data: unknown, prefix: string): Record {
  const at = { table, id };
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw badInput(`${prefix}${table} '${id}': data must be an object`, at);
  }
  for (const field in data) {
    if (!isJson((data as { [field: string]: unknown })[field])) {
      throw badInput(`${prefix}${table} '${id}': field '${field}' is not a JSON value`, { ...at, field });
    }
  }
  const given = (data as { id?: unknown }).id;
  if (given === undefined) return { id, ...(data as { [field: string]: Value }) };
  if (given !== id)
    throw badInput(`${prefix}${table} '${id}': data.id '${String(given)}' differs from the id argument`, {
      ...at,
      field: 'id',
    });
  return data as Record;
}

function isJson(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      if (value === null) return true;
      if (Array.isArray(value)) return value.every(isJson);
      return Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null
        ? Object.values(value).every(isJson)
        : false;
    default:
      return false;
  }
}
