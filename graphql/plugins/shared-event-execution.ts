import { createSourceEventStream, type DocumentNode, type ExecutionArgs, type ExecutionResult, execute } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { type EventSink, type ViewEvent, ViewStream } from '../../app/index.js';

type Result = ExecutionResult | Promise<ExecutionResult>;

/**
 * What a transport puts in a subscription's context (`resultWriter`) to take its results as
 * JSON text, written straight to its connection (graphql-ws: see server/graphql-ws-transport.ts).
 */
export interface ResultWriter {
  /**
   * Writes one result, `{"data":…}` as JSON. `skippable` (a DELTA): the writer may refuse it
   * (false) when the connection is too far behind; the stream then sends a fresh SNAPSHOT once
   * `whenDrained` calls back.
   */
  write(resultJson: string, skippable: boolean): boolean;
  whenDrained(callback: () => void): void;
}

/** One event's result for one operation, and its JSON when it may be written as it is. */
interface Executed {
  readonly result: Result;
  /** Undefined until asked; null when the result must go through the iterator (errors, too large, async). */
  json: string | null | undefined;
}

/**
 * Executes — and serialises — each subscription event once per distinct operation instead of
 * once per subscriber. A DELTA is one object published to every subscriber of its view, and
 * subscribers of a view mostly send the same document (yoga's parse cache gives one
 * `DocumentNode` per query text) with the same variables; the result of executing the
 * selection over the event is then the same for all of them, so it is computed for the first
 * and reused by the others: a cohort is (event, document, operation name, variables).
 * Per-viewer views never share a cohort: a viewer whose rules differ is served another view,
 * whose events are other objects.
 *
 * When the context carries a `resultWriter` (graphql-ws), the view's stream is pushed
 * (`ViewStream.push`) and each result's JSON, made once per cohort, is handed to the writer,
 * which adds the operation id and writes it: no async iterator step, promise or
 * `JSON.stringify` per subscriber. Only results that are plain data within `maxResponseBytes`
 * go that way; any other (errors, too large, asynchronous) goes through the iterator as
 * before, where yoga's plugins (error masking, the response cap) see it, and the stream is
 * pulled from then on, so order is kept. Without a writer (SSE) the stream is pulled and only
 * execution is shared.
 *
 * Valid because no resolver under a subscription field reads the context or anything but
 * the event (rows are plain data). A field that depended on the viewer (authorisation,
 * masking per user) would have to be part of the key.
 *
 * It replaces only the subscribe function: the source stream still comes from the schema's
 * subscribe resolver.
 */
export function useSharedEventExecution(maxResponseBytes: number): Plugin {
  const results = new WeakMap<object, WeakMap<DocumentNode, Map<string, Executed>>>();
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn((async (args: ExecutionArgs) => {
        const source = await createSourceEventStream(args);
        if (!isAsyncIterable(source)) return source;
        const key = `${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? null)}`;
        const executed = (event: unknown): Executed => {
          const run = (): Executed => ({
            result: execute({ ...args, rootValue: event }) as Result,
            json: undefined,
          });
          if (typeof event !== 'object' || event === null) return run();
          let byDocument = results.get(event);
          if (byDocument === undefined) results.set(event, (byDocument = new WeakMap()));
          let byKey = byDocument.get(args.document);
          if (byKey === undefined) byDocument.set(args.document, (byKey = new Map()));
          let entry = byKey.get(key);
          if (entry === undefined) byKey.set(key, (entry = run()));
          return entry;
        };
        const writer = (args.contextValue as { resultWriter?: ResultWriter } | undefined)?.resultWriter;
        if (writer !== undefined && source instanceof ViewStream)
          return pushed(source, writer, (event) => jsonOf(executed(event), maxResponseBytes), executed);
        return mapEvents(source, (event) => executed(event).result);
      }) as never);
    },
  };
}

/** The result's JSON (`{"data":…}`), made once per cohort; null when it is not plain data within `maxBytes`. */
function jsonOf(entry: Executed, maxBytes: number): string | null {
  if (entry.json !== undefined) return entry.json;
  const result = entry.result;
  entry.json = null;
  if (result instanceof Promise || result.errors !== undefined || result.extensions !== undefined) return null;
  const data = JSON.stringify(result.data ?? null);
  // The cap counts `data` as JSON bytes, as `useResponseLimit` does (a string's length is a lower bound).
  if (data.length > maxBytes || Buffer.byteLength(data) > maxBytes) return null;
  entry.json = `{"data":${data}}`;
  return entry.json;
}

/**
 * The subscription's iterator when its stream is pushed to a writer: its first `next()`
 * starts the push and resolves when the stream ends, or with the first result that cannot be
 * written as JSON; later `next()`s pull the stream.
 */
function pushed(
  stream: ViewStream,
  writer: ResultWriter,
  json: (event: ViewEvent) => string | null,
  executed: (event: ViewEvent) => Executed,
): AsyncIterableIterator<ExecutionResult> {
  const pulled = mapEvents(stream, (event) => executed(event as ViewEvent).result);
  let started = false;
  let handOver: ((step: Promise<IteratorResult<ExecutionResult>>) => void) | undefined;
  const sink: EventSink = {
    write(event) {
      const text = json(event);
      if (text !== null) return writer.write(text, event.kind === 'DELTA');
      stream.unpush();
      const result = executed(event).result;
      handOver?.(Promise.resolve(result).then((value) => ({ done: false, value })));
      handOver = undefined;
      return true;
    },
    whenDrained: (callback) => writer.whenDrained(callback),
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next() {
      if (started) return pulled.next();
      started = true;
      return new Promise<IteratorResult<ExecutionResult>>((resolve, reject) => {
        handOver = resolve as never;
        stream.push(sink).then(() => resolve({ done: true, value: undefined }), reject);
      });
    },
    return: () => pulled.return(),
    throw: (error: unknown) => pulled.throw(error),
  };
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** Maps a stream; `return()` reaches the source at once (it releases the subscriber). */
function mapEvents(
  source: AsyncIterable<unknown>,
  map: (event: unknown) => Result,
): AsyncIterableIterator<ExecutionResult> & {
  return(): Promise<IteratorResult<ExecutionResult>>;
  throw(error: unknown): Promise<IteratorResult<ExecutionResult>>;
} {
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
