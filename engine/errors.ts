export type EngineErrorCode = 'BAD_INPUT' | 'CONFLICT' | 'NOT_FOUND';

/** Where an error happened: the table, record id and field at fault, as far as known. */
export interface ErrorLocation {
  table?: string;
  id?: string;
  field?: string;
}

/**
 * The engine's only error type. When it is thrown, the engine's state (tables, views,
 * versions, hashes) is exactly what it was before the call.
 */
export class EngineError extends Error {
  readonly code: EngineErrorCode;
  readonly table: string | undefined;
  readonly id: string | undefined;
  readonly field: string | undefined;

  constructor(code: EngineErrorCode, message: string, location: ErrorLocation = {}) {
    super(message);
    this.name = 'EngineError';
    this.code = code;
    this.table = location.table;
    this.id = location.id;
    this.field = location.field;
  }
}

export function isEngineError(error: unknown): error is EngineError {
  return error instanceof EngineError;
}

export function badInput(message: string, location: ErrorLocation = {}): EngineError {
  return new EngineError('BAD_INPUT', message, location);
}

/** Throws when an invariant is broken: a bug in the engine, never bad input. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`engine invariant broken: ${message}`);
}
