import { StoreError } from './errors.js';
import type { Store, StoreChange, StoreTransaction } from './types.js';

/**
 * Group commit. A `Store` is synchronous, so a commit blocks the event loop and nothing can
 * queue "during" it; what we can batch is every request submitted before the flush runs.
 * `submit` queues a request and schedules one flush with `setImmediate` (or `setTimeout` with
 * `delayMs`): all requests that arrive in the same event-loop turn — e.g. every HTTP/WebSocket
 * message read in one poll phase — are committed in ONE transaction, and each caller's promise
 * resolves (or rejects) after that transaction committed (or failed).
 *
 * The flush, for the whole group, in one synchronous run (nothing else can observe the state
 * in between):
 *   BEGIN
 *   begin(requests)                 — optional, e.g. writes that must cover the whole group
 *   for each request, in arrival order, inside its own SAVEPOINT:
 *     result = stage(request, tx)   — writes with tx.write(...); a throw rejects this request
 *                                     alone and rolls back only its writes
 *   COMMIT
 *   committed(staged)               — e.g. publish the view updates, in commit order
 *   resolve each promise with its result
 * If the COMMIT (or the whole transaction) fails, `commitFailed(error, staged)` is called and
 * every staged request is rejected: none of them is in the file.
 *
 * With the engine, the stage of a request should be: `tx.write(changes)` then
 * `circuit.ingestBatch(changes)` (validate + apply, all or nothing). An engine error throws out
 * of the stage: the savepoint undoes the write, the engine is unchanged, the caller gets the
 * error. Later requests of the group see the engine state left by earlier ones, so validation
 * is exact (two CREATEs of one id in a group: the second gets CONFLICT). Only a failing COMMIT
 * (disk full, I/O error) leaves the engine ahead of the file; `commitFailed` must then treat
 * the engine as lost (exit, or rebuild it from the store). No caller was acknowledged, and
 * nothing was published, so no client ever saw a change that is not durable.
 */
export interface GroupCommitOptions<Req, Res> {
  /**
   * Runs first in the group's transaction, outside any request's savepoint, so what it writes
   * is kept whichever requests are refused. If it throws, the whole group fails (`commitFailed`).
   */
  begin?: (requests: readonly Req[]) => void;
  /** Runs one request inside the group's transaction. Default: `tx.write(request)`. */
  stage?: (request: Req, tx: StoreTransaction) => Res;
  /**
   * Called synchronously after the group committed, before any promise resolves. If it throws,
   * the promises still settle, then the error propagates out of the flush (from `setImmediate`:
   * an uncaught exception), since it means the caller's state is broken.
   */
  committed?: (staged: readonly { request: Req; result: Res }[]) => void;
  /** Called when the group's transaction failed as a whole; every staged request is then rejected with `error`. */
  commitFailed?: (error: unknown, staged: readonly Req[]) => void;
  /** Wait this long (ms) for more requests before flushing. Default 0: flush on `setImmediate`. */
  delayMs?: number;
  /** Flush at once (synchronously, inside `submit`) when this many requests are queued. Default 1000. */
  maxGroup?: number;
}

export interface GroupCommitStats {
  /** transactions committed or attempted */
  groups: number;
  /** requests resolved */
  committed: number;
  /** requests rejected (by their stage, or with a failed group) */
  rejected: number;
  /** the largest group so far */
  largestGroup: number;
}

interface Pending<Req, Res> {
  readonly request: Req;
  readonly resolve: (result: Res) => void;
  readonly reject: (error: unknown) => void;
}

export class GroupCommitter<Req = readonly StoreChange[], Res = void> {
  readonly #store: Store;
  readonly #begin: GroupCommitOptions<Req, Res>['begin'];
  readonly #stage: (request: Req, tx: StoreTransaction) => Res;
  readonly #committed: GroupCommitOptions<Req, Res>['committed'];
  readonly #commitFailed: GroupCommitOptions<Req, Res>['commitFailed'];
  readonly #delayMs: number;
  readonly #maxGroup: number;
  #queue: Pending<Req, Res>[] = [];
  #scheduled: NodeJS.Immediate | NodeJS.Timeout | undefined;
  #closed = false;
  readonly stats: GroupCommitStats = { groups: 0, committed: 0, rejected: 0, largestGroup: 0 };

  constructor(store: Store, options: GroupCommitOptions<Req, Res> = {}) {
    this.#store = store;
    this.#begin = options.begin;
    this.#stage = options.stage ?? ((request, tx) => tx.write(request as readonly StoreChange[]) as Res);
    this.#committed = options.committed;
    this.#commitFailed = options.commitFailed;
    this.#delayMs = options.delayMs ?? 0;
    this.#maxGroup = Math.max(1, options.maxGroup ?? 1000);
  }

  /** Number of requests waiting for the next flush. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Queues a request; resolves with its stage's result once its group committed. */
  submit(request: Req): Promise<Res> {
    if (this.#closed) return Promise.reject(new StoreError('CLOSED', 'the group committer is closed'));
    return new Promise<Res>((resolve, reject) => {
      this.#queue.push({ request, resolve, reject });
      if (this.#queue.length >= this.#maxGroup) this.flush();
      else this.#schedule();
    });
  }

  /** Commits everything queued now, synchronously (promises settle on the next microtasks). */
  flush(): void {
    this.#unschedule();
    while (this.#queue.length > 0) {
      const group = this.#queue.splice(0, this.#maxGroup);
      this.#commitGroup(group);
    }
  }

  /** Flushes what is queued and refuses further requests. Does not close the store. */
  close(): void {
    this.flush();
    this.#closed = true;
  }

  #schedule(): void {
    if (this.#scheduled !== undefined) return;
    const run = () => {
      this.#scheduled = undefined;
      this.flush();
    };
    this.#scheduled = this.#delayMs > 0 ? setTimeout(run, this.#delayMs) : setImmediate(run);
  }

  #unschedule(): void {
    if (this.#scheduled === undefined) return;
    if (this.#delayMs > 0) clearTimeout(this.#scheduled as NodeJS.Timeout);
    else clearImmediate(this.#scheduled as NodeJS.Immediate);
    this.#scheduled = undefined;
  }

  #commitGroup(group: Pending<Req, Res>[]): void {
    this.stats.groups++;
    this.stats.largestGroup = Math.max(this.stats.largestGroup, group.length);
    const staged: { pending: Pending<Req, Res>; result: Res }[] = [];
    const rejected: { pending: Pending<Req, Res>; error: unknown }[] = [];
    try {
      this.#store.transaction((tx) => {
        this.#begin?.(group.map((pending) => pending.request));
        for (const pending of group) {
          try {
            staged.push({ pending, result: tx.savepoint(() => this.#stage(pending.request, tx)) });
          } catch (error) {
            if (error instanceof StoreError && error.code === 'TRANSACTION_ABORTED') throw error;
            rejected.push({ pending, error });
          }
        }
      });
    } catch (error) {
      // The whole group failed: nothing of it is in the file. Requests already rejected by
      // their stage keep their own error; every other one gets the group's error.
      const failed = group.filter((p) => !rejected.some((r) => r.pending === p));
      this.stats.rejected += group.length;
      try {
        this.#commitFailed?.(
          error,
          staged.map((s) => s.pending.request),
        );
      } finally {
        for (const { pending, error: own } of rejected) pending.reject(own);
        for (const pending of failed) pending.reject(error);
      }
      return;
    }
    this.stats.committed += staged.length;
    this.stats.rejected += rejected.length;
    try {
      this.#committed?.(staged.map((s) => ({ request: s.pending.request, result: s.result })));
    } finally {
      for (const { pending, error } of rejected) pending.reject(error);
      for (const { pending, result } of staged) pending.resolve(result);
    }
  }
}
