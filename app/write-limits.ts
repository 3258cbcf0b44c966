import { AppError } from './errors.js';

/**
 * What one write may carry. A request within these limits is applied in one synchronous
 * step (validate, write, ingest, publish), so they also bound how long one write holds the
 * event loop (docs/limits.md gives the figure).
 */
export interface WriteLimits {
  /** Changes in one request (`ingestBatch`), default 100. */
  readonly maxBatchChanges: number;
  /** Bytes of one record as JSON (UTF-8), after a patch is merged; default 1 MiB. */
  readonly maxRecordBytes: number;
  /**
   * Nesting of a JSON value from a client (a record field, a filter operand), default 32: an
   * object or array is one level. Deeper values would be stored and then break every reader.
   */
  readonly maxJsonDepth: number;
}

export const DEFAULT_WRITE_LIMITS: WriteLimits = {
  maxBatchChanges: 100,
  maxRecordBytes: 1024 * 1024,
  maxJsonDepth: 32,
};

/**
 * Whether `value` nests objects and arrays deeper than `max`. Iterative and stopping at the
 * first level past `max`, so a hostile value cannot overflow the stack here.
 */
function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop() as [unknown, number];
    if (typeof item !== 'object' || item === null) continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** Refuses a JSON value nested deeper than `max` (`BAD_INPUT` with `extensions.max`). */
export function checkJsonDepth(value: unknown, max: number, what: string, details: { field?: string } = {}): void {
  if (nestsDeeperThan(value, max)) {
    throw new AppError('BAD_INPUT', `${what} nests deeper than ${max} levels`, {
      ...details,
      limit: 'maxJsonDepth',
      max,
    });
  }
}
