import type { Record, Row } from './types.js';
import { equalValues } from './values.js';

/** One weighted row of a Z-set: +1 inserts the row under its key, -1 retracts it. */
export interface Change {
  readonly key: string;
  readonly row: Row;
  readonly weight: number;
  /** The row's content hash, memoised by the first view that needs it (views share changes). */
  hash?: number | undefined;
  /**
   * For a row a join built (and the stateless operators after it passed on): the left row
   * and the right record it was built from. A result that keeps only these two references
   * (see `ViewResult`'s composed rows) holds no joined object per row.
   */
  readonly left?: Row;
  readonly right?: Record | null;
}

/** A Z-set delta: the changes one operator pushes to the next. */
export type Delta = readonly Change[];

export const EMPTY_DELTA: Delta = Object.freeze([]);

/**
 * Stateful operators keep at most one row per key. A delta is unordered, so before
 * applying one they take its retractions first: then no key ever holds two rows, even
 * when an upstream operator emitted `+new` before `-old`.
 */
export function retractionsFirst(delta: Delta): Delta {
  let sawInsertion = false;
  for (const change of delta) {
    if (change.weight > 0) sawInsertion = true;
    else if (sawInsertion) {
      return [...delta.filter((c) => c.weight < 0), ...delta.filter((c) => c.weight > 0)];
    }
  }
  return delta;
}

/**
 * Makes a delta safe to apply change by change to state that holds at most one row per
 * key: retractions first. An insertion followed, under the same key, by the retraction of
 * an equal row (a row that entered and left within one step) cancels out: the one place
 * where zero weights disappear. A retraction followed by an insertion needs no check:
 * applying them in that order is right whether or not the two rows are equal.
 */
export function consolidate(delta: Delta): Delta {
  if (delta.length < 2) return delta;
  if (delta.length === 2) return consolidatePair(delta[0] as Change, delta[1] as Change, delta);
  if (isOneSigned(delta)) return delta; // nothing can cancel (a registration's initial delta)
  const ordered = retractionsFirst(delta);
  if (ordered === delta) return delta; // already retractions first: nothing to cancel
  const byKey = new Map<string, (Change | undefined)[]>();
  for (const change of delta) {
    const same = byKey.get(change.key);
    if (same === undefined) byKey.set(change.key, [change]);
    else same.push(change);
  }
  const out: Change[] = [];
  for (const changes of byKey.values()) {
    for (let i = 0; i < changes.length; i++) {
      const insertion = changes[i];
      if (insertion === undefined || insertion.weight < 0) continue;
      for (let j = i + 1; j < changes.length; j++) {
        const retraction = changes[j];
        if (retraction !== undefined && retraction.weight === -insertion.weight && isSameRow(insertion, retraction)) {
          changes[i] = undefined;
          changes[j] = undefined;
          break;
        }
      }
    }
    for (const change of changes) if (change !== undefined) out.push(change);
  }
  return retractionsFirst(out);
}

function isSameRow(a: Change, b: Change): boolean {
  return a.row === b.row || equalValues(a.row, b.row);
}

function isOneSigned(delta: Delta): boolean {
  const sign = Math.sign((delta[0] as Change).weight);
  for (const change of delta) if (Math.sign(change.weight) !== sign) return false;
  return true;
}

/** The common delta of one update, `-old +new`, without building an index. */
function consolidatePair(a: Change, b: Change, delta: Delta): Delta {
  if (a.weight < 0 || b.weight > 0) return delta;
  return a.key === b.key && a.weight === -b.weight && isSameRow(a, b) ? EMPTY_DELTA : [b, a];
}
