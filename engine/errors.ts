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

/**
 * An error raised while a validated change was being applied — a broken invariant, a bug in
 * an operator or an accumulator — so some views may hold the change and others not. Unlike an
 * `EngineError` it leaves the state changed; the circuit that raised it refuses every later
 * call with it, and the caller must rebuild a circuit from the records' source of truth.
 */
export class EngineFault extends Error {
  /** The view being updated when it happened (undefined: the shared tables or indexes). */
  readonly view: string | undefined;
  readonly table: string;
  readonly id: string;

  constructor(cause: unknown, at: { table: string; id: string; view: string | undefined }) {
    const where = at.view === undefined ? '' : ` to view '${at.view}'`;
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`engine fault applying ${at.table} '${at.id}'${where}: ${reason}`, { cause });
    this.name = 'EngineFault';
    this.view = at.view;
    this.table = at.table;
    this.id = at.id;
  }
}

export function isEngineFault(error: unknown): error is EngineFault {
  return error instanceof EngineFault;
}
