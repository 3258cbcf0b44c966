import { type ViewDefinition, type ViewParams, type ViewSnapshot, viewSignature } from '../engine/index.js';
import { AppError, unavailable } from './errors.js';

/** What the registry needs from the view host: register and drop views with their histories. */
export interface ViewLifecycle {
  /** Registers a view (circuit + history) at a version never issued before; returns its initial snapshot. */
  addView(definition: ViewDefinition, params: ViewParams): ViewSnapshot;
  /** Unregisters a view and drops its history. */
  removeView(id: string): void;
  /** The engine memory a view holds, approximately (its result, private indexes, state). */
  viewBytes(id: string): number;
}

export interface ViewRegistryOptions {
  /** How long a view created on demand outlives its last subscriber (default 5,000 ms). */
  readonly graceMs?: number;
  /** Views created on demand alive at once, idle ones included (default 10,000). */
  readonly maxViews?: number;
  /**
   * Engine memory, in bytes, that views created on demand may hold together, idle ones
   * included (default: no budget; the server derives one from the heap limit).
   */
  readonly maxViewBytes?: number;
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
  /** Engine memory the view held when last measured (views created on demand only). */
  bytes: number;
}

/** Views re-measured at each new view while far from the budget (round robin). */
const REMEASURED_PER_VIEW = 4;

/**
 * Views by canonical signature (`viewSignature`): live queries whose definitions and
 * parameters are equal after canonicalisation share one engine view, hence one PubSub topic
 * and one history. Views created on demand are reference-counted; when the last lease is
 * released the view stays registered for a grace period (a reconnecting client finds it
 * warm), then it is unregistered with its history. The config's views are pinned.
 *
 * Versions: the host starts every view it adds at a version no earlier view of the same
 * signature exposed with other contents (see `StartVersions`), so a client resuming with
 * `sinceVersion` from a view that was dropped is never sent deltas of its successor.
 */
export class ViewRegistry {
  readonly #host: ViewLifecycle;
  readonly #graceMs: number;
  readonly #maxViews: number;
  readonly #maxViewBytes: number;
  readonly #bySignature = new Map<string, Entry>();
  readonly #byId = new Map<string, Entry>();
  /** Idle on-demand views, oldest first (Map keeps insertion order): evicted first when full. */
  readonly #idle = new Map<string, Entry>();
  #onDemand = 0;
  /** Sum of `bytes` over the views created on demand. */
  #heldBytes = 0;
  #cursor: Iterator<Entry> | undefined;
  #next = 0;
  #closed = false;

  constructor(host: ViewLifecycle, options: ViewRegistryOptions = {}) {
    this.#host = host;
    this.#graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
    this.#maxViews = options.maxViews ?? DEFAULT_MAX_VIEWS;
    this.#maxViewBytes = options.maxViewBytes ?? Number.POSITIVE_INFINITY;
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
      bytes: 0,
    };
    this.#bySignature.set(entry.signature, entry);
    this.#byId.set(id, entry);
  }

  /**
   * A lease on the view `definition` with `params` defines, registering it when no view has
   * its signature (its id is `<name>~<n>`). `origin` is the request before rules were applied.
   * Throws `LIMIT_EXCEEDED` when `maxViews` views created on demand are in use, or when a new
   * view would take their engine memory past `maxViewBytes` (idle views are evicted first).
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
    return new ViewRegistry.#Lease(this, entry);
  }

  /** What `acquire` returns (a class, not a closure: one lives per subscriber). In the class body, so it may call `#release`. */
  static readonly #Lease = class implements Lease {
    readonly id: string;
    #registry: ViewRegistry | undefined;
    readonly #entry: Entry;

    constructor(registry: ViewRegistry, entry: Entry) {
      this.id = entry.id;
      this.#registry = registry;
      this.#entry = entry;
    }

    release(): void {
      const registry = this.#registry;
      this.#registry = undefined;
      if (registry !== undefined) registry.#release(this.#entry);
    }
  };

  /** The request a view was made for; undefined for a view the registry does not hold. */
  origin(id: string): ViewOrigin | undefined {
    return this.#byId.get(id)?.origin;
  }

  /** The signature a view is filed under. */
  signature(id: string): string | undefined {
    return this.#byId.get(id)?.signature;
  }

  /** Counts for tests and monitoring; `viewBytes`: what the views created on demand hold now. */
  stats(): { pinned: number; onDemand: number; idle: number; leases: number; viewBytes: number } {
    let leases = 0;
    for (const entry of this.#byId.values()) leases += entry.refs;
    return {
      pinned: this.#byId.size - this.#onDemand,
      onDemand: this.#onDemand,
      idle: this.#idle.size,
      leases,
      viewBytes: this.#measureAll(),
    };
  }

  /** Cancels the grace timers and unregisters every idle view; later leases are refused. */
  close(): void {
    this.#closed = true;
    for (const entry of [...this.#idle.values()]) this.#drop(entry);
  }

  #create(name: string, definition: ViewDefinition, params: ViewParams, signature: string, origin: ViewOrigin): Entry {
    if (this.#onDemand >= this.#maxViews && !this.#evictIdle()) {
      throw new AppError(
        'LIMIT_EXCEEDED',
        `the server holds its maximum of ${this.#maxViews} live queries; try again later`,
        {
          limit: 'maxViews',
          max: this.#maxViews,
        },
      );
    }
    // Views grow and shrink with the data: the budget is checked against what they hold now.
    const budgeted = this.#maxViewBytes !== Number.POSITIVE_INFINITY;
    if (budgeted) {
      while (this.#held() >= this.#maxViewBytes) if (!this.#evictIdle()) throw this.#overBudget();
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
      bytes: 0,
    };
    this.#bySignature.set(signature, entry);
    this.#byId.set(id, entry);
    this.#onDemand++;
    if (budgeted) {
      this.#measure(entry);
      // What the new view costs is known once it is built: over the budget, idle views make
      // room, or the new view goes again (one view past the budget is the most it overshoots).
      while (this.#held() > this.#maxViewBytes) {
        if (this.#evictIdle()) continue;
        this.#drop(entry);
        throw this.#overBudget();
      }
    }
    return entry;
  }

  /** Drops the oldest idle view; false when none is idle. */
  #evictIdle(): boolean {
    const oldest = this.#idle.values().next();
    if (oldest.done === true) return false;
    this.#drop(oldest.value);
    return true;
  }

  /**
   * What the views created on demand hold. Views grow and shrink with the data, so sizes are
   * re-measured: a few per call (round robin) while far from the budget, all of them near it,
   * where the answer decides; each measure is O(a view's operators).
   */
  #held(): number {
    if (this.#heldBytes >= this.#maxViewBytes / 2) return this.#measureAll();
    for (let i = 0; i < REMEASURED_PER_VIEW; i++) {
      let next = this.#cursor?.next();
      if (next === undefined || next.done === true) {
        this.#cursor = this.#byId.values();
        next = this.#cursor.next();
        if (next.done === true) break;
      }
      if (!next.value.pinned) this.#measure(next.value);
    }
    return this.#heldBytes;
  }

  #measureAll(): number {
    for (const entry of this.#byId.values()) if (!entry.pinned) this.#measure(entry);
    return this.#heldBytes;
  }

  #measure(entry: Entry): void {
    const bytes = this.#host.viewBytes(entry.id);
    this.#heldBytes += bytes - entry.bytes;
    entry.bytes = bytes;
  }

  #overBudget(): AppError {
    const max = this.#maxViewBytes;
    return new AppError(
      'LIMIT_EXCEEDED',
      `live queries hold the server's view memory budget (${max} bytes); try again later`,
      { limit: 'maxViewMemory', max },
    );
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
    this.#heldBytes -= entry.bytes;
    this.#host.removeView(entry.id);
  }
}
