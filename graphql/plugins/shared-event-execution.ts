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

/** One event's result for one operation (a cohort), and its JSON when it may be written as it is. */
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
        const operation = new Operation(args, results, maxResponseBytes);
        const writer = (args.contextValue as { resultWriter?: ResultWriter } | undefined)?.resultWriter;
        if (writer !== undefined && source instanceof ViewStream) return new PushedResults(source, writer, operation);
        return new MappedResults(source[Symbol.asyncIterator](), operation);
      }) as never);
    },
  };
}

/**
 * One subscription's operation: executes an event with it, once per cohort. Classes rather
 * than closures here and below: these objects live as long as their subscription, one per
 * subscriber, and a class keeps their methods shared.
 */
class Operation {
  readonly #args: ExecutionArgs;
  readonly #key: string;
  readonly #results: WeakMap<object, WeakMap<DocumentNode, Map<string, Executed>>>;
  readonly #maxResponseBytes: number;

  constructor(
    args: ExecutionArgs,
    results: WeakMap<object, WeakMap<DocumentNode, Map<string, Executed>>>,
    maxResponseBytes: number,
  ) {
    this.#args = args;
    this.#key = `${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? null)}`;
    this.#results = results;
    this.#maxResponseBytes = maxResponseBytes;
  }

  executed(event: unknown): Executed {
    if (typeof event !== 'object' || event === null) return this.#run(event);
    let byDocument = this.#results.get(event);
    if (byDocument === undefined) this.#results.set(event, (byDocument = new WeakMap()));
    let byKey = byDocument.get(this.#args.document);
    if (byKey === undefined) byDocument.set(this.#args.document, (byKey = new Map()));
    let entry = byKey.get(this.#key);
    if (entry === undefined) byKey.set(this.#key, (entry = this.#run(event)));
    return entry;
  }

  /** The result's JSON (`{"data":…}`), made once per cohort; null when it is not plain data within the response cap. */
  json(event: unknown): string | null {
    const entry = this.executed(event);
    if (entry.json !== undefined) return entry.json;
    const result = entry.result;
    entry.json = null;
    if (result instanceof Promise || result.errors !== undefined || result.extensions !== undefined) return null;
    const data = JSON.stringify(result.data ?? null);
    // The cap counts `data` as JSON bytes, as `useResponseLimit` does (a string's length is a lower bound).
    if (data.length > this.#maxResponseBytes || Buffer.byteLength(data) > this.#maxResponseBytes) return null;
    entry.json = `{"data":${data}}`;
    return entry.json;
  }

  #run(event: unknown): Executed {
    return { result: execute({ ...this.#args, rootValue: event }) as Result, json: undefined };
  }
}

/**
 * The subscription's iterator when its stream is pushed to a writer: its first `next()`
 * starts the push and resolves when the stream ends, or with the first result that cannot be
 * written as JSON; later `next()`s pull the stream.
 */
class PushedResults implements AsyncIterableIterator<ExecutionResult>, EventSink {
  readonly #stream: ViewStream;
  readonly #writer: ResultWriter;
  readonly #operation: Operation;
  #started = false;
  /** Resolves the first `next()`: at the end, or with a result to go through the iterator. */
  #handOver: ((step: IteratorResult<ExecutionResult> | Promise<IteratorResult<ExecutionResult>>) => void) | undefined;
  #pulled: MappedResults | undefined;

  constructor(stream: ViewStream, writer: ResultWriter, operation: Operation) {
    this.#stream = stream;
    this.#writer = writer;
    this.#operation = operation;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    if (this.#started) return this.#pull().next();
    this.#started = true;
    const first = new Promise<IteratorResult<ExecutionResult>>((resolve) => (this.#handOver = resolve));
    this.#stream.push(this);
    return first;
  }

  write(event: ViewEvent): boolean {
    const text = this.#operation.json(event);
    if (text !== null) return this.#writer.write(text, event.kind === 'DELTA');
    // Through the iterator (yoga's plugins see it), and every later event after it.
    this.#stream.unpush();
    const result = this.#operation.executed(event).result;
    this.#handOver?.(Promise.resolve(result).then((value) => ({ done: false, value })));
    this.#handOver = undefined;
    return true;
  }

  whenDrained(callback: () => void): void {
    this.#writer.whenDrained(callback);
  }

  end(): void {
    this.#handOver?.(DONE);
    this.#handOver = undefined;
  }

  return(): Promise<IteratorResult<ExecutionResult>> {
    return this.#pull().return();
  }

  throw(error: unknown): Promise<IteratorResult<ExecutionResult>> {
    return this.#pull().throw(error);
  }

  #pull(): MappedResults {
    this.#pulled ??= new MappedResults(this.#stream, this.#operation);
    return this.#pulled;
  }
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** A stream's events executed with the operation; `return()` reaches the source at once (it releases the subscriber). */
class MappedResults implements AsyncIterableIterator<ExecutionResult> {
  readonly #source: AsyncIterator<unknown>;
  readonly #operation: Operation;

  constructor(source: AsyncIterator<unknown>, operation: Operation) {
    this.#source = source;
    this.#operation = operation;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<ExecutionResult>> {
    const step = await this.#source.next();
    if (step.done === true) return DONE;
    return { done: false, value: await this.#operation.executed(step.value).result };
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    await this.#source.return?.();
    return DONE;
  }

  async throw(error: unknown): Promise<IteratorResult<ExecutionResult>> {
    await this.#source.return?.();
    throw error;
  }
}
