import { type ViewDefinition, type ViewParams, type ViewSnapshot, viewSignature } from '../engine/index.js';
import { AppError, unavailable } from './errors.js';

/** What the registry needs from the view host: register and drop views with their histories. */
export interface ViewLifecycle {
  /** Registers a view (circuit + history) at a version never issued before; returns its initial snapshot. */
  addView(definition: ViewDefinition, params: ViewParams): ViewSnapshot;
  /** Unregisters a view and drops its history. */
  removeView(id: string): void;
}

export interface ViewRegistryOptions {
  /** How long a view created on demand outlives its last subscriber (default 5,000 ms). */
  readonly graceMs?: number;
  /** Views created on demand alive at once, idle ones included (default 10,000). */
  readonly maxViews?: number;
}

const DEFAULT_GRACE_MS = 5_000;
const DEFAULT_MAX_VIEWS = 10_000;

/** A hold on a view: its engine id, released exactly once. */
export interface Lease {
  readonly id: string;
  release(): void;
}

/** The request a view was made for, before rules: who else may be told about it. */
export interface ViewOrigin {
  readonly definition: ViewDefinition;
  readonly params: ViewParams;
}

interface Entry {
  readonly id: string;
  readonly signature: string;
  readonly origin: ViewOrigin;
  readonly pinned: boolean;
  refs: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Views by canonical signature (`viewSignature`): live queries whose definitions and
 * parameters are equal after canonicalisation share one engine view, hence one PubSub topic
 * and one history. Views created on demand are reference-counted; when the last lease is
 * released the view stays registered for a grace period (a reconnecting client finds it
 * warm), then it is unregistered with its history. The config's views are pinned.
 *
 * Versions: the host starts every view it adds at a version no earlier view of the same
 * signature exposed (see `VersionClock`), so a client resuming with `sinceVersion` from a view
 * that was dropped is never sent deltas of its successor.
 */
export class ViewRegistry {
  readonly #host: ViewLifecycle;
  readonly #graceMs: number;
  readonly #maxViews: number;
  readonly #bySignature = new Map<string, Entry>();
  readonly #byId = new Map<string, Entry>();
  /** Idle on-demand views, oldest first (Map keeps insertion order): evicted first when full. */
  readonly #idle = new Map<string, Entry>();
  #onDemand = 0;
  #next = 0;
  #closed = false;

  constructor(host: ViewLifecycle, options: ViewRegistryOptions = {}) {
    this.#host = host;
    this.#graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
    this.#maxViews = options.maxViews ?? DEFAULT_MAX_VIEWS;
  }

  /** Files a view registered at start-up under its signature; it is never unregistered. */
  pin(id: string, definition: ViewDefinition): void {
    const entry: Entry = {
      id,
      signature: viewSignature(definition),
      origin: { definition, params: {} },
      pinned: true,
      refs: 0,
      timer: undefined,
    };
    this.#bySignature.set(entry.signature, entry);
    this.#byId.set(id, entry);
  }

  /**
   * A lease on the view `definition` with `params` defines, registering it when no view has
   * its signature (its id is `<name>~<n>`). `origin` is the request before rules were applied.
   * Throws `LIMIT_EXCEEDED` when `maxViews` views created on demand are in use.
   */
  acquire(name: string, definition: ViewDefinition, params: ViewParams, origin: ViewOrigin): Lease {
    if (this.#closed) throw unavailable();
    const signature = viewSignature(definition, params);
    let entry = this.#bySignature.get(signature);
    if (entry === undefined) entry = this.#create(name, definition, params, signature, origin);
    else if (entry.timer !== undefined) {
      clearTimeout(entry.timer);
      entry.timer = undefined;
      this.#idle.delete(entry.id);
    }
    entry.refs++;
    const held = entry;
    let released = false;
    return {
      id: held.id,
      release: () => {
        if (released) return;
        released = true;
        this.#release(held);
      },
    };
  }

  /** The request a view was made for; undefined for a view the registry does not hold. */
  origin(id: string): ViewOrigin | undefined {
    return this.#byId.get(id)?.origin;
  }

  /** The signature a view is filed under. */
  signature(id: string): string | undefined {
    return this.#byId.get(id)?.signature;
  }

  /** Counts for tests and monitoring. */
  stats(): { pinned: number; onDemand: number; idle: number; leases: number } {
    let leases = 0;
    for (const entry of this.#byId.values()) leases += entry.refs;
    return { pinned: this.#byId.size - this.#onDemand, onDemand: this.#onDemand, idle: this.#idle.size, leases };
  }

  /** Cancels the grace timers and unregisters every idle view; later leases are refused. */
  close(): void {
    this.#closed = true;
    for (const entry of [...this.#idle.values()]) this.#drop(entry);
  }

  #create(name: string, definition: ViewDefinition, params: ViewParams, signature: string, origin: ViewOrigin): Entry {
    if (this.#onDemand >= this.#maxViews) {
      const oldest = this.#idle.values().next();
      if (oldest.done === true) {
        throw new AppError(
          'LIMIT_EXCEEDED',
          `the server holds its maximum of ${this.#maxViews} live queries; try again later`,
          {
            limit: 'maxViews',
            max: this.#maxViews,
          },
        );
      }
      this.#drop(oldest.value);
    }
    const id = `${name}~${++this.#next}`;
    this.#host.addView({ ...definition, id }, params);
    const entry: Entry = {
      id,
      signature,
      origin,
      pinned: false,
      refs: 0,
      timer: undefined,
    };
    this.#bySignature.set(signature, entry);
    this.#byId.set(id, entry);
    this.#onDemand++;
    return entry;
  }

  #release(entry: Entry): void {
    entry.refs--;
    if (entry.refs > 0 || entry.pinned) return;
    if (this.#graceMs <= 0 || this.#closed) {
      this.#drop(entry);
      return;
    }
    this.#idle.set(entry.id, entry);
    entry.timer = setTimeout(() => this.#drop(entry), this.#graceMs);
    entry.timer.unref();
  }

  #drop(entry: Entry): void {
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    entry.timer = undefined;
    this.#idle.delete(entry.id);
    if (this.#byId.get(entry.id) !== entry) return;
    this.#byId.delete(entry.id);
    this.#bySignature.delete(entry.signature);
    this.#onDemand--;
    this.#host.removeView(entry.id);
  }
}
