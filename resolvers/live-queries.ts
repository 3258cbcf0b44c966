import { GraphQLError } from 'graphql';
import { viewSignature, type Record, type Row, type ViewDefinition, type ViewParams, type ViewUpdate } from '../engine/index.js';
import { bindRule, ruleHolds, scopeView, type Rule, type RuleKind, type Viewer } from '../config/rules.js';
import { engineDefinition, hasParams } from '../config/types.js';
import type { ConnectionState, RequestContext } from '../schema/index.js';
import { DEFAULT_LIMITS, limitExceeded, type LiveQueryLimits } from './live-query-input.js';
import type { Authorize, LiveStore, ResolvedChange, ViewEvent } from './live-store.js';
import { ViewStream } from './view-stream.js';
import { ViewRegistry, type Lease, type ViewRegistryOptions } from './view-registry.js';

export interface LiveQueryOptions extends ViewRegistryOptions {
  /** Limits of ad-hoc queries and subscriptions; unset ones take `DEFAULT_LIMITS`. */
  readonly limits?: Partial<LiveQueryLimits>;
  /**
   * Enforce the config's row-level rules: every request must carry a viewer (the server
   * authenticates it). Off, the server runs open: no rule is applied to anyone.
   */
  readonly enforceRules?: boolean;
}

/**
 * Who may read and write what, and the views each request is served from (issue 5).
 *
 * Every read — a config view, a parameterised view, an ad-hoc query, as a Query or a
 * Subscription — names a view definition and parameters. With rules enforced, the viewer's
 * read rules are ANDed in (`scopeView`) and the result is looked up by signature in the
 * `ViewRegistry`: equal requests share one engine view. Writes are checked against the
 * write rules inside the store's write path (`authorizer`).
 */
export class LiveQueries {
  readonly store: LiveStore;
  readonly registry: ViewRegistry;
  readonly limits: LiveQueryLimits;
  readonly enforceRules: boolean;
  readonly #readRules: ReadonlyMap<string, Rule>;
  readonly #tables: ReadonlyMap<string, { readonly rules?: { readonly [kind in RuleKind]?: Rule } }>;
  /** Events shifted by a view's version offset, shared by its subscribers (one object per event). */
  readonly #shifted = new WeakMap<ViewEvent, ViewEvent>();

  constructor(store: LiveStore, options: LiveQueryOptions = {}) {
    this.store = store;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.enforceRules = options.enforceRules ?? false;
    this.#readRules = store.checked.readRules;
    this.#tables = new Map(store.checked.config.tables.map((table) => [table.name, table]));
    this.registry = new ViewRegistry(store, {
      ...(options.graceMs === undefined ? {} : { graceMs: options.graceMs }),
      ...(options.maxViews === undefined ? {} : { maxViews: options.maxViews }),
    });
    for (const view of store.checked.config.views) if (!hasParams(view)) this.registry.pin(view.id, engineDefinition(view));
    store.onClose(() => this.registry.close());
  }

  /**
   * The viewer rules are applied for: undefined when the server runs open. With rules
   * enforced, a request without a viewer is refused (the server's authentication normally
   * refuses it first).
   */
  viewerOf(context: RequestContext | undefined): Viewer | undefined {
    if (!this.enforceRules) return undefined;
    const viewer = context?.viewer;
    if (viewer === undefined) {
      throw new GraphQLError('authentication required: send Authorization: Bearer <token>', { extensions: { code: 'UNAUTHENTICATED' } });
    }
    return viewer;
  }

  /** A lease on the view serving `definition` with `params` to this viewer. */
  lease(name: string, definition: ViewDefinition, params: ViewParams, viewer: Viewer | undefined): Lease {
    const scoped = viewer === undefined ? { definition, params } : scopeView(definition, params, this.#readRules, viewer);
    return this.registry.acquire(name, scoped.definition, scoped.params, { definition, params });
  }

  /** The current rows of a view for this viewer, in view order (the view stays warm for the grace period). */
  rows(name: string, definition: ViewDefinition, params: ViewParams, viewer: Viewer | undefined): readonly Row[] {
    const lease = this.lease(name, definition, params, viewer);
    try {
      return this.store.snapshot(lease.id).rows;
    } finally {
      lease.release();
    }
  }

  /** Version, row count and hash of a view as this viewer sees it. */
  info(name: string, definition: ViewDefinition, viewer: Viewer | undefined): { version: number; rowCount: number; hash: string } {
    const lease = this.lease(name, definition, {}, viewer);
    try {
      const snapshot = this.store.snapshot(lease.id);
      return { version: snapshot.version + lease.offset, rowCount: snapshot.rows.length, hash: snapshot.hash };
    } finally {
      lease.release();
    }
  }

  /**
   * A subscription's events: SNAPSHOT then DELTAs (see `ViewStream`), versions as clients see
   * them. Counts against the connection's `maxViewsPerConnection`; everything is released
   * when the stream ends.
   */
  stream(
    name: string,
    definition: ViewDefinition,
    params: ViewParams,
    context: RequestContext | undefined,
    sinceVersion: number | null | undefined,
  ): AsyncIterableIterator<ViewEvent> {
    const viewer = this.viewerOf(context);
    const connection: ConnectionState = context?.connection ?? { subscriptions: 0 };
    const max = this.limits.maxViewsPerConnection;
    if (connection.subscriptions >= max) {
      throw limitExceeded(`a connection may hold at most ${max} live subscriptions`, { limit: 'maxViewsPerConnection', max });
    }
    const lease = this.lease(name, definition, params, viewer);
    connection.subscriptions++;
    let inner: ViewStream;
    try {
      inner = new ViewStream(this.store, lease.id, sinceVersion == null ? sinceVersion : sinceVersion - lease.offset);
    } catch (error) {
      connection.subscriptions--;
      lease.release();
      throw error;
    }
    return new LeasedStream(inner, (event) => this.#shift(event, lease.offset), () => {
      connection.subscriptions--;
      lease.release();
    });
  }

  /** The version of an update as clients see it. */
  exposedVersion(update: ViewUpdate): number {
    return update.version + this.registry.offset(update.view);
  }

  /**
   * Whether a viewer may be told about a view (a mutation lists the views it changed): the
   * view is the one this viewer would be served for the same request.
   */
  visible(viewId: string, viewer: Viewer | undefined): boolean {
    if (viewer === undefined) return true;
    const origin = this.registry.origin(viewId);
    if (origin === undefined) return false;
    const scoped = scopeView(origin.definition, origin.params, this.#readRules, viewer);
    return viewSignature(scoped.definition, scoped.params) === this.registry.signature(viewId);
  }

  /** Whether the viewer may read a record (always, when the server runs open). */
  readable(table: string, record: Record, viewer: Viewer | undefined): boolean {
    const rule = this.#readRules.get(table);
    if (viewer === undefined || rule === undefined) return true;
    return ruleHolds(bindRule(rule, viewer, true).rule, record);
  }

  /**
   * The write-rule check for one request of this viewer: `create` against the new record,
   * `update` against the old and the new one, `delete` against the old one (`write` where an
   * operation has no rule of its own). Refuses with `FORBIDDEN`. Undefined when open.
   */
  authorizer(viewer: Viewer | undefined): Authorize | undefined {
    if (viewer === undefined) return undefined;
    return (change: ResolvedChange) => {
      const rules = this.#tables.get(change.table)?.rules;
      if (rules === undefined) return;
      const kind = change.op === 'CREATE' ? 'create' : change.op === 'UPDATE' ? 'update' : 'delete';
      const rule = rules[kind] ?? rules.write;
      if (rule === undefined) return;
      const bound = bindRule(rule, viewer, true).rule;
      const after = change.op === 'DELETE' ? undefined : (change.data as Record);
      const allowed =
        (change.before === undefined || change.op === 'CREATE' || ruleHolds(bound, change.before)) &&
        (after === undefined || ruleHolds(bound, after));
      if (!allowed) {
        throw new GraphQLError(`forbidden: ${viewer.sub} may not ${kind} ${change.table} ${change.id}`, {
          extensions: { code: 'FORBIDDEN', table: change.table, id: change.id },
        });
      }
    };
  }

  #shift(event: ViewEvent, offset: number): ViewEvent {
    if (offset === 0) return event;
    let shifted = this.#shifted.get(event);
    if (shifted === undefined) this.#shifted.set(event, (shifted = { ...event, version: event.version + offset }));
    return shifted;
  }
}

/**
 * A view stream holding a lease: events mapped to clients' versions, and the lease (and the
 * connection's count) released exactly once when the stream ends, however it ends.
 */
class LeasedStream implements AsyncIterableIterator<ViewEvent> {
  readonly #inner: ViewStream;
  readonly #map: (event: ViewEvent) => ViewEvent;
  #end: (() => void) | undefined;

  constructor(inner: ViewStream, map: (event: ViewEvent) => ViewEvent, end: () => void) {
    this.#inner = inner;
    this.#map = map;
    this.#end = end;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<ViewEvent>> {
    const result = await this.#inner.next();
    if (result.done === true) {
      this.#finish();
      return result;
    }
    return { done: false, value: this.#map(result.value) };
  }

  async return(): Promise<IteratorResult<ViewEvent>> {
    try {
      return await this.#inner.return();
    } finally {
      this.#finish();
    }
  }

  async throw(error?: unknown): Promise<IteratorResult<ViewEvent>> {
    await this.return();
    throw error;
  }

  #finish(): void {
    const end = this.#end;
    this.#end = undefined;
    end?.();
  }
}
