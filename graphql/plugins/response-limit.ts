import { type ExecutionResult, GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { jsonBytesWithin } from './json-bytes.js';

/**
 * Caps the size of what the server sends for one operation: a query or mutation result, or one
 * subscription event, measured as JSON (UTF-8) before it is sent. A larger one is replaced by
 * `LIMIT_EXCEEDED` (`extensions.limit: "maxResponseBytes"`, `extensions.max`) with no data; a
 * subscription then ends, since its client could not follow the view without that event. A
 * mutation's changes are applied all the same: only its answer is replaced.
 *
 * Through envelop's `onExecute` and `onSubscribe`, so it covers HTTP, SSE and graphql-ws alike.
 * Subscription events are measured once per result object, which the shared event execution
 * gives to every subscriber of one operation.
 */
export function useResponseLimit(maxBytes: number): Plugin {
  const verdicts = new WeakMap<object, boolean>();
  const fits = (result: ExecutionResult): boolean => {
    let verdict = verdicts.get(result);
    if (verdict === undefined) {
      verdict = jsonBytesWithin(result.data ?? null, maxBytes) !== undefined;
      verdicts.set(result, verdict);
    }
    return verdict;
  };
  // `data: null`: the operation ran (a mutation's changes are applied), so HTTP answers 200.
  const tooLarge = (): ExecutionResult => ({
    data: null,
    errors: [
      new GraphQLError(`the response is larger than ${maxBytes} bytes; select fewer fields or rows`, {
        extensions: { code: 'LIMIT_EXCEEDED', limit: 'maxResponseBytes', max: maxBytes },
      }),
    ],
  });
  return {
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if (!isAsyncIterable(result) && !fits(result as ExecutionResult)) setResult(tooLarge());
        },
      };
    },
    onSubscribe() {
      return {
        onSubscribeResult({ result, setResult }) {
          if (isAsyncIterable(result)) setResult(capped(result as AsyncIterable<ExecutionResult>, fits, tooLarge));
          else if (!fits(result as ExecutionResult)) setResult(tooLarge());
        },
      };
    },
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** The events of `source`; an event that does not fit is replaced by `tooLarge()`, and the stream ends after it. */
function capped(
  source: AsyncIterable<ExecutionResult>,
  fits: (result: ExecutionResult) => boolean,
  tooLarge: () => ExecutionResult,
): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  let ended = false;
  const done: IteratorReturnResult<undefined> = { done: true, value: undefined };
  const release = async (): Promise<IteratorReturnResult<undefined>> => {
    if (!ended) {
      ended = true;
      await iterator.return?.();
    }
    return done;
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next() {
      if (ended) return done;
      const step = await iterator.next();
      if (step.done === true) {
        ended = true;
        return done;
      }
      if (fits(step.value)) return step;
      await release();
      return { done: false, value: tooLarge() };
    },
    return: release,
  };
}
