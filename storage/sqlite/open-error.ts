import { StoreError } from '../errors.js';

/**
 * Maps a failure while opening `file` (a Node fs error or a better-sqlite3 `SqliteError`, told
 * apart by their `code`) to a `StoreError`; a `StoreError` passes through unchanged.
 * `context` replaces the generic description of what failed.
 */
export function openError(error: unknown, file: string, context?: string): StoreError {
  if (error instanceof StoreError) return error;
  const code = (error as { code?: unknown }).code;
  const detail = error instanceof Error ? error.message : String(error);
  const say = (what: string) => `${context ?? what}: ${detail}`;
  if (typeof code === 'string') {
    if (
      code === 'EACCES' ||
      code === 'EPERM' ||
      code === 'EROFS' ||
      code.startsWith('SQLITE_READONLY') ||
      code === 'SQLITE_PERM'
    ) {
      return new StoreError(
        'READ_ONLY',
        `cannot write the store ${file}: ${say('permission denied or read-only file system')}`,
        { file, cause: error },
      );
    }
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      return new StoreError(
        'LOCKED',
        `the store ${file} is locked by another process (is another server running on this file?); it was left untouched`,
        { file, cause: error },
      );
    }
    if (code === 'SQLITE_NOTADB') {
      return new StoreError('NOT_A_DATABASE', `${file} is not a SQLite database; it was left untouched`, {
        file,
        cause: error,
      });
    }
    if (code.startsWith('SQLITE_CORRUPT')) {
      return new StoreError('CORRUPT', `the store ${file} is corrupt: ${detail}`, { file, cause: error });
    }
    if (code.startsWith('SQLITE_CANTOPEN')) {
      return new StoreError('CANNOT_OPEN', `cannot open the store ${file} (is its directory writable?): ${detail}`, {
        file,
        cause: error,
      });
    }
  }
  return new StoreError('CANNOT_OPEN', `cannot open the store ${file}: ${say('error')}`, { file, cause: error });
}
