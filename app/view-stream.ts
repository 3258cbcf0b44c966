import type { Repeater } from '@graphql-yoga/subscription';
import type { ViewEvent, ViewHost } from './view-host.js';

/**
 * A subscriber's stream of one view: a SNAPSHOT (or, with `sinceVersion`, the deltas it
 * missed while they are still held), then every DELTA in version order, no gap, no duplicate.
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
export class ViewStream implements AsyncIterableIterator<ViewEvent> {
  readonly #host: ViewHost;
  readonly #view: string;
  readonly #events: Repeater<ViewEvent>;
  readonly #first: Promise<IteratorResult<ViewEvent>>;
  readonly #initial: ViewEvent[];
  readonly #unregister: () => void;
  #onEnd: (() => void) | undefined;
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
    const missed = sinceVersion == null ? undefined : host.history(view)?.since(sinceVersion, snapshot.version);
    this.#initial = missed ?? [snapshot];
    this.#unregister = host.onClose(() => void this.return());
    this.#onEnd = onEnd;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<ViewEvent>> {
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
      if (event.version === this.#version + 1) {
        this.#version = event.version;
        return { done: false, value: event };
      }
      const snapshot = this.#host.snapshotEvent(this.#view);
      this.#version = snapshot.version;
      return { done: false, value: snapshot };
    }
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
