import { createPubSub, type PubSub, type Repeater } from 'graphql-yoga';
import {
  Circuit,
  EngineError,
  isEngineError,
  type Operation,
  type Record,
  type RecordChange,
  type Row,
  type ViewSnapshot,
  type ViewUpdate,
} from '../engine/index.js';
import type { CheckedConfig } from '../config/validate.js';
import { ConfigError } from '../config/validate.js';
import { RecordValidator } from './record-validator.js';
import { TopicTarget, type Listener } from './topic-target.js';
import { UpdateHistory } from './update-history.js';

/** What a subscriber receives: a whole result (SNAPSHOT) or a change to it (DELTA). */
export interface ViewEvent {
  readonly view: string;
  readonly version: number;
  readonly kind: 'SNAPSHOT' | 'DELTA';
  readonly added: readonly Row[];
  readonly updated: readonly Row[];
  readonly removed: readonly string[];
  readonly hash: string;
}

/**
 * One requested record change. Unlike the engine's `RecordChange`, `data` of an UPDATE is a
 * patch: its fields are merged into the stored record (as the record stands after the
 * earlier changes of the same call).
 */
export interface Change {
  readonly table: string;
  readonly op: Operation;
  readonly id: string;
  readonly data?: unknown;
}

export interface Applied {
  /** One update per view whose result changed, each already published. */
  readonly updates: readonly ViewUpdate[];
  /** Per change: the record after it, or for a DELETE the record it removed (if any). */
  readonly records: readonly (Record | undefined)[];
}

export interface LiveStoreOptions {
  /** Updates kept per view for `sinceVersion` resumption (default 1,000). */
  readonly historySize?: number;
  readonly logger?: { warn(message: string, fields?: object): void };
}

type Topics = { [topic: `view:${string}`]: [event: ViewEvent] };

export const DEFAULT_HISTORY_SIZE = 1000;

/**
 * Builds the circuit for a config and registers its views. This is the one start-up path,
 * so stored tables can be loaded into the circuit here before the views are registered.
 * A view the engine rejects is a config error.
 */
export async function openLiveStore(checked: CheckedConfig, options: LiveStoreOptions = {}): Promise<LiveStore> {
  const circuit = new Circuit({ tables: checked.config.tables.map((table) => table.name) });
  for (const view of checked.config.views) {
    try {
      circuit.registerView(view);
    } catch (error) {
      if (isEngineError(error)) throw new ConfigError([`view "${view.id}": ${error.message}`]);
      throw error;
    }
  }
  return new LiveStore(checked, circuit, options);
}

/**
 * The single write path and the source of every live view stream.
 *
 * `apply` validates a list of changes, hands them to the engine, then records and publishes
 * every update the engine returns on its view's topic. Calls run one at a time in arrival
 * order, so the read-modify-write of a patch is atomic and each view's updates are published
 * in version order even once a durable commit (an `await`) sits between engine and publish.
 */
export class LiveStore {
  readonly checked: CheckedConfig;
  readonly #circuit: Circuit;
  readonly #target: TopicTarget;
  readonly #pubsub: PubSub<Topics>;
  readonly #histories = new Map<string, UpdateHistory<ViewEvent>>();
  readonly #validators = new Map<string, RecordValidator>();
  readonly #closers = new Set<() => void>();
  /** What to tell a subscription whose queue overflowed, by its PubSub listener. */
  readonly #onLost = new WeakMap<Listener, () => boolean>();
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(checked: CheckedConfig, circuit: Circuit, options: LiveStoreOptions = {}) {
    this.checked = checked;
    this.#circuit = circuit;
    const logger = options.logger;
    this.#target = new TopicTarget((error, topic, listener) => {
      // Logged once per episode: a subscriber that stays slow loses many updates.
      const lost = this.#onLost.get(listener);
      if (lost === undefined || lost()) {
        logger?.warn('a subscriber fell 1,024 updates behind; it gets a fresh SNAPSHOT', {
          topic,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    });
    this.#pubsub = createPubSub<Topics>({ eventTarget: this.#target });
    const historySize = options.historySize ?? DEFAULT_HISTORY_SIZE;
    for (const view of checked.config.views) this.#histories.set(view.id, new UpdateHistory(historySize));
    for (const table of checked.config.tables) this.#validators.set(table.name, new RecordValidator(table));
  }

  /**
   * Applies `changes` atomically (all or none) and publishes the resulting updates.
   * Rejects with an `EngineError` (`BAD_INPUT`, `NOT_FOUND`, `CONFLICT`) and changes nothing
   * when any change is invalid.
   */
  apply(changes: readonly Change[]): Promise<Applied> {
    const run = this.#tail.then(() => this.#applyNow(changes));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  #applyNow(changes: readonly Change[]): Applied {
    if (this.#closed) throw new Error('the live store is closed');
    const resolved = this.#resolve(changes);
    const [single] = resolved;
    const updates =
      resolved.length === 1 && single !== undefined
        ? this.#circuit.ingestSingle(single.table, single.op, single.id, single.data)
        : resolved.length > 1
          ? this.#circuit.ingestBatch(resolved)
          : [];
    // Durability goes here: commit `resolved` (awaited) before anything is published, so a
    // subscriber never sees a change that a crash could lose.
    for (const update of updates) this.#publish(update);
    return {
      updates,
      records: resolved.map((change) =>
        change.op === 'DELETE' ? change.before : this.#circuit.getRecord(change.table, change.id),
      ),
    };
  }

  /** Turns requested changes into engine changes with whole, validated records. */
  #resolve(changes: readonly Change[]): (RecordChange & { before: Record | undefined })[] {
    const pending = new Map<string, Record | undefined>();
    return changes.map((change, index) => {
      const where = changes.length > 1 ? `changes[${index}]: ` : '';
      const { table, op, id } = change;
      const validator = this.#validators.get(table);
      if (validator === undefined) throw new EngineError('BAD_INPUT', `${where}unknown table "${table}"`, { table });
      if (typeof id !== 'string' || id.length === 0) {
        throw new EngineError('BAD_INPUT', `${where}${table}: id must be a non-empty string`, { table, field: 'id' });
      }
      const key = `${table}\u0000${id}`;
      const before = pending.has(key) ? pending.get(key) : this.#circuit.getRecord(table, id);
      const check = (data: { readonly [field: string]: unknown }): Record => {
        try {
          return validator.check(id, data);
        } catch (error) {
          if (isEngineError(error) && where !== '') {
            throw new EngineError(error.code, where + error.message, { table, id, ...fieldOf(error) });
          }
          throw error;
        }
      };
      switch (op) {
        case 'CREATE': {
          const record = check({ ...objectData(change.data, where, table, id), id });
          pending.set(key, record);
          return { table, op, id, data: record, before };
        }
        case 'UPDATE': {
          if (before === undefined) throw new EngineError('NOT_FOUND', `${where}${table} ${id} does not exist`, { table, id });
          const record = check({ ...before, ...objectData(change.data, where, table, id), id });
          pending.set(key, record);
          return { table, op, id, data: record, before };
        }
        case 'DELETE':
          pending.set(key, undefined);
          return { table, op, id, before };
        default:
          throw new EngineError('BAD_INPUT', `${where}unknown operation "${String(op)}"`, { table, id });
      }
    });
  }

  #publish(update: ViewUpdate): void {
    const event: ViewEvent = {
      view: update.view,
      version: update.version,
      kind: 'DELTA',
      added: update.added,
      updated: update.updated,
      removed: update.removed,
      hash: update.hash,
    };
    this.#histories.get(update.view)?.push(event);
    this.#pubsub.publish(`view:${update.view}`, event);
  }

  snapshot(view: string): ViewSnapshot {
    return this.#circuit.snapshot(view);
  }

  /** The view's current result as a SNAPSHOT event. */
  snapshotEvent(view: string): ViewEvent {
    const { version, rows, hash } = this.#circuit.snapshot(view);
    return { view, version, kind: 'SNAPSHOT', added: rows, updated: [], removed: [], hash };
  }

  record(table: string, id: string): Record | undefined {
    return this.#circuit.getRecord(table, id);
  }

  /**
   * The view's updates, live from the return of this call: `first` is the first `next()`,
   * which has added the topic listener. `onLost` runs when an update could not be queued for
   * this subscriber (it read too slowly); it returns whether that starts a new episode.
   */
  subscribe(view: string, onLost: () => boolean): { events: Repeater<ViewEvent>; first: Promise<IteratorResult<ViewEvent>> } {
    const events = this.#pubsub.subscribe(`view:${view}`);
    this.#target.takeLastAdded();
    const first = events.next();
    const listener = this.#target.takeLastAdded();
    if (listener !== undefined) this.#onLost.set(listener, onLost);
    return { events, first };
  }

  /** Updates held for `sinceVersion`, or undefined for an unknown view. */
  history(view: string): UpdateHistory<ViewEvent> | undefined {
    return this.#histories.get(view);
  }

  /** Live subscriber listeners on one view, or on all views. */
  listenerCount(view?: string): number {
    return this.#target.listenerCount(view === undefined ? undefined : `view:${view}`);
  }

  /** Runs `callback` when the store closes (now, if it is closed); returns an unregister. */
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

  /** Ends every live stream (subscribers see `complete`) and refuses further writes. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const callback of this.#closers) callback();
    this.#closers.clear();
    await this.#tail;
  }
}

function objectData(data: unknown, where: string, table: string, id: string): { readonly [field: string]: unknown } {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new EngineError('BAD_INPUT', `${where}${table} ${id}: data must be an object`, { table, id });
  }
  const fields = data as { readonly [field: string]: unknown };
  if ('id' in fields && fields['id'] !== id) {
    throw new EngineError('BAD_INPUT', `${where}${table} ${id}: data.id ${JSON.stringify(fields['id'])} differs from the id`, {
      table,
      id,
      field: 'id',
    });
  }
  return fields;
}

function fieldOf(error: EngineError): { field?: string } {
  return error.field === undefined ? {} : { field: error.field };
}
