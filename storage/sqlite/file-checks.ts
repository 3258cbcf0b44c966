import { accessSync, closeSync, constants, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { StoreError } from '../errors.js';
import { openError } from './open-error.js';

/*
 * Checks made with plain fs calls before SQLite sees the file, so that a file we refuse keeps
 * its bytes: SQLite may write to a file as soon as it opens it.
 */

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * True when `file` exists and is not empty (an empty file is a new database, as SQLite treats
 * it). Throws `NOT_A_DATABASE` when its first bytes are not the SQLite header, `CANNOT_OPEN`
 * when it is not a regular file.
 */
export function inspectFile(file: string): boolean {
  let size: number;
  try {
    const stat = statSync(file);
    if (!stat.isFile()) throw new StoreError('CANNOT_OPEN', `${file} is not a regular file`, { file });
    size = stat.size;
  } catch (error) {
    if (error instanceof StoreError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw openError(error, file);
  }
  if (size === 0) return false;
  const header = Buffer.alloc(SQLITE_HEADER.length);
  let read = 0;
  try {
    const fd = openSync(file, 'r');
    try {
      read = readSync(fd, header, 0, header.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw openError(error, file);
  }
  if (read < header.length || !header.equals(SQLITE_HEADER)) {
    throw new StoreError(
      'NOT_A_DATABASE',
      `${file} is not a SQLite database (its first bytes are not the SQLite header); it was left untouched`,
      {
        file,
      },
    );
  }
  return true;
}

/**
 * Creates the file's directory when missing, and checks that it is writable (SQLite creates
 * `-wal` / `-journal` files beside the database) and so is the file when it `exists`. Throws
 * `READ_ONLY` (or `CANNOT_OPEN`) otherwise.
 */
export function checkWritable(file: string, exists: boolean): void {
  const dir = dirname(file);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw openError(error, file, `cannot create the directory ${dir}`);
  }
  for (const [path, what] of [
    [dir, `the directory ${dir} is not writable (the store creates ${file}-wal beside the database)`],
    ...(exists ? [[file, `the file ${file} is not writable`] as const] : []),
  ] as const) {
    try {
      accessSync(path, constants.W_OK);
    } catch (error) {
      throw openError(error, file, what);
    }
  }
}
