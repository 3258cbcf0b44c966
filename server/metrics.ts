import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Access, AppObserver, LiveStore } from '../app/index.js';

/** Mutation latency buckets, in seconds: a group commit takes about a millisecond, a stalled one seconds. */
const MUTATION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
/** Publish latency buckets, in seconds: handing updates to their topics' listeners. */
const PUBLISH_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1];

export interface ServerMetricsOptions {
  readonly store: LiveStore;
  readonly access: Access;
  /** This instance's name on the log metrics (`instance_id` label), read when scraped. */
  readonly instanceId: () => string;
  /** The engine memory views created on demand may hold (the view-memory budget), in bytes. */
  readonly viewBudgetBytes: number;
}

/**
 * Node's default metrics (`process_*`, `nodejs_*`), once per process: they describe the process,
 * and each collector keeps a GC observer and an event-loop monitor running for good, so several
 * servers in one process (tests) share them rather than pile them up.
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * The server's Prometheus metrics, on a registry of its own (several servers may share a
 * process, as tests do). Counters and histograms are moved by the service layer through
 * `AppObserver` — one increment or observation per write and per publish, on label children
 * bound once; gauges (views, view memory, subscribers, log position) are read when scraped.
 * Node's default process metrics (`process_*`, `nodejs_*`) come along.
 */
export class ServerMetrics implements AppObserver {
  readonly #registry = new Registry();
  /** This server's metrics and the process's, as one exposition. */
  readonly #exposed: Registry;
  readonly #mutations: Counter<'outcome'>;
  readonly #mutationSeconds: Histogram<'outcome'>;
  /** Label children by outcome, bound on first use: the hot path does no label lookup. */
  readonly #outcomes = new Map<string, { count: Counter.Internal; seconds: Histogram.Internal<'outcome'> }>();
  readonly #events: Counter;
  readonly #publishSeconds: Histogram;

  constructor(options: ServerMetricsOptions) {
    const registers = [this.#registry];
    const { store, access, instanceId } = options;
    this.#mutations = new Counter({
      name: 'liveviews_mutations_total',
      help: 'Write requests (a mutation or a batch) by outcome: ok, or the refusal code (BAD_INPUT, NOT_FOUND, CONFLICT, FORBIDDEN, LIMIT_EXCEEDED, UNAVAILABLE, INTERNAL).',
      labelNames: ['outcome'],
      registers,
    });
    this.#mutationSeconds = new Histogram({
      name: 'liveviews_mutation_duration_seconds',
      help: 'Time from a write request to its answer (validation, commit, publishing), by result: ok or error.',
      labelNames: ['outcome'],
      buckets: MUTATION_BUCKETS,
      registers,
    });
    this.#events = new Counter({
      name: 'liveviews_events_published_total',
      help: 'View updates (DELTAs) published to their subscribers.',
      registers,
    });
    this.#publishSeconds = new Histogram({
      name: 'liveviews_publish_duration_seconds',
      help: "Time to publish one commit's view updates to every subscriber's queue.",
      buckets: PUBLISH_BUCKETS,
      registers,
    });
    new Gauge({
      name: 'liveviews_subscribers',
      help: 'Live subscriptions open now, by transport (ws: graphql-ws; http: SSE).',
      labelNames: ['transport'],
      registers,
      collect() {
        for (const [transport, count] of access.subscribers()) this.set({ transport }, count);
      },
    });
    new Gauge({
      name: 'liveviews_views',
      help: "Views held by the engine: pinned (the config's views), on_demand (created for a request, in use), idle (on demand, in their grace period).",
      labelNames: ['kind'],
      registers,
      collect() {
        const stats = access.registry.stats();
        this.set({ kind: 'pinned' }, stats.pinned);
        this.set({ kind: 'on_demand' }, stats.onDemand - stats.idle);
        this.set({ kind: 'idle' }, stats.idle);
      },
    });
    new Gauge({
      name: 'liveviews_view_memory_bytes',
      help: 'Engine memory held by views created on demand (what the view-memory budget counts), approximately.',
      registers,
      collect() {
        this.set(access.registry.stats().viewBytes);
      },
    });
    new Gauge({
      name: 'liveviews_view_memory_budget_bytes',
      help: 'The view-memory budget: past it, new live queries are refused with LIMIT_EXCEEDED.',
      registers,
    }).set(options.viewBudgetBytes);
    new Gauge({
      name: 'liveviews_records',
      help: 'Records held in the tables.',
      registers,
      collect() {
        this.set(store.engineStats().records);
      },
    });
    // The shared change log (PostgreSQL store): absent for a store without one (SQLite).
    const log = (
      name: string,
      help: string,
      read: (status: NonNullable<ReturnType<LiveStore['logStatus']>>) => number,
    ) =>
      new Gauge({
        name,
        help,
        labelNames: ['instance_id'],
        registers,
        collect() {
          const status = store.logStatus();
          if (status !== undefined) this.set({ instance_id: instanceId() }, read(status));
        },
      });
    log('liveviews_log_position', 'Log position of the last change applied to this instance.', (s) => s.position);
    log('liveviews_log_head_position', 'Newest log position this instance knows of.', (s) => s.head);
    log(
      'liveviews_log_lag_seconds',
      'How long the oldest change not applied here yet has waited.',
      (s) => s.lagSeconds,
    );
    log('liveviews_log_following', '1 while the log follower reads the log, 0 while it reconnects.', (s) =>
      s.following ? 1 : 0,
    );
    log(
      'liveviews_log_pruned_through_position',
      'Highest log position pruning has removed (by any instance), as this instance last saw it.',
      (s) => s.prunedThrough ?? 0,
    );
    log(
      'liveviews_log_pruned_entries',
      'Log entries this instance pruned since it started.',
      (s) => s.prunedEntries ?? 0,
    );
    this.#exposed = Registry.merge([processMetrics(), this.#registry]);
  }

  writeEnded(outcome: string, seconds: number): void {
    let bound = this.#outcomes.get(outcome);
    if (bound === undefined) {
      bound = {
        count: this.#mutations.labels(outcome),
        seconds: this.#mutationSeconds.labels(outcome === 'ok' ? 'ok' : 'error'),
      };
      this.#outcomes.set(outcome, bound);
    }
    bound.count.inc();
    bound.seconds.observe(seconds);
  }

  published(events: number, seconds: number): void {
    this.#events.inc(events);
    this.#publishSeconds.observe(seconds);
  }

  /** The exposition text, and its content type. */
  async scrape(): Promise<{ text: string; contentType: string }> {
    return { text: await this.#exposed.metrics(), contentType: this.#exposed.contentType };
  }
}
