import type { Repeater } from '@graphql-yoga/subscription';
import type { ViewEvent, ViewHost } from './view-host.js';

/**
 * A subscriber's stream of one view: a SNAPSHOT (or, with `sinceVersion`, the deltas it
 * missed while they are still held), then every DELTA in version order, no gap, no duplicate:
 * each DELTA applies to the version the stream reached (`previousVersion` ≤ it < `version`).
 *
 * It listens to the view's topic before it reads the snapshot and drops updates the
 * snapshot already contains. If updates were lost on the way (this subscriber read too
 * slowly and its queue of 1,024 overflowed), its next event is a fresh SNAPSHOT instead of
 * a gap; the queued updates it already holds are then skipped.
 *
 * A plain iterator rather than an async generator: a generator parked on `await` cannot be
 * returned until its next event, so an idle subscriber's listener would outlive it.
 * `return()` here releases the listener at once.
 */
/** How long a stream waits for its instance to reach a client's `sinceVersion` (see `#catchUp`). */
const AHEAD_WAIT_MS = 5000;

export class ViewStream implements AsyncIterableIterator<ViewEvent> {
  readonly #host: ViewHost;
  readonly #view: string;
  readonly #events: Repeater<ViewEvent>;
  readonly #first: Promise<IteratorResult<ViewEvent>>;
  readonly #initial: ViewEvent[];
  readonly #unregister: () => void;
  #onEnd: (() => void) | undefined;
  /** A `sinceVersion` above this instance's position (served by an instance further ahead): read once caught up. */
  #ahead: number | undefined;
  #version: number;
  #started = false;
  #done = false;
  #lost = false;

  /** `onEnd` runs exactly once when the stream ends, however it ends (its lease is released there). */
  constructor(host: ViewHost, view: string, sinceVersion?: number | null, onEnd?: () => void) {
    this.#host = host;
    this.#view = view;
    // Listening from here on: every later update is queued (or reported lost).
    const { events, first } = host.subscribe(view, () => {
      const episode = !this.#lost;
      this.#lost = true;
      return episode;
    });
    this.#events = events;
    this.#first = first;
    const snapshot = host.snapshotEvent(view);
    this.#version = snapshot.version;
    if (sinceVersion != null && sinceVersion > snapshot.version) {
      this.#ahead = sinceVersion;
      this.#initial = [];
    } else {
      const missed = sinceVersion == null ? undefined : host.history(view)?.since(sinceVersion, snapshot.version);
      this.#initial = missed ?? [snapshot];
    }
    this.#unregister = host.onClose(() => void this.return());
    this.#onEnd = onEnd;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<ViewEvent>> {
    if (this.#ahead !== undefined) await this.#catchUp(this.#ahead);
    const initial = this.#initial.shift();
    if (initial !== undefined) return { done: false, value: initial };
    for (;;) {
      if (this.#done) return { done: true, value: undefined };
      if (this.#lost) {
        this.#lost = false;
        const snapshot = this.#host.snapshotEvent(this.#view);
        this.#version = snapshot.version;
        return { done: false, value: snapshot };
      }
      const result = this.#started ? await this.#events.next() : await this.#first;
      this.#started = true;
      if (result.done === true) return this.return();
      const event = result.value;
      if (event.version <= this.#version) continue;
      if ((event.previousVersion ?? event.version - 1) <= this.#version) {
        this.#version = event.version;
        return { done: false, value: event };
      }
      const snapshot = this.#host.snapshotEvent(this.#view);
      this.#version = snapshot.version;
      return { done: false, value: snapshot };
    }
  }

  /**
   * A client resuming with a version this instance has not reached yet (it came from an
   * instance further along the shared log): wait until this one has, then serve the deltas
   * after it as usual — rather than a SNAPSHOT older than the client's copy. If it does not
   * catch up within `AHEAD_WAIT_MS`, the current SNAPSHOT.
   */
  async #catchUp(since: number): Promise<void> {
    this.#ahead = undefined;
    let caughtUp = true;
    try {
      await this.#host.caughtUp(since, AHEAD_WAIT_MS);
    } catch {
      caughtUp = false;
    }
    const snapshot = this.#host.snapshotEvent(this.#view);
    this.#version = snapshot.version;
    const missed = caughtUp ? this.#host.history(this.#view)?.since(since, snapshot.version) : undefined;
    this.#initial.push(...(missed ?? [snapshot]));
  }

  async return(): Promise<IteratorResult<ViewEvent>> {
    if (!this.#done) {
      this.#done = true;
      this.#initial.length = 0;
      this.#unregister();
      const end = this.#onEnd;
      this.#onEnd = undefined;
      try {
        await this.#events.return();
      } finally {
        end?.();
      }
    }
    return { done: true, value: undefined };
  }

  async throw(error?: unknown): Promise<IteratorResult<ViewEvent>> {
    await this.return();
    throw error;
  }
}
