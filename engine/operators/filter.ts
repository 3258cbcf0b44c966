import type { RowTest } from '../predicate.js';
import type { Row } from '../types.js';
import { type Change, type Delta, EMPTY_DELTA } from '../zset.js';
import type { Operator } from './operator.js';

/**
 * Keeps the changes whose row satisfies the predicate. Stateless: a retraction passes iff
 * its row passed when it was inserted, because a row's content never changes in place.
 */
export class Filter implements Operator {
  readonly #test: RowTest;

  constructor(test: RowTest) {
    this.#test = test;
  }

  test(row: Row): boolean {
    return this.#test(row);
  }

  push(delta: Delta): Delta {
    if (delta.length === 1) return this.#test((delta[0] as Change).row) ? delta : EMPTY_DELTA;
    if (delta.length === 2) {
      // An update's `-old +new`: allocate only when exactly one side passes.
      const first = delta[0] as Change;
      const second = delta[1] as Change;
      const keepFirst = this.#test(first.row);
      const keepSecond = this.#test(second.row);
      return keepFirst ? (keepSecond ? delta : [first]) : keepSecond ? [second] : EMPTY_DELTA;
    }
    return delta.filter((change) => this.#test(change.row));
  }
}
