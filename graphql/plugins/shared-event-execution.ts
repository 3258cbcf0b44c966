import { createSourceEventStream, type DocumentNode, type ExecutionArgs, type ExecutionResult, execute } from 'graphql';
import type { Plugin } from 'graphql-yoga';

type Result = ExecutionResult | Promise<ExecutionResult>;

/**
 * Executes each subscription event once per distinct operation instead of once per
 * subscriber. A DELTA is one object published to every subscriber of its view, and
 * subscribers of a view mostly send the same document (yoga's parse cache gives one
 * `DocumentNode` per query text) with the same variables; the result of executing the
 * selection over the event is then the same for all of them, so it is computed for the
 * first and reused by the others. With 1,000 subscribers that is one execution per event
 * instead of 1,000.
 *
 * Valid because no resolver under a subscription field reads the context or anything but
 * the event (rows are plain data). A field that depended on the viewer (authorisation,
 * masking per user) would have to be part of the key.
 *
 * It replaces only the subscribe function: the source stream still comes from the schema's
 * subscribe resolver, and other plugins still see (and may mask) every result.
 */
export function useSharedEventExecution(): Plugin {
  const results = new WeakMap<object, WeakMap<DocumentNode, Map<string, Result>>>();
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn((async (args: ExecutionArgs) => {
        const source = await createSourceEventStream(args);
        if (!isAsyncIterable(source)) return source;
        const key = `${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? null)}`;
        const run = (event: unknown): Result => execute({ ...args, rootValue: event }) as Result;
        return mapEvents(source, (event) => {
          if (typeof event !== 'object' || event === null) return run(event);
          let byDocument = results.get(event);
          if (byDocument === undefined) results.set(event, (byDocument = new WeakMap()));
          let byKey = byDocument.get(args.document);
          if (byKey === undefined) byDocument.set(args.document, (byKey = new Map()));
          let result = byKey.get(key);
          if (result === undefined) byKey.set(key, (result = run(event)));
          return result;
        });
      }) as never);
    },
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** Maps a stream; `return()` reaches the source at once (it releases the subscriber). */
function mapEvents(
  source: AsyncIterable<unknown>,
  map: (event: unknown) => Result,
): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next() {
      return iterator
        .next()
        .then((step): IteratorResult<ExecutionResult> | Promise<IteratorResult<ExecutionResult>> => {
          if (step.done === true) return { done: true, value: undefined };
          const result = map(step.value);
          return result instanceof Promise
            ? result.then((value) => ({ done: false, value }))
            : { done: false, value: result };
        });
    },
    async return() {
      await iterator.return?.();
      return { done: true, value: undefined };
    },
    async throw(error: unknown) {
      await iterator.return?.();
      throw error;
    },
  };
}
