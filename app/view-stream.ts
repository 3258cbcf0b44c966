import { MAX_QUEUED_EVENTS, type Subscriber } from './fanout.js';
import type { ViewEvent, ViewHost } from './view-host.js';

const NO_EVENTS: readonly ViewEvent[] = [];

/** How long a stream waits for its instance to reach a client's `sinceVersion` (see `#catchUp`). */
const AHEAD_WAIT_MS = 5000;

/**
 * Where a pushed stream writes its events as they come (see `ViewStream.push`): a transport
 * that can write to its connection at once, without a pull per event.
 */
export interface EventSink {
  /**
   * Writes one event. A SNAPSHOT is always written; a DELTA may be refused (false) when the
   * connection is too far behind: the stream then drops DELTAs until `whenDrained` calls
   * back, and writes a fresh SNAPSHOT then (the client's copy jumps, it never has a gap).
   */
  write(event: ViewEvent): boolean;
  /** Calls `callback` once, when the connection has written what it held. */
  whenDrained(callback: () => void): void;
  /** The stream ended (returned, or its host closed): nothing more comes. */
  end(): void;
}

/**
 * A subscriber's stream of one view: a SNAPSHOT (or, with `sinceVersion`, the deltas it
 * missed while they are still held), then every DELTA in version order, no gap, no duplicate:
 * each DELTA applies to the version the stream reached (`previousVersion` ≤ it < `version`).
 *
 * It joins the view's topic before it reads the snapshot and drops updates the snapshot
 * already contains. Updates wait in a plain array until read; if more than
 * `MAX_QUEUED_EVENTS` wait (the subscriber does not read), they are dropped and its next
 * event is a fresh SNAPSHOT instead of a gap.
 *
 * Read either by pulling (`next()`, as an async iterator) or pushed to an `EventSink`
 * (`push`), which takes each event when it is delivered, with no promise per event.
 * `return()` leaves the topic at once, whatever the stream is waiting for.
 */
export class ViewStream implements AsyncIterableIterator<ViewEvent>, Subscriber {
  readonly #host: ViewHost;
  readonly #view: string;
  /** The SNAPSHOT or the missed deltas, served before any update (none once served: a pushed stream holds no array). */
  #initial: ViewEvent[] | undefined;
  /** Delivered updates not read yet (pull), or delivered before `push`. */
  #queue: ViewEvent[] | undefined;
  #onEnd: { ended(): void } | undefined;
  /** A `sinceVersion` above this instance's position (served by an instance further ahead): read once caught up. */
  #ahead: number | undefined;
  #version: number;
  #done = false;
  /** Updates were dropped (queue overflow, or a sink too far behind): the next event is a SNAPSHOT. */
  #lost = false;
  /** Wakes a `next()` waiting for an update. */
  #wake: (() => void) | undefined;
  #sink: EventSink | undefined;

  /** `onEnd.ended()` runs exactly once when the stream ends, however it ends (its lease is released there). */
  constructor(host: ViewHost, view: string, sinceVersion?: number | null, onEnd?: { ended(): void }) {
    this.#host = host;
    this.#view = view;
    this.#onEnd = onEnd;
    // Listening from here on: every later update is delivered to this stream.
    const listening = host.listen(view, this);
    const snapshot = host.snapshotEvent(view);
    this.#version = snapshot.version;
    if (sinceVersion != null && sinceVersion > snapshot.version) {
      this.#ahead = sinceVersion;
      this.#initial = [];
    } else {
      const missed = sinceVersion == null ? undefined : host.history(view)?.since(sinceVersion, snapshot.version);
      this.#initial = missed ?? [snapshot];
    }
    if (!listening) void this.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Called by the view's topic with each update (see `Fanout`). */
  deliver(event: ViewEvent): void {
    if (this.#done) return;
    if (this.#sink !== undefined) this.#emit(event);
    else if (this.#lost) return;
    else if ((this.#queue ??= []).push(event) > MAX_QUEUED_EVENTS) {
      this.#queue = undefined;
      this.#lost = true;
      this.#host.lost(this.#view);
    } else this.#wake?.();
  }

  close(): void {
    void this.return();
  }

  async next(): Promise<IteratorResult<ViewEvent>> {
    if (this.#ahead !== undefined) await this.#catchUp(this.#ahead);
    const initial = this.#initial?.shift();
    if (initial !== undefined) return { done: false, value: initial };
    for (;;) {
      if (this.#done) return { done: true, value: undefined };
      if (this.#lost) return { done: false, value: this.#resync() };
      const event = this.#queue?.shift();
      if (event === undefined) {
        await new Promise<void>((resolve) => (this.#wake = resolve));
        this.#wake = undefined;
        continue;
      }
      const next = this.#follow(event);
      if (next !== undefined) return { done: false, value: next };
    }
  }

  /**
   * From now on each event goes to `sink` as it is delivered (those waiting go first) instead of
   * to `next()`, until the stream ends (`sink.end()`) or `unpush` goes back to pulling.
   */
  push(sink: EventSink): void {
    if (this.#ahead !== undefined) {
      void this.#catchUp(this.#ahead).then(() => this.push(sink));
      return;
    }
    if (this.#done) {
      sink.end();
      return;
    }
    this.#sink = sink;
    const initial = this.#initial ?? NO_EVENTS;
    const queued = this.#queue ?? NO_EVENTS;
    this.#initial = undefined;
    this.#queue = undefined;
    if (this.#lost) this.#write(sink, this.#resync());
    else {
      for (let i = 0; i < initial.length && !this.#lost; i++) {
        // Gone back to pulling midway (see `unpush`): the rest waits for `next()`.
        if (this.#sink !== sink) {
          this.#initial = initial.slice(i);
          break;
        }
        this.#write(sink, initial[i] as ViewEvent);
      }
    }
    for (const event of queued) {
      if (this.#sink !== sink) (this.#queue ??= []).push(event);
      else this.#emit(event);
    }
  }

  /** Back to `next()`: later events wait in the queue (the sink wants them through the iterator). */
  unpush(): void {
    this.#sink = undefined;
  }

  /** A pushed update: written if it follows the stream's version, replaced by a SNAPSHOT if it does not. */
  #emit(event: ViewEvent): void {
    if (this.#lost) return; // behind: a SNAPSHOT follows once the connection drained
    const next = this.#follow(event);
    if (next !== undefined) this.#write(this.#sink as EventSink, next);
  }

  #write(sink: EventSink, event: ViewEvent): void {
    if (sink.write(event)) return;
    this.#lost = true;
    sink.whenDrained(() => {
      if (this.#done || this.#sink !== sink || !this.#lost) return;
      this.#lost = false;
      sink.write(this.#resync());
    });
  }

  /** What to send for `event`: nothing (the stream has it), itself, or a SNAPSHOT when it does not follow. */
  #follow(event: ViewEvent): ViewEvent | undefined {
    if (event.version <= this.#version) return undefined;
    if ((event.previousVersion ?? event.version - 1) <= this.#version) {
      this.#version = event.version;
      return event;
    }
    return this.#resync();
  }

  #resync(): ViewEvent {
    this.#lost = false;
    const snapshot = this.#host.snapshotEvent(this.#view);
    this.#version = snapshot.version;
    return snapshot;
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
    if (this.#done) return;
    const snapshot = this.#host.snapshotEvent(this.#view);
    this.#version = snapshot.version;
    // Updates delivered while waiting are in the snapshot or follow it (`#follow` sorts them out).
    const missed = caughtUp ? this.#host.history(this.#view)?.since(since, snapshot.version) : undefined;
    (this.#initial ??= []).push(...(missed ?? [snapshot]));
  }

  async return(): Promise<IteratorResult<ViewEvent>> {
    if (!this.#done) {
      this.#done = true;
      this.#initial = undefined;
      this.#queue = undefined;
      const sink = this.#sink;
      this.#sink = undefined;
      this.#host.unlisten(this.#view, this);
      this.#wake?.();
      sink?.end();
      const end = this.#onEnd;
      this.#onEnd = undefined;
      end?.ended();
    }
    return { done: true, value: undefined };
  }

  async throw(error?: unknown): Promise<IteratorResult<ViewEvent>> {
    await this.return();
    throw error;
  }
}
