import { bindRule, type Rule, type RuleKind, scopeView, type Viewer } from '../config/rules.js';
import { engineDefinition, hasParams } from '../config/types.js';
import {
  compilePredicate,
  type Record,
  type Row,
  type ViewDefinition,
  type ViewParams,
  viewSignature,
} from '../engine/index.js';
import { AppError } from './errors.js';
import { DEFAULT_LIMITS, type LiveQueryLimits } from './live-query.js';
import type { LiveStore } from './live-store.js';
import type { ViewEvent } from './view-host.js';
import { type Lease, ViewRegistry, type ViewRegistryOptions } from './view-registry.js';
import { ViewStream } from './view-stream.js';
import type { Authorize, ResolvedChange, Sees } from './write-path.js';

const MAX_CACHED_RULE_TESTS = 10_000;

export interface AccessOptions extends ViewRegistryOptions {
  /** Limits of ad-hoc queries and subscriptions; unset ones take `DEFAULT_LIMITS`. */
  readonly limits?: Partial<LiveQueryLimits>;
  /**
   * Enforce the config's row-level rules: every request must carry a viewer (the server
   * authenticates it). Off, the server runs open: no rule is applied to anyone.
   */
  readonly enforceRules?: boolean;
}

/** Per connection (a WebSocket, or one HTTP/SSE request): the live subscriptions it holds. */
export interface ConnectionState {
  subscriptions: number;
  /** How the client is connected (`ws`, `http`), for the subscriber counts; unset counts as `other`. */
  readonly transport?: string;
}

/** Who is asking and over which connection, as the transport established it. */
export interface Caller {
  /** From a verified token; undefined when the server runs open. */
  readonly viewer?: Viewer | undefined;
  readonly connection?: ConnectionState | undefined;
}

/**
 * Who may read and write what, and the view each read is served from.
 *
 * Every read — a config view, a parameterised view, an ad-hoc query, as a Query or a
 * Subscription — names a view definition and parameters. With rules enforced, the viewer's
 * read rules are ANDed in (`scopeView`) and the result is looked up by signature in the
 * `ViewRegistry`: equal requests share one engine view. Writes are checked against the
 * write rules inside the write path (`authorizer`).
 */
export class Access {
  readonly store: LiveStore;
  readonly registry: ViewRegistry;
  readonly limits: LiveQueryLimits;
  readonly enforceRules: boolean;
  readonly #readRules: ReadonlyMap<string, Rule>;
  readonly #ruleTests = new Map<string, (record: Record) => boolean>();
  /** Live subscriptions by transport (see `subscribers`). */
  readonly #subscribers = new Map<string, number>();

  constructor(store: LiveStore, options: AccessOptions = {}) {
    this.store = store;
    this.limits = { ...DEFAULT_LIMITS, maxJsonDepth: store.writes.limits.maxJsonDepth, ...options.limits };
    this.enforceRules = options.enforceRules ?? false;
    this.#readRules = store.checked.readRules;
    this.registry = new ViewRegistry(store.views, {
      ...(options.graceMs === undefined ? {} : { graceMs: options.graceMs }),
      ...(options.maxViews === undefined ? {} : { maxViews: options.maxViews }),
      ...(options.maxViewBytes === undefined ? {} : { maxViewBytes: options.maxViewBytes }),
    });
    for (const view of store.checked.config.views) {
      if (!hasParams(view)) this.registry.pin(view.id, engineDefinition(view));
    }
    store.views.onClose(() => this.registry.close());
  }

  /**
   * The viewer rules are applied for: undefined when the server runs open. With rules
   * enforced, a request without a viewer is refused (the server's authentication normally
   * refuses it first).
   */
  viewerOf(caller: Caller | undefined): Viewer | undefined {
    if (!this.enforceRules) return undefined;
    const viewer = caller?.viewer;
    if (viewer === undefined) {
      throw new AppError('UNAUTHENTICATED', 'authentication required: send Authorization: Bearer <token>');
    }
    return viewer;
  }

  /** A lease on the view serving `definition` with `params` to this viewer. */
  lease(name: string, definition: ViewDefinition, params: ViewParams, viewer: Viewer | undefined): Lease {
    const scoped =
      viewer === undefined ? { definition, params } : scopeView(definition, params, this.#readRules, viewer);
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
  info(
    name: string,
    definition: ViewDefinition,
    viewer: Viewer | undefined,
  ): { version: number; rowCount: number; hash: string } {
    const lease = this.lease(name, definition, {}, viewer);
    try {
      const { version, rows, hash } = this.store.snapshot(lease.id);
      return { version, rowCount: rows.length, hash };
    } finally {
      lease.release();
    }
  }

  /**
   * A subscription's events: SNAPSHOT then DELTAs (see `ViewStream`). Counts against the
   * connection's `maxViewsPerConnection`; everything is released when the stream ends.
   */
  stream(
    name: string,
    definition: ViewDefinition,
    params: ViewParams,
    caller: Caller | undefined,
    sinceVersion: number | null | undefined,
  ): AsyncIterableIterator<ViewEvent> {
    const viewer = this.viewerOf(caller);
    const connection: ConnectionState = caller?.connection ?? { subscriptions: 0 };
    const max = this.limits.maxViewsPerConnection;
    if (connection.subscriptions >= max) {
      throw new AppError('LIMIT_EXCEEDED', `a connection may hold at most ${max} live subscriptions`, {
        limit: 'maxViewsPerConnection',
        max,
      });
    }
    const lease = this.lease(name, definition, params, viewer);
    const held = new HeldSubscription(connection, this.#subscribers, lease);
    try {
      return new ViewStream(this.store.views, lease.id, sinceVersion, held);
    } catch (error) {
      held.ended();
      throw error;
    }
  }

  /** Live subscriptions now open, by transport (every transport that ever had one, so a gauge can fall to 0). */
  subscribers(): ReadonlyMap<string, number> {
    return this.#subscribers;
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
    return this.#ruleTest(table, 'read', rule, viewer)(record);
  }

  /**
   * What a viewer's writes see of the stored records: only those it may read (the rest are
   * absent for it, see `Sees`). Undefined when open.
   */
  sees(viewer: Viewer | undefined): Sees | undefined {
    if (viewer === undefined) return undefined;
    return (table, record) => this.readable(table, record, viewer);
  }

  /** A rule bound to a viewer and compiled by the engine, kept per (table, kind, viewer claims). */
  #ruleTest(table: string, kind: RuleKind, rule: Rule, viewer: Viewer): (record: Record) => boolean {
    const key = JSON.stringify([table, kind, viewer.sub, viewer.role]);
    let test = this.#ruleTests.get(key);
    if (test === undefined) {
      // Bounded: a server with many viewers recompiles rather than growing without limit.
      if (this.#ruleTests.size >= MAX_CACHED_RULE_TESTS) this.#ruleTests.clear();
      const bound = bindRule(rule, viewer, true).rule;
      test = typeof bound === 'boolean' ? () => bound : compilePredicate(bound);
      this.#ruleTests.set(key, test);
    }
    return test;
  }

  /**
   * The write-rule check for one request of this viewer: `create` against the new record,
   * `update` against the old and the new one, `delete` against the old one (`write` where an
   * operation has no rule of its own). Refuses with `FORBIDDEN`. Undefined when open.
   */
  authorizer(viewer: Viewer | undefined): Authorize | undefined {
    if (viewer === undefined) return undefined;
    return (change: ResolvedChange) => {
      const rules = this.store.checked.tables.get(change.table)?.rules;
      if (rules === undefined) return;
      const kind: RuleKind = change.op === 'CREATE' ? 'create' : change.op === 'UPDATE' ? 'update' : 'delete';
      const rule = rules[kind] ?? rules.write;
      if (rule === undefined) return;
      const holds = this.#ruleTest(change.table, rules[kind] === undefined ? 'write' : kind, rule, viewer);
      const after = change.op === 'DELETE' ? undefined : (change.data as Record);
      const allowed =
        (change.before === undefined || change.op === 'CREATE' || holds(change.before)) &&
        (after === undefined || holds(after));
      if (!allowed) {
        throw new AppError('FORBIDDEN', `forbidden: ${viewer.sub} may not ${kind} ${change.table} ${change.id}`, {
          table: change.table,
          id: change.id,
        });
      }
    };
  }
}

/**
 * What one subscription holds — a place in its connection's count and in the count by
 * transport, and its view's lease — given back when its stream ends. (A class rather than a
 * closure: one lives per subscriber.)
 */
class HeldSubscription {
  readonly #connection: ConnectionState;
  readonly #counts: Map<string, number>;
  readonly #lease: Lease;

  constructor(connection: ConnectionState, counts: Map<string, number>, lease: Lease) {
    this.#connection = connection;
    this.#counts = counts;
    this.#lease = lease;
    const transport = connection.transport ?? 'other';
    connection.subscriptions++;
    counts.set(transport, (counts.get(transport) ?? 0) + 1);
  }

  ended(): void {
    const transport = this.#connection.transport ?? 'other';
    this.#connection.subscriptions--;
    this.#counts.set(transport, (this.#counts.get(transport) ?? 1) - 1);
    this.#lease.release();
  }
}
