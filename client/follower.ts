import { type LiveEvent, type LiveState, LiveView, type LiveViewOptions } from './live-view.js';
import type { LiveRow } from './order.js';

/** A sink as graphql-ws and graphql-sse call it. */
export interface Sink<T> {
  next(value: T): void;
  error(error: unknown): void;
  complete(): void;
}

/** One execution result of a subscription. */
export interface SubscriptionResult {
  readonly data?: unknown;
  readonly errors?: readonly unknown[] | undefined;
}

export type FollowStatus = 'connecting' | 'live' | 'reconnecting' | 'failed' | 'stopped';

export interface FollowOptions extends LiveViewOptions {
  /** Called on every status change; `error` says why on `reconnecting` and `failed`. */
  readonly onStatus?: (status: FollowStatus, error?: unknown) => void;
  /** Delay before the n-th reconnect in a row (default 100 ms doubling to 5 s). */
  readonly retryDelayMs?: (attempt: number) => number;
}

export interface Following<Row extends LiveRow> {
  readonly view: LiveView<Row>;
  /** The current result; undefined until the first SNAPSHOT. */
  readonly state: LiveState<Row> | undefined;
  readonly status: FollowStatus;
  stop(): void;
}

/** Starts one subscription attempt with these extra variables; returns how to end it. */
export type Attach = (variables: { sinceVersion?: number }, sink: Sink<SubscriptionResult>) => () => void;

const defaultDelay = (attempt: number): number => Math.min(5000, 100 * 2 ** Math.max(0, attempt - 1));

/**
 * The state machine every adapter shares: subscribe, apply each event to a `LiveView`, and keep
 * following. When the stream ends (a server restart completes graphql-ws subscriptions), the
 * connection drops, an event skips a version or the hash does not match, it subscribes again
 * after a delay with `sinceVersion` = the copy's version (after a mismatch the copy is gone, so
 * without: a SNAPSHOT). GraphQL errors (a result with `errors`, or an error `isFatal` calls
 * fatal) end it with status `failed`.
 */
export function createFollower<Row extends LiveRow>(
  attach: Attach,
  responseKey: string,
  options: FollowOptions & { readonly isFatal?: (error: unknown) => boolean } = {},
): Following<Row> {
  const view = new LiveView<Row>(options);
  const delay = options.retryDelayMs ?? defaultDelay;
  const isFatal = options.isFatal ?? ((error: unknown) => Array.isArray(error) && error.length > 0);
  let status: FollowStatus = 'connecting';
  let detach: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let attempt = 0;
  let generation = 0;

  const setStatus = (next: FollowStatus, error?: unknown): void => {
    status = next;
    options.onStatus?.(next, error);
  };

  const end = (): void => {
    generation++;
    const release = detach;
    detach = undefined;
    release?.();
  };

  const fail = (error: unknown): void => {
    end();
    setStatus('failed', error);
  };

  const restart = (error: unknown): void => {
    end();
    if (status === 'stopped' || status === 'failed') return;
    attempt++;
    setStatus('reconnecting', error);
    timer = setTimeout(start, delay(attempt));
  };

  function start(): void {
    timer = undefined;
    const mine = ++generation;
    const live = (): boolean => mine === generation;
    const since = view.version;
    detach = attach(since === undefined ? {} : { sinceVersion: since }, {
      next: (result) => {
        if (!live()) return;
        if (result.errors !== undefined && result.errors.length > 0) return fail(result.errors);
        const event = (result.data as { readonly [key: string]: unknown } | null | undefined)?.[responseKey];
        let outcome: ReturnType<LiveView<Row>['apply']>;
        try {
          outcome = view.apply(event as LiveEvent<Row>);
        } catch (error) {
          return fail(error);
        }
        if (outcome === 'gap' || outcome === 'mismatch') {
          return restart(new Error(`${outcome} at version ${(event as LiveEvent<Row>).version}`));
        }
        attempt = 0;
        if (status !== 'live') setStatus('live');
      },
      error: (error) => {
        if (!live()) return;
        if (isFatal(error)) fail(error);
        else restart(error);
      },
      complete: () => {
        if (live()) restart(new Error('the server ended the subscription'));
      },
    });
  }

  setStatus('connecting');
  start();
  return {
    view,
    get state() {
      return view.state;
    },
    get status() {
      return status;
    },
    stop() {
      if (timer !== undefined) clearTimeout(timer);
      end();
      if (status !== 'failed') setStatus('stopped');
    },
  };
}
