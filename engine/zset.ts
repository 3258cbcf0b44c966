import type { Row } from './types.js';
import { equalValues } from './values.js';

/** One weighted row of a Z-set: +1 inserts the row under its key, -1 retracts it. */
export interface Change {
  readonly key: string;
  readonly row: Row;
  readonly weight: number;
  /** The row's content hash, memoised by the first view that needs it (views share changes). */
  hash?: number;
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

/** Appends `changes` to `into` without spreading (deltas can be large at registration). */
export function appendDelta(into: Change[], changes: Delta): void {
  for (const change of changes) into.push(change);
}

/**
 * Cancels each retraction against an insertion of an equal row under the same key and
 * puts retractions first: the one place where zero weights disappear. Stateful operators
 * and the view's result apply only consolidated deltas.
 */
export function consolidate(delta: Delta): Delta {
  if (delta.length < 2) return delta;
  if (delta.length === 2) return consolidatePair(delta[0] as Change, delta[1] as Change, delta);
  if (isOneSigned(delta)) return delta; // nothing can cancel (a registration's initial delta)
  const byKey = new Map<string, Change[]>();
  let repeated = false;
  for (const change of delta) {
    const same = byKey.get(change.key);
    if (same === undefined) byKey.set(change.key, [change]);
    else {
      same.push(change);
      repeated = true;
    }
  }
  if (!repeated) return retractionsFirst(delta);
  const out: Change[] = [];
  for (const changes of byKey.values()) {
    const alive: (Change | undefined)[] = changes;
    for (let i = 0; i < alive.length; i++) {
      const a = alive[i];
      if (a === undefined) continue;
      for (let j = i + 1; j < alive.length; j++) {
        const b = alive[j];
        if (b !== undefined && a.weight === -b.weight && (a.row === b.row || equalValues(a.row, b.row))) {
          alive[i] = undefined;
          alive[j] = undefined;
          break;
        }
      }
    }
    for (const change of alive) if (change !== undefined) out.push(change);
  }
  return retractionsFirst(out);
}

function isOneSigned(delta: Delta): boolean {
  const sign = Math.sign((delta[0] as Change).weight);
  for (const change of delta) if (Math.sign(change.weight) !== sign) return false;
  return true;
}

/** The common delta of one update, `-old +new`, without building an index. */
function consolidatePair(a: Change, b: Change, delta: Delta): Delta {
  if (a.key === b.key && a.weight === -b.weight && (a.row === b.row || equalValues(a.row, b.row))) return EMPTY_DELTA;
  return a.weight > 0 && b.weight < 0 ? [b, a] : delta;
}
