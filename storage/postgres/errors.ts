import { StoreError } from '../errors.js';

/** SQLSTATE classes and codes the PostgreSQL store reacts to. */
const CONNECTION_CLASSES = ['08', '57', '53'];
const RETRYABLE_CODES = new Set(['40001', '40P01', '55P03']);

/**
 * Whether a `pg` error means the database is (for now) out of reach: the connection broke,
 * the server is shutting down or restarting, or the client could not connect at all. Such a
 * request was not applied (or its commit outcome is unknown when the connection broke during
 * COMMIT; see docs/postgres.md) and may be retried.
 */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (CONNECTION_CLASSES.some((prefix) => code.startsWith(prefix))) return true;
    if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH'].includes(code)) return true;
  }
  return /Connection terminated|connection is closed|Client has encountered a connection error|not queryable/i.test(
    error.message,
  );
}

/** A deadlock or serialisation failure: nothing was applied, the same request may be sent again. */
export function isRetryableError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && RETRYABLE_CODES.has(code);
}

/** The SQLSTATE of a `pg` error, if any. */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** The database URL without its password, for messages and logs. */
export function safeLocation(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/** The database could not be reached at start-up. */
export function cannotConnect(location: string, error: unknown): StoreError {
  const reason = error instanceof Error ? error.message : String(error);
  return new StoreError('CANNOT_OPEN', `cannot connect to PostgreSQL at ${location}: ${reason}`, {
    file: location,
    cause: error,
  });
}
