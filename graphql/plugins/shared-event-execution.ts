import {
  createSourceEventStream,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  execute,
  GraphQLError,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { type EventSink, type ViewEvent, ViewStream } from '../../app/index.js';
import { responseTooLarge } from './response-limit.js';

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

/** What a pushed subscription writes for one event: the result as JSON, and whether the stream ends after it. */
interface Written {
  readonly json: string;
  readonly last: boolean;
}

/** One event's result for one operation (a cohort), and what a pushed stream writes for it (made once, when asked). */
interface Executed {
  readonly result: Result;
  /**
   * `JSON.stringify(result)` of a plain-data result, made once when first asked: by yoga's SSE
   * processor, through the result's `stringify` (yoga's hook for a result that serialises
   * itself), or by a pushed stream.
   */
  json: string | undefined;
  written: Written | Promise<Written> | undefined;
}

/** What the plugins after this one would do to a subscription's result, done here for pushed streams (once per cohort). */
export interface PushedResultRules {
  /** Largest event as JSON bytes of its `data`: a larger one becomes `LIMIT_EXCEEDED` and ends the stream. */
  readonly maxResponseBytes: number;
  /** Yoga's error masking (unexpected errors become `Unexpected error.`, and are logged). */
  readonly maskError: (error: GraphQLError) => GraphQLError;
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
 * When the context carries a `resultWriter` (graphql-ws) and the source is a view's stream, the
 * stream is pushed (`ViewStream.push`) and each event's JSON, made once per cohort, is handed
 * to the writer, which adds the operation id and writes it: no async iterator step, promise or
 * `JSON.stringify` per subscriber. Such an operation ends envelop's `onSubscribe` chain here
 * (`setResultAndStopExecution`): the plugins after this one would wrap its iterator in
 * per-operation layers (error masking, the response cap) that each subscriber would hold for
 * its whole life (about 3 KB) though no event goes through them. What they do is done here
 * instead, once per cohort (`PushedResultRules`): errors are masked with yoga's `maskError`,
 * and an event over the response cap becomes `LIMIT_EXCEEDED` and ends the stream, as
 * `useResponseLimit` does. Without a writer (SSE), or for a refused subscription, the other
 * plugins run as usual and only execution is shared.
 *
 * Valid because no resolver under a subscription field reads the context or anything but
 * the event (rows are plain data). A field that depended on the viewer (authorisation,
 * masking per user) would have to be part of the key.
 *
 * The source stream still comes from the schema's subscribe resolver.
 */
export function useSharedEventExecution(rules: PushedResultRules): Plugin {
  const results = new WeakMap<object, WeakMap<DocumentNode, Map<string, Executed>>>();
  const pulled = async (args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> => {
    const source = await createSourceEventStream(args);
    if (!isAsyncIterable(source)) return source;
    return new MappedResults(source[Symbol.asyncIterator](), new Operation(args, results, rules));
  };
  return {
    async onSubscribe({ args, setSubscribeFn, setResultAndStopExecution }) {
      const writer = (args.contextValue as { resultWriter?: ResultWriter } | undefined)?.resultWriter;
      if (writer === undefined) return setSubscribeFn(pulled as never);
      const source = await createSourceEventStream(args);
      if (source instanceof ViewStream)
        return setResultAndStopExecution(new PushedResults(source, writer, new Operation(args, results, rules)));
      // A refused subscription (an error result) or another kind of stream: the plugins after this one see it.
      const result = isAsyncIterable(source)
        ? new MappedResults(source[Symbol.asyncIterator](), new Operation(args, results, rules))
        : source;
      setSubscribeFn((() => result) as never);
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
  readonly #rules: PushedResultRules;

  constructor(
    args: ExecutionArgs,
    results: WeakMap<object, WeakMap<DocumentNode, Map<string, Executed>>>,
    rules: PushedResultRules,
  ) {
    this.#args = args;
    this.#key = cohortKey(args.operationName, args.variableValues);
    this.#results = results;
    this.#rules = rules;
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

  /** What a pushed stream writes for `event`, made once per cohort. */
  written(event: unknown): Written | Promise<Written> {
    const entry = this.executed(event);
    entry.written ??=
      entry.result instanceof Promise
        ? entry.result.then(
            (result) => this.#written(entry, result),
            (error: unknown) => ({
              json: JSON.stringify({ errors: [this.#rules.maskError(asGraphQLError(error))] }),
              last: true,
            }),
          )
        : this.#written(entry, entry.result);
    return entry.written;
  }

  #written(entry: Executed, result: ExecutionResult): Written {
    const { maxResponseBytes, maskError } = this.#rules;
    const json = isPlainData(result) ? (entry.json ??= JSON.stringify(result)) : undefined;
    // The data's JSON: inside `{"data":…}` when the result is plain.
    const data = json === undefined ? JSON.stringify(result.data ?? null) : json.slice(PLAIN_HEAD.length, -1);
    // The cap counts `data` as JSON bytes, as `useResponseLimit` does (a string's length is a lower bound).
    if (data.length > maxResponseBytes || Buffer.byteLength(data) > maxResponseBytes)
      return { json: JSON.stringify(responseTooLarge(maxResponseBytes)), last: true };
    if (json !== undefined) return { json, last: false };
    return { json: JSON.stringify({ ...result, errors: result.errors?.map(maskError) }), last: false };
  }

  #run(event: unknown): Executed {
    const result = execute({ ...this.#args, rootValue: event }) as Result;
    const entry: Executed = { result, json: undefined, written: undefined };
    // Serialised once for every SSE subscriber of the cohort: yoga uses a result's own `stringify`.
    if (!(result instanceof Promise) && isPlainData(result))
      Object.defineProperty(result, 'stringify', { value: () => (entry.json ??= JSON.stringify(result)) });
    return entry;
  }
}

/** What comes before the data in a plain-data result's JSON (and `}` after it). */
const PLAIN_HEAD = '{"data":';

/** A result that is `{ data }` alone: its JSON is `{"data":…}`. */
function isPlainData(result: ExecutionResult): boolean {
  return (
    result.data !== undefined &&
    result.errors === undefined &&
    result.extensions === undefined &&
    Object.keys(result).length === 1
  );
}

/** Operations with no name and no variables (most subscribers) share one key string. */
const PLAIN_KEY = '\u0000null';

function cohortKey(operationName: string | null | undefined, variables: unknown): string {
  if (!operationName && (variables === null || variables === undefined)) return PLAIN_KEY;
  return `${operationName ?? ''}\u0000${JSON.stringify(variables ?? null)}`;
}

function asGraphQLError(error: unknown): GraphQLError {
  return error instanceof GraphQLError
    ? error
    : new GraphQLError(error instanceof Error ? error.message : String(error), {
        originalError: error instanceof Error ? error : undefined,
      });
}

/**
 * The subscription's iterator when its stream is pushed to a writer: its first `next()` starts
 * the push and resolves when the stream ends; every event is written by the writer meanwhile.
 */
class PushedResults implements AsyncIterableIterator<ExecutionResult>, EventSink {
  readonly #stream: ViewStream;
  readonly #writer: ResultWriter;
  readonly #operation: Operation;
  #started = false;
  /** Resolves the first `next()`, at the end. */
  #finish: ((step: IteratorResult<ExecutionResult>) => void) | undefined;

  constructor(stream: ViewStream, writer: ResultWriter, operation: Operation) {
    this.#stream = stream;
    this.#writer = writer;
    this.#operation = operation;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    // graphql-ws asks again only after the first `next()` resolved, which is the end.
    if (this.#started) return Promise.resolve(DONE);
    this.#started = true;
    const end = new Promise<IteratorResult<ExecutionResult>>((resolve) => (this.#finish = resolve));
    this.#stream.push(this);
    return end;
  }

  write(event: ViewEvent): boolean {
    const written = this.#operation.written(event);
    if (!(written instanceof Promise)) return this.#send(written, event.kind === 'DELTA');
    // An asynchronous result (none in our schema): later events wait until it is written, so order is kept.
    this.#stream.unpush();
    void written.then((ready) => {
      this.#send(ready, false);
      this.#stream.push(this);
    });
    return true;
  }

  #send(written: Written, skippable: boolean): boolean {
    if (!written.last) return this.#writer.write(written.json, skippable);
    this.#writer.write(written.json, false);
    void this.#stream.return();
    return true;
  }

  whenDrained(callback: () => void): void {
    this.#writer.whenDrained(callback);
  }

  end(): void {
    this.#finish?.(DONE);
    this.#finish = undefined;
  }

  async return(): Promise<IteratorResult<ExecutionResult>> {
    await this.#stream.return();
    return DONE;
  }

  async throw(error: unknown): Promise<IteratorResult<ExecutionResult>> {
    await this.#stream.return();
    throw error;
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
