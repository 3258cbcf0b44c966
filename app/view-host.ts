import {
  type Circuit,
  type Record,
  type Row,
  type ViewDefinition,
  type ViewParams,
  type ViewSnapshot,
  type ViewUpdate,
  viewSignature,
} from '../engine/index.js';
import { unavailable, withAppErrors } from './errors.js';
import { Fanout, MAX_QUEUED_EVENTS, type Subscriber } from './fanout.js';
import type { AppObserver } from './observer.js';
import { StartVersions } from './start-versions.js';
import { UpdateHistory } from './update-history.js';

/** What a subscriber receives: a whole result (SNAPSHOT) or a change to it (DELTA). */
export interface ViewEvent {
  readonly view: string;
  readonly version: number;
  /**
   * DELTA: the version it applies to — a copy at any version from this one up to (not
   * including) `version` takes it; anything else is a gap. Null on a SNAPSHOT. With SQLite it is
   * always `version - 1`; over PostgreSQL versions are log positions and rise with gaps.
   */
  readonly previousVersion: number | null;
  readonly kind: 'SNAPSHOT' | 'DELTA';
  readonly added: readonly Row[];
  readonly updated: readonly Row[];
  readonly removed: readonly string[];
  readonly hash: string;
}

export interface Logger {
  info?(message: string, fields?: object): void;
  warn(message: string, fields?: object): void;
  error?(message: string, fields?: object): void;
}

/**
 * What the host needs of a version clock: `now()`, a version at least every view's, and `base`,
 * where this run started counting (no earlier run issued a version above it). New views start
 * between the two (see `StartVersions`).
 */
export interface ViewClock {
  readonly base: number;
  now(): number;
}

export interface ViewHostOptions {
  historySize?: number;
  logger?: Logger | undefined;
  /**
   * Versions are change-log positions, the same on every instance (PostgreSQL): a view's
   * version is the position of the transaction that last changed it, and a snapshot carries the
   * position applied so far (`clock.now()`; the view did not change since its last update).
   * Updates come to `publish` with their transaction's position as `version`.
   */
  logVersions?: boolean;
  /** Log versions: resolves once the instance applied the log up to `version` (or rejects). */
  reached?: ((version: number) => Promise<void>) | undefined;
}

const DEFAULT_HISTORY_SIZE = 1000;

/**
 * The engine's views as subscribers see them: reads of the current results, one topic per
 * view carrying its DELTAs (`Fanout`: delivered behind the write that made them), and a bounded history per view for
 * `sinceVersion`. Views created on demand start where `StartVersions` says: never at a version
 * an earlier view of their signature issued with other contents, and never at a number that
 * counts other viewers' writes.
 *
 * After `stop(error)` (a failed COMMIT left the engine ahead of the file) every read throws:
 * no client may see a change that is not durable.
 */
export class ViewHost {
  readonly #circuit: Circuit;
  readonly #clock: ViewClock;
  readonly #historySize: number;
  readonly #fanout: Fanout;
  readonly #logger: Logger | undefined;
  readonly #histories = new Map<string, UpdateHistory<ViewEvent>>();
  readonly #starts: StartVersions;
  /** Views added with `addView`: their signature and latest version, for `StartVersions.retire`. */
  readonly #added = new Map<string, { readonly signature: string; version: number }>();
  readonly #closers = new Set<() => void>();
  #closed = false;
  #failed: unknown;
  #observer: AppObserver | undefined;
  /** Each view's version as of its last update (or registration): the next update's `previousVersion`. */
  readonly #versions = new Map<string, number>();
  /** The last SNAPSHOT event handed out per view (see `snapshotEvent`). */
  readonly #snapshotEvents = new Map<string, WeakRef<ViewEvent>>();
  readonly #logVersions: boolean;
  readonly #reached: ((version: number) => Promise<void>) | undefined;

  constructor(circuit: Circuit, clock: ViewClock, options: ViewHostOptions = {}) {
    this.#circuit = circuit;
    this.#clock = clock;
    this.#logVersions = options.logVersions === true;
    this.#reached = options.reached;
    this.#historySize = options.historySize ?? DEFAULT_HISTORY_SIZE;
    this.#starts = new StartVersions(clock.base);
    const logger = options.logger;
    this.#logger = logger;
    this.#fanout = new Fanout((error, view) =>
      (logger?.error ?? logger?.warn)?.call(logger, 'delivering an update failed', { view, error }),
    );
  }

  /** Starts the history of a view registered at start-up (the config's views). */
  adopt(view: string): void {
    const { version } = this.snapshot(view);
    this.#histories.set(view, new UpdateHistory(this.#historySize, version));
    this.#versions.set(view, version);
  }

  /** Registers a view at its start version (`StartVersions`), with a history of its own; returns its snapshot. */
  addView(definition: ViewDefinition, params: ViewParams): ViewSnapshot {
    this.#readable();
    const signature = viewSignature(definition, params);
    const startVersion = this.#starts.start(signature, this.#clock.now());
    const snapshot = withAppErrors(() => this.#circuit.registerView(definition, params, { startVersion }));
    // Log versions: the result as of the applied position, whatever the engine counts.
    const version = this.#logVersions ? this.#clock.now() : snapshot.version;
    this.#histories.set(definition.id, new UpdateHistory(this.#historySize, version));
    this.#versions.set(definition.id, version);
    this.#added.set(definition.id, { signature, version });
    return { ...snapshot, version };
  }

  /** The engine memory a view holds, approximately (`Circuit.viewStats`). */
  viewBytes(id: string): number {
    return this.#circuit.viewStats(id).approxBytes;
  }

  /** Unregisters a view added with `addView`, and drops its history. */
  removeView(id: string): void {
    this.#histories.delete(id);
    this.#snapshotEvents.delete(id);
    this.#versions.delete(id);
    const added = this.#added.get(id);
    this.#added.delete(id);
    if (added !== undefined) this.#starts.retire(added.signature, added.version);
    if (this.#failed === undefined) this.#circuit.unregisterView(id);
  }

  /** Reports every publish to `observer` from now on (metrics). */
  observe(observer: AppObserver): void {
    this.#observer = observer;
  }

  /** Records and publishes committed updates, each on its view's topic. */
  publish(updates: readonly ViewUpdate[]): void {
    if (updates.length === 0) return;
    const started = this.#observer === undefined ? 0 : performance.now();
    for (const update of updates) {
      const event: ViewEvent = {
        view: update.view,
        version: update.version,
        previousVersion: this.#versions.get(update.view) ?? update.version - 1,
        kind: 'DELTA',
        added: update.added,
        updated: update.updated,
        removed: update.removed,
        hash: update.hash,
      };
      this.#versions.set(update.view, update.version);
      this.#histories.get(update.view)?.push(event);
      const added = this.#added.get(update.view);
      if (added !== undefined) added.version = update.version;
      this.#fanout.publish(event);
    }
    this.#observer?.published(updates.length, (performance.now() - started) / 1000);
  }

  snapshot(view: string): ViewSnapshot {
    this.#readable();
    const snapshot = this.#circuit.snapshot(view);
    return this.#logVersions ? { ...snapshot, version: this.#clock.now() } : snapshot;
  }

  /**
   * Resolves once this instance's views include every change up to `version` — at once unless
   * versions are log positions and the instance is behind (a client resuming here with a
   * version another instance served). Rejects after `timeoutMs`.
   */
  async caughtUp(version: number, timeoutMs: number): Promise<void> {
    if (!this.#logVersions || this.#reached === undefined || version <= this.#clock.now()) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.#reached(version),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`not caught up to version ${version}`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The view's current result as a SNAPSHOT event. */
  snapshotEvent(view: string): ViewEvent {
    this.#readable();
    // Subscribers joining at one version get one event object, so its execution and JSON are
    // made once for them all (see useSharedEventExecution), and its rows are built once: a
    // reconnecting crowd costs one SNAPSHOT, not one each. Held weakly: no view's rows are kept
    // alive for this. (With log versions, one log position is one content of every view.)
    const current = this.#logVersions ? this.#clock.now() : this.#circuit.viewVersion(view);
    const last = this.#snapshotEvents.get(view)?.deref();
    if (last !== undefined && last.version === current) return last;
    const { version, rows, hash } = this.snapshot(view);
    const event: ViewEvent = {
      view,
      version,
      previousVersion: null,
      kind: 'SNAPSHOT',
      added: rows,
      updated: [],
      removed: [],
      hash,
    };
    this.#snapshotEvents.set(view, new WeakRef(event));
    return event;
  }

  record(table: string, id: string): Record | undefined {
    this.#readable();
    return this.#circuit.getRecord(table, id);
  }

  /** Every record of a table (as the engine holds it, which equals the committed store). */
  records(table: string): IterableIterator<Record> {
    this.#readable();
    return this.#circuit.records(table);
  }

  /**
   * Delivers the view's updates to `subscriber` from now on (see `Fanout`); false when the host
   * is closed (nothing will come).
   */
  listen(view: string, subscriber: Subscriber): boolean {
    if (this.#closed) return false;
    this.#fanout.add(view, subscriber);
    return true;
  }

  unlisten(view: string, subscriber: Subscriber): void {
    this.#fanout.remove(view, subscriber);
  }

  /** A subscriber read too slowly and lost updates (it gets a fresh SNAPSHOT); logged once per episode by the caller. */
  lost(view: string): void {
    this.#logger?.warn(
      `a subscriber fell ${MAX_QUEUED_EVENTS.toLocaleString('en-US')} updates behind; it gets a fresh SNAPSHOT`,
      { view },
    );
  }

  /** Updates held for `sinceVersion`, or undefined for an unknown view. */
  history(view: string): UpdateHistory<ViewEvent> | undefined {
    return this.#histories.get(view);
  }

  /** Live subscriber listeners on one view, or on all views. */
  listenerCount(view?: string): number {
    return this.#fanout.count(view);
  }

  /** The engine's counts (views, routes, index entries, records), for leak checks. */
  engineStats(): ReturnType<Circuit['stats']> {
    return this.#circuit.stats();
  }

  /** Runs `callback` when the host closes (now, if it is closed); returns an unregister. */
  onClose(callback: () => void): () => void {
    if (this.#closed) {
      callback();
      return () => undefined;
    }
    this.#closers.add(callback);
    return () => this.#closers.delete(callback);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Ends every live stream (subscribers see `complete`). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#fanout.close();
    for (const callback of this.#closers) callback();
    this.#closers.clear();
  }

  /** The engine can no longer be trusted (a COMMIT failed): refuse every read, end every stream. */
  stop(error: unknown): void {
    this.#failed ??= error ?? new Error('stopped');
    this.close();
  }

  #readable(): void {
    if (this.#failed !== undefined)
      throw unavailable('the server stopped after a failed commit: retry once it restarted');
  }
}
