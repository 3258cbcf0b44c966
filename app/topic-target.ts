export type Listener = EventListenerOrEventListenerObject;

/**
 * The in-process event target under the PubSub. Unlike the global `EventTarget` it can say
 * how many listeners each topic has (the leak test reads it), and a listener that throws
 * cannot stop the others: graphql-yoga's PubSub pushes into a per-subscriber queue that
 * throws once 1,024 events wait unread. The error goes to `onListenerError` with the
 * listener, so its subscriber can be told it lost an event (see `ViewStream`).
 */
export class TopicTarget implements EventTarget {
  readonly #topics = new Map<string, Set<Listener>>();
  readonly #onListenerError: (error: unknown, topic: string, listener: Listener) => void;
  #lastAdded: Listener | undefined;

  constructor(onListenerError: (error: unknown, topic: string, listener: Listener) => void) {
    this.#onListenerError = onListenerError;
  }

  addEventListener(type: string, listener: Listener | null): void {
    if (listener === null) return;
    let listeners = this.#topics.get(type);
    if (listeners === undefined) this.#topics.set(type, (listeners = new Set()));
    listeners.add(listener);
    this.#lastAdded = listener;
  }

  /**
   * The listener added last, forgotten once taken. A PubSub subscription adds its listener
   * synchronously on its first `next()`, so a caller reading this right after that call
   * gets its own listener.
   */
  takeLastAdded(): Listener | undefined {
    const listener = this.#lastAdded;
    this.#lastAdded = undefined;
    return listener;
  }

  removeEventListener(type: string, listener: Listener | null): void {
    const listeners = this.#topics.get(type);
    if (listeners === undefined || listener === null) return;
    listeners.delete(listener);
    if (listeners.size === 0) this.#topics.delete(type);
  }

  dispatchEvent(event: Event): boolean {
    const listeners = this.#topics.get(event.type);
    if (listeners === undefined) return true;
    for (const listener of listeners) {
      try {
        if (typeof listener === 'function') listener(event);
        else listener.handleEvent(event);
      } catch (error) {
        this.#onListenerError(error, event.type, listener);
      }
    }
    return true;
  }

  /** Listeners on `topic`, or on every topic when none is given. */
  listenerCount(topic?: string): number {
    if (topic !== undefined) return this.#topics.get(topic)?.size ?? 0;
    let count = 0;
    for (const listeners of this.#topics.values()) count += listeners.size;
    return count;
  }
}
