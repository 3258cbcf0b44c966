import { StoreError } from './errors.js';
import type { ChangeOp, StoreChange } from './types.js';

/**
 * A change checked and serialised to JSON; `json === null` is a delete. Part of the contract,
 * not of one database: every store must refuse a malformed batch with `BAD_CHANGE` before it
 * writes any of it, so all of them check changes here.
 */
export interface EncodedChange {
  readonly table: string;
  readonly id: string;
  readonly json: string | null;
}

const OPS: ReadonlySet<string> = new Set<ChangeOp>(['CREATE', 'UPDATE', 'DELETE']);

/** Checks and serialises every change, or throws `BAD_CHANGE` naming the first malformed one. */
export function encodeChanges(changes: readonly StoreChange[]): EncodedChange[] {
  if (!Array.isArray(changes)) throw new StoreError('BAD_CHANGE', 'changes must be an array');
  return changes.map(encode);
}

function encode(change: StoreChange, index: number): EncodedChange {
  const at = `changes[${index}]`;
  if (typeof change !== 'object' || change === null)
    throw new StoreError('BAD_CHANGE', `${at}: a change must be an object`);
  const { table, op, id, record } = change;
  if (typeof table !== 'string' || table.length === 0)
    throw new StoreError('BAD_CHANGE', `${at}: table must be a non-empty string`);
  if (typeof id !== 'string' || id.length === 0)
    throw new StoreError('BAD_CHANGE', `${at}: id must be a non-empty string`);
  if (!OPS.has(op))
    throw new StoreError('BAD_CHANGE', `${at}: op must be CREATE, UPDATE or DELETE, not ${JSON.stringify(op)}`);
  if (op === 'DELETE') return { table, id, json: null };
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    throw new StoreError('BAD_CHANGE', `${at}: ${op} ${table} '${id}' needs a record (a JSON object)`);
  }
  const recordId = (record as { id?: unknown }).id;
  if (recordId !== undefined && recordId !== id) {
    throw new StoreError(
      'BAD_CHANGE',
      `${at}: record.id ${JSON.stringify(recordId)} differs from the change's id '${id}'`,
    );
  }
  let json: string;
  try {
    json = JSON.stringify(record);
  } catch (error) {
    throw new StoreError(
      'BAD_CHANGE',
      `${at}: ${table} '${id}' is not serialisable to JSON: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return { table, id, json };
}
