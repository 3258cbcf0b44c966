import type { ViewEvent } from './view-host.js';

/** One subscription of a view's topic (a `ViewStream`). */
export interface Subscriber {
  /** Takes one event, in publish order; must not throw (a throw is logged and the others still get it). */
  deliver(event: ViewEvent): void;
  /** The host closed: end the subscription. */
  close(): void;
}

/** Events a subscriber that does not read may have waiting; past it they are dropped for a fresh SNAPSHOT. */
export const MAX_QUEUED_EVENTS = 1024;
/** How long one delivery slice may run before it yields to the event loop (the next writes, replies). */
const SLICE_MS = 4;
/** Deliveries between two looks at the clock (a look costs about as much as a delivery). */
const CHECK_EVERY = 32;

interface Job {
  readonly event: ViewEvent;
  readonly subscribers: Iterator<Subscriber>;
}

/**
 * The topics of the views and the delivery of their events: one set of subscribers per view,
 * and `publish` only queues. Delivery runs behind, in slices of about 4 ms scheduled with
 * `setImmediate`, so the write that produced an event is answered first and a fan-out to
 * thousands of subscribers never holds the next writes for its whole length.
 *
 * Events are delivered in publish order (a view's in version order). A slice walks a live
 * iterator of the view's set: a subscriber that leaves meanwhile is skipped, one that joins
 * meanwhile also gets the event, which its snapshot already holds (it drops it by version).
 */
export class Fanout {
  readonly #topics = new Map<string, Set<Subscriber>>();
  readonly #jobs: Job[] = [];
  #head = 0;
  #scheduled = false;
  readonly #onError: (error: unknown, view: string) => void;

  constructor(onError: (error: unknown, view: string) => void) {
    this.#onError = onError;
  }

  add(view: string, subscriber: Subscriber): void {
    let subscribers = this.#topics.get(view);
    if (subscribers === undefined) this.#topics.set(view, (subscribers = new Set()));
    subscribers.add(subscriber);
  }

  remove(view: string, subscriber: Subscriber): void {
    const subscribers = this.#topics.get(view);
    if (subscribers === undefined) return;
    subscribers.delete(subscriber);
    if (subscribers.size === 0) this.#topics.delete(view);
  }

  /** Queues `event` for every subscriber of its view (nothing when it has none). */
  publish(event: ViewEvent): void {
    const subscribers = this.#topics.get(event.view);
    if (subscribers === undefined) return;
    this.#jobs.push({ event, subscribers: subscribers.values() });
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#run);
    }
  }

  /** Subscribers of one view, or of every view. */
  count(view?: string): number {
    if (view !== undefined) return this.#topics.get(view)?.size ?? 0;
    let count = 0;
    for (const subscribers of this.#topics.values()) count += subscribers.size;
    return count;
  }

  /** Every subscriber is told to close, and the queued deliveries are dropped. */
  close(): void {
    this.#jobs.length = 0;
    this.#head = 0;
    const all = [...this.#topics.values()].flatMap((subscribers) => [...subscribers]);
    this.#topics.clear();
    for (const subscriber of all) subscriber.close();
  }

  readonly #run = (): void => {
    this.#scheduled = false;
    const until = performance.now() + SLICE_MS;
    let sinceCheck = 0;
    while (this.#head < this.#jobs.length) {
      const job = this.#jobs[this.#head] as Job;
      for (;;) {
        const step = job.subscribers.next();
        if (step.done === true) break;
        try {
          step.value.deliver(job.event);
        } catch (error) {
          this.#onError(error, job.event.view);
        }
        if (++sinceCheck === CHECK_EVERY) {
          sinceCheck = 0;
          if (performance.now() >= until) {
            this.#scheduled = true;
            setImmediate(this.#run);
            return;
          }
        }
      }
      this.#jobs[this.#head++] = undefined as unknown as Job;
    }
    this.#jobs.length = 0;
    this.#head = 0;
  };
}
