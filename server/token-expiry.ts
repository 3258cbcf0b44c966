import type { Plugin } from 'graphql-yoga';

/**
 * A token is good until its `exp`, also on connections that outlive it: a graphql-ws socket is
 * closed with 4403 at `exp` (server/app.ts), and an SSE stream, which carries the token of the
 * request that opened it, ends there. The client reconnects with a fresh token and
 * `sinceVersion` (docs/auth-and-rules.md).
 */

/** The context field that holds when the request's token expires (epoch ms); absent when open. */
export interface TokenExpiry {
  readonly tokenExpiresAt?: number;
}

/** setTimeout's longest delay (about 24.8 days); later deadlines are reached in steps. */
const MAX_DELAY_MS = 2 ** 31 - 1;

/** Calls `fire` once at `at` (epoch ms), at once if it has passed; returns how to cancel. */
export function onceAt(at: number, fire: () => void): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (): void => {
    const remaining = at - Date.now();
    if (remaining <= 0) {
      timer = undefined;
      fire();
      return;
    }
    timer = setTimeout(arm, Math.min(remaining, MAX_DELAY_MS));
    timer.unref?.();
  };
  arm();
  return () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
}

/**
 * Ends every subscription stream (SSE: the response then ends with `event: complete`) at the
 * expiry of the token of the request that opened it. graphql-ws has no such field in its
 * context: there the socket itself is closed.
 */
export function useTokenExpiry(): Plugin {
  return {
    onSubscribe({ args }) {
      const expiresAt = (args.contextValue as TokenExpiry).tokenExpiresAt;
      if (expiresAt === undefined) return;
      return {
        onSubscribeResult({ result, setResult }) {
          if (isAsyncIterable(result)) setResult(endAt(result, expiresAt));
        },
      };
    },
  };
}

function isAsyncIterable<T>(value: unknown): value is AsyncIterable<T> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** `source` until `at` (epoch ms): then a pending or later `next()` is done and the source released. */
function endAt<T>(source: AsyncIterable<T>, at: number): AsyncIterableIterator<T> {
  const iterator = source[Symbol.asyncIterator]();
  const done: IteratorReturnResult<undefined> = { done: true, value: undefined };
  let expire: (result: IteratorReturnResult<undefined>) => void = () => {};
  const expired = new Promise<IteratorReturnResult<undefined>>((resolve) => (expire = resolve));
  let ended = false;
  let cancel = (): void => {};
  const release = async (): Promise<IteratorReturnResult<undefined>> => {
    if (!ended) {
      ended = true;
      cancel();
      expire(done);
      await iterator.return?.();
    }
    return done;
  };
  cancel = onceAt(at, () => void release()); // fires at once when `at` has passed
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      if (ended) return done;
      const result = await Promise.race([iterator.next(), expired]);
      if (result.done === true) await release();
      return ended ? done : result;
    },
    return: release,
  };
}
