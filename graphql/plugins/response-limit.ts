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
 * Through envelop's `onExecute` and `onSubscribe`, so it covers HTTP, SSE and graphql-ws alike,
 * except graphql-ws subscriptions pushed by `useSharedEventExecution`, which applies the same
 * cap (`responseTooLarge`) where it makes their JSON. Subscription events are measured once per
 * result object, which the shared event execution gives to every subscriber of one operation.
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
  const tooLarge = (): ExecutionResult => responseTooLarge(maxBytes);
  // The same hooks for every operation: a subscription keeps its hooks as long as it lives.
  const executeHooks: OnExecuteHooks = {
    onExecuteDone({ result, setResult }) {
      if (!isAsyncIterable(result) && !fits(result as ExecutionResult)) setResult(tooLarge());
    },
  };
  const subscribeHooks: OnSubscribeHooks = {
    onSubscribeResult({ result, setResult }) {
      if (isAsyncIterable(result)) setResult(new Capped(result as AsyncIterable<ExecutionResult>, fits, tooLarge));
      else if (!fits(result as ExecutionResult)) setResult(tooLarge());
    },
  };
  return { onExecute: () => executeHooks, onSubscribe: () => subscribeHooks };
}

/** What replaces a response over `maxBytes`. `data: null`: the operation ran (a mutation's changes are applied), so HTTP answers 200. */
export function responseTooLarge(maxBytes: number): ExecutionResult {
  return {
    data: null,
    errors: [
      new GraphQLError(`the response is larger than ${maxBytes} bytes; select fewer fields or rows`, {
        extensions: { code: 'LIMIT_EXCEEDED', limit: 'maxResponseBytes', max: maxBytes },
      }),
    ],
  };
}

type OnExecuteHooks = Extract<ReturnType<NonNullable<Plugin['onExecute']>>, { onExecuteDone?: unknown }>;
type OnSubscribeHooks = Extract<ReturnType<NonNullable<Plugin['onSubscribe']>>, { onSubscribeResult?: unknown }>;

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * The events of `source`; an event that does not fit is replaced by `tooLarge()`, and the
 * stream ends after it. (A class: one lives per subscription.)
 */
class Capped implements AsyncIterableIterator<ExecutionResult> {
  readonly #source: AsyncIterator<ExecutionResult>;
  readonly #fits: (result: ExecutionResult) => boolean;
  readonly #tooLarge: () => ExecutionResult;
  #ended = false;

  constructor(
    source: AsyncIterable<ExecutionResult>,
    fits: (result: ExecutionResult) => boolean,
    tooLarge: () => ExecutionResult,
  ) {
    this.#source = source[Symbol.asyncIterator]();
    this.#fits = fits;
    this.#tooLarge = tooLarge;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<ExecutionResult>> {
    if (this.#ended) return DONE;
    const step = await this.#source.next();
    if (step.done === true) {
      this.#ended = true;
      return DONE;
    }
    if (this.#fits(step.value)) return step;
    await this.return();
    return { done: false, value: this.#tooLarge() };
  }

  async return(): Promise<IteratorReturnResult<undefined>> {
    if (!this.#ended) {
      this.#ended = true;
      await this.#source.return?.();
    }
    return DONE;
  }
}
