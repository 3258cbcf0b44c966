import { isEngineError } from '../engine/index.js';

/**
 * Every refusal the service layer gives a client. The GraphQL layer turns it into a
 * `GraphQLError` with `extensions.code` (in one place); any other error is a bug and stays
 * masked as an internal error.
 */
export type AppErrorCode =
  | 'BAD_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'FORBIDDEN'
  | 'LIMIT_EXCEEDED'
  | 'UNAUTHENTICATED'
  | 'UNAVAILABLE';

/** What a client may be told about where and why: the record, field or limit at fault. */
export interface AppErrorDetails {
  readonly table?: string;
  readonly id?: string;
  readonly field?: string;
  /** The name of the limit that was hit (`maxViews`, `maxLimit`, …). */
  readonly limit?: string;
  /** The limit's value. */
  readonly max?: number;
}

export class AppError extends Error {
  readonly code: AppErrorCode;
  readonly details: AppErrorDetails;

  constructor(code: AppErrorCode, message: string, details: AppErrorDetails = {}) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
  }
}

/**
 * The server is stopping (or stopped after a failed commit) and takes no new work: nothing of
 * the request was applied, and the same request may be sent again, to this server once it
 * restarted or to another one.
 */
export function unavailable(message = 'the server is shutting down: nothing was applied, retry the request'): AppError {
  return new AppError('UNAVAILABLE', message);
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

/**
 * The application's view of an error raised below it: an engine error (bad input, a
 * conflict, a missing record) becomes the `AppError` with the same code and location;
 * anything else is returned unchanged (and stays an internal error).
 */
export function toAppError(error: unknown): unknown {
  if (!isEngineError(error)) return error;
  const details: { table?: string; id?: string; field?: string } = {};
  if (error.table !== undefined) details.table = error.table;
  if (error.id !== undefined) details.id = error.id;
  if (error.field !== undefined) details.field = error.field;
  return new AppError(error.code, error.message, details);
}

/** Runs `fn`, rethrowing engine errors as `AppError`s. */
export function withAppErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    throw toAppError(error);
  }
}
