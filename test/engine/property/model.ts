import type { EngineErrorCode } from '../../../engine/errors.js';
import type { Record, RecordChange } from '../../../engine/types.js';
import { equalValues } from '../../../engine/values.js';
import type { ChangeSpec, JsonObject } from './generators.js';

/**
 * The reference model of the tables: plain maps of records, changed the plain way (a CREATE
 * of an existing id conflicts, an UPDATE of a missing one is not found, data must be an
 * object naming no other id). Each view's expected rows are `evaluateView` over this model.
 */

export type Model = Map<string, Map<string, Record>>;

/** The RecordChanges a spec stands for, given the records as they are when it runs. */
export function resolve(spec: ChangeSpec, model: Model): RecordChange[] {
  const { table, id } = spec;
  const current = model.get(table)?.get(id);
  const withId = (data: JsonObject, flag: boolean): JsonObject => (flag ? { ...data, id } : data);
  switch (spec.kind) {
    case 'upsert':
      return [{ table, op: current === undefined ? 'CREATE' : 'UPDATE', id, data: withId(spec.data, spec.withId) }];
    case 'create':
      return [{ table, op: 'CREATE', id, data: withId(spec.data, spec.withId) }];
    case 'update':
      return [{ table, op: 'UPDATE', id, data: withId(spec.data, spec.withId) }];
    case 'patch':
      // a few fields of the stored record change (none: a no-op); a missing one is created
      return current === undefined
        ? [{ table, op: 'CREATE', id, data: spec.data }]
        : [{ table, op: 'UPDATE', id, data: { ...current, ...spec.patch } }];
    case 'delete':
      return [{ table, op: 'DELETE', id }];
    case 'same':
      // an identical update, or a delete of a missing id: both no-ops
      return current === undefined
        ? [{ table, op: 'DELETE', id }]
        : [{ table, op: 'UPDATE', id, data: { ...current } }];
    case 'createDelete':
      return current === undefined
        ? [
            { table, op: 'CREATE', id, data: spec.data },
            { table, op: 'DELETE', id },
          ]
        : [
            { table, op: 'DELETE', id },
            { table, op: 'CREATE', id, data: spec.data },
          ];
    case 'updateTwice': {
      const first: RecordChange = { table, op: current === undefined ? 'CREATE' : 'UPDATE', id, data: spec.data };
      return [first, { table, op: 'UPDATE', id, data: spec.data2 }];
    }
    case 'bad': {
      const change: RecordChange = { table, op: spec.op, id, data: { ...current } };
      switch (spec.bad) {
        case 'table':
          return [{ ...change, table: 'nope' }];
        case 'number':
          return [{ ...change, data: 5 }];
        case 'null':
          return [{ ...change, data: null }];
        case 'array':
          return [{ ...change, data: [current ?? {}] }];
        case 'string':
          return [{ ...change, data: 'x' }];
        case 'noData':
          return [{ table, op: spec.op, id }];
        case 'emptyId':
          return [{ ...change, id: '' }];
        case 'idMismatch':
          return [{ ...change, data: { ...current, id: `${id}x` } }];
      }
    }
  }
}

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Applies a change to the model, or returns the error codes it may raise (without changing
 * anything). Returns whether the change stored anything.
 */
export function applyToModel(model: Model, change: RecordChange): { codes: EngineErrorCode[] } | { changed: boolean } {
  const { table, op, id, data } = change;
  const records = model.get(table);
  const codes: EngineErrorCode[] = [];
  const idOk = typeof id === 'string' && id !== '';
  const dataOk = op === 'DELETE' || (isObject(data) && (data['id'] === undefined || data['id'] === id));
  if (records === undefined || !idOk || !dataOk) codes.push('BAD_INPUT');
  if (records !== undefined && idOk) {
    if (op === 'CREATE' && records.has(id)) codes.push('CONFLICT');
    if (op === 'UPDATE' && !records.has(id)) codes.push('NOT_FOUND');
  }
  if (codes.length > 0 || records === undefined) return { codes };
  const current = records.get(id);
  if (op === 'DELETE') return { changed: records.delete(id) };
  const record = { ...(data as JsonObject), id } as Record;
  if (current !== undefined && equalValues(current, record)) return { changed: false };
  records.set(id, record);
  return { changed: true };
}

export const cloneModel = (model: Model): Model =>
  new Map([...model].map(([table, records]) => [table, new Map(records)]));
