import { GraphQLError } from 'graphql';
import { type AppErrorCode, isAppError, toAppError } from '../app/errors.js';

/** `extensions.code` of each application error code (DESIGN §4). */
const CODES: { readonly [code in AppErrorCode]: string } = {
  BAD_INPUT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  FORBIDDEN: 'FORBIDDEN',
  LIMIT_EXCEEDED: 'LIMIT_EXCEEDED',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  UNAVAILABLE: 'UNAVAILABLE',
};

/** Seconds a client refused with UNAVAILABLE should wait before retrying (HTTP Retry-After). */
const RETRY_AFTER_SECONDS = 1;

/**
 * The one place an application error becomes a GraphQL error: a deliberate `GraphQLError`
 * carrying its code and details in `extensions` (UNAUTHENTICATED also answers HTTP 401,
 * UNAVAILABLE 503 with Retry-After). Any other error is returned as it is, so the server
 * masks it as an internal error.
 */
export function toGraphQLError(error: unknown): unknown {
  const app = toAppError(error);
  if (!isAppError(app)) return app;
  const extensions: { [key: string]: unknown } = { code: CODES[app.code], ...app.details };
  if (app.code === 'UNAUTHENTICATED') extensions['http'] = { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } };
  if (app.code === 'UNAVAILABLE')
    extensions['http'] = { status: 503, headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) } };
  return new GraphQLError(app.message, { extensions });
}

/** Runs a resolver, mapping what it throws (synchronously or not) with `toGraphQLError`. */
export async function withGraphQLErrors<T>(run: () => T | Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw toGraphQLError(error);
  }
}

/** The same for a resolver that must stay synchronous (a subscription's `subscribe`). */
export function withGraphQLErrorsSync<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    throw toGraphQLError(error);
  }
}

/**
 * A request refused by a server limit before any work is done: `LIMIT_EXCEEDED` naming the
 * limit and its value, answered over HTTP with `status` (400, or 413 for a body too large).
 */
export function limitExceeded(message: string, limit: string, max: number, status = 400): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'LIMIT_EXCEEDED', limit, max, http: { status } } });
}
