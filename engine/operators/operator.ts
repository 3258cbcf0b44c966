import type { Delta } from '../zset.js';

/**
 * A DBSP operator: receives a delta of its input and returns the delta of its output.
 * A caller must push every change of the input, in order, exactly once: the operator's
 * state is the integral of what it was pushed, so a skipped delta leaves it wrong for good.
 */
export interface Operator {
  push(delta: Delta): Delta;
  /** Entries of the state it holds (none for a stateless operator) and their approximate heap. */
  held?(): HeldState;
}

export interface HeldState {
  readonly entries: number;
  readonly bytes: number;
}
