import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { type ExecutionArgs, GraphQLError } from 'graphql';
import type { ServerOptions as GraphQLWsOptions } from 'graphql-ws';
import { createYoga, maskError } from 'graphql-yoga';
import { type WebSocket, WebSocketServer } from 'ws';
import {
  Access,
  type AccessOptions,
  type AppError,
  type ConnectionState,
  type LiveStore,
  openLiveStore,
  type StorageOptions,
  unavailable,
  type WriteLimits,
} from '../app/index.js';
import type { Viewer } from '../config/rules.js';
import type { CheckedConfig } from '../config/validate.js';
import {
  buildSchema,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_REQUEST_LIMITS,
  type RequestContext,
  type RequestLimits,
  toGraphQLError,
  useInputErrorCodes,
  usePayloadLimit,
  useRequestLimits,
  useResponseLimit,
  useSharedEventExecution,
} from '../graphql/index.js';
import { Authenticator, tokenExpired, unauthenticated } from './auth.js';
import { useCsrfPrevention } from './csrf.js';
import { serveDemo } from './demo.js';
import { serveGraphQLWs } from './graphql-ws-transport.js';
import { InFlightRequests } from './in-flight.js';
import { createLogger, type Logger, yogaLogger } from './logger.js';
import { ServerMetrics } from './metrics.js';
import { OriginPolicy, type OriginPolicyOptions } from './origin-policy.js';
import { createProbes } from './probes.js';
import { DEFAULT_MAX_QUEUED_BYTES } from './slow-readers.js';
import type { SocketWriter } from './socket-writer.js';
import { onceAt, type TokenExpiry, useTokenExpiry } from './token-expiry.js';

export interface ServerOptions {
  readonly checked: CheckedConfig;
  /** Default 4000; 0 picks a free port. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  readonly historySize?: number;
  readonly logger?: Logger;
  /** Where the tables are kept (see `StorageOptions`). Default: in memory, nothing kept. */
  readonly storage?: StorageOptions;
  /**
   * The HS256 secret of bearer tokens (AUTH_SECRET). Set: every request must carry a valid
   * token and the config's row-level rules are enforced for its viewer. Unset: the server runs
   * open (no authentication, no rules) and says so in a warning at start.
   */
  readonly authSecret?: string;
  /** Limits, grace period and capacity of live queries (see `AccessOptions`). */
  readonly liveQueries?: Omit<AccessOptions, 'enforceRules'>;
  /** Largest HTTP body and graphql-ws message, in bytes (default 4 MiB). */
  readonly maxPayloadBytes?: number;
  /** Largest result or subscription event sent, as JSON bytes (default 4 × `maxPayloadBytes`). */
  readonly maxResponseBytes?: number;
  /**
   * Bytes one connection may have waiting to be written to a client that reads slowly
   * (default 16 MiB); past it a WebSocket is closed with 1013. (An SSE stream waits for
   * each event to drain before it writes the next, so it holds one event at most.)
   */
  readonly maxQueuedBytes?: number;
  /** What one document may ask for (see `RequestLimits`). */
  readonly requestLimits?: Partial<RequestLimits>;
  /** What one write may carry (see `WriteLimits`). */
  readonly writeLimits?: Partial<WriteLimits>;
  /** How long a graceful stop waits for HTTP requests in flight before cutting them off (default 10 s). */
  readonly drainMs?: number;
  /** Other origins allowed to call the server and other host names it answers to (default: none; see `OriginPolicy`). */
  readonly origins?: OriginPolicyOptions;
  /** /ready answers 503 while the shared change log is applied further behind than this (default 5 s; see `createProbes`). */
  readonly readyMaxLagMs?: number;
  /** The bearer token /metrics asks for (METRICS_TOKEN); see `createProbes` for the policy without one. */
  readonly metricsToken?: string;
  /** This instance's name on the log metrics (default host name:port). */
  readonly instanceId?: string;
}

export interface RunningServer {
  /** `http://host:port/graphql`: queries, mutations, SSE subscriptions, GraphiQL. */
  readonly url: string;
  /** `ws://host:port/graphql`: graphql-ws. */
  readonly wsUrl: string;
  readonly port: number;
  readonly store: LiveStore;
  /** Views created on demand and the rules (for monitoring and tests). */
  readonly access: Access;
  /** What /metrics serves. */
  readonly metrics: ServerMetrics;
  /**
   * Graceful stop: refuse new connections and, with UNAVAILABLE (HTTP 503, Retry-After), every
   * new operation on the open ones; commit what is queued; complete every subscription
   * (graphql-ws `complete`, end of SSE streams); let the HTTP requests in flight finish (up to
   * `drainMs`); then close the sockets that remain.
   */
  close(): Promise<void>;
}

const ENDPOINT = '/graphql';
/** How long closing waits for clients to read their `complete` before cutting them off. */
const CLOSE_GRACE_MS = 200;
const DEFAULT_DRAIN_MS = 10_000;
/**
 * The default response cap, as a multiple of the payload limit: a response may be larger than
 * any request (a view gathers many records), but not without bound.
 */
const RESPONSE_TO_PAYLOAD = 4;

/**
 * Serves a config: graphql-yoga on node:http (HTTP, SSE, GraphiQL) and graphql-ws on the
 * same port and path, both executing through yoga's envelop so its plugins (error masking,
 * input error codes) apply to WebSocket operations too.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const logger = options.logger ?? createLogger();
  // Loads the stored tables and registers the views before the port opens.
  const store = await openLiveStore(options.checked, {
    logger,
    ...(options.historySize === undefined ? {} : { historySize: options.historySize }),
    ...(options.storage === undefined ? {} : { storage: options.storage }),
    ...(options.writeLimits === undefined ? {} : { writeLimits: options.writeLimits }),
  });
  const maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const maxResponseBytes = options.maxResponseBytes ?? RESPONSE_TO_PAYLOAD * maxPayloadBytes;
  const maxQueuedBytes = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
  // Set by `close`: from then on no new operation starts (it gets the retryable UNAVAILABLE).
  let stopping = false;
  const refuseWhenStopping = (): void => {
    if (stopping) throw toGraphQLError(unavailable());
  };
  const origins = new OriginPolicy(options.origins ?? {}, options.host ?? '127.0.0.1');
  const authenticator = options.authSecret === undefined ? undefined : new Authenticator(options.authSecret);
  const viewBudgetBytes = options.liveQueries?.maxViewBytes ?? defaultViewBudget();
  const access = new Access(store, {
    ...options.liveQueries,
    maxViewBytes: viewBudgetBytes,
    enforceRules: authenticator !== undefined,
  });
  const yoga = createYoga<
    // graphql-ws hands over the whole context (`ws: true`): see `onSubscribe` below.
    { ws?: true } & Partial<RequestContext>,
    RequestContext & TokenExpiry
  >({
    schema: buildSchema(
      options.checked,
      options.liveQueries?.limits === undefined ? {} : { limits: options.liveQueries.limits },
    ),
    // HTTP and SSE: the token of each request, one connection state per request (an SSE stream
    // ends when its token expires). graphql-ws authenticated its socket once (onConnect), closes
    // it at the token's expiry, and passes the viewer and its connection state.
    context: async (initial): Promise<RequestContext & TokenExpiry> => {
      refuseWhenStopping();
      if (initial.ws === true) return initial as RequestContext;
      const { request } = initial;
      if (authenticator === undefined)
        return { access, viewer: undefined, connection: { subscriptions: 0, transport: 'http' } };
      try {
        const session = await authenticator.session(request.headers.get('authorization'));
        return {
          access,
          viewer: session.viewer,
          connection: { subscriptions: 0, transport: 'http' },
          tokenExpiresAt: session.expiresAt,
        };
      } catch (error) {
        throw toGraphQLError(unauthenticated(error));
      }
    },
    graphqlEndpoint: ENDPOINT,
    // GraphiQL from a package, assets inlined: it works with no network beyond this server.
    renderGraphiQL,
    graphiql: {
      title: 'Live views',
      defaultQuery: defaultQuery(options.checked),
      // With tokens, GraphiQL subscribes over SSE: its Headers tab (Authorization) goes with every request.
      subscriptionsProtocol: authenticator === undefined ? 'WS' : 'SSE',
    },
    logging: yogaLogger(logger),
    // The body size is checked by `usePayloadLimit`, more cheaply.
    maxRequestBodySize: false,
    cors: origins.cors(),
    plugins: [
      origins.plugin(),
      useCsrfPrevention(),
      usePayloadLimit(maxPayloadBytes),
      ...useRequestLimits({ ...DEFAULT_REQUEST_LIMITS, ...options.requestLimits }),
      useInputErrorCodes(),
      useSharedEventExecution({
        maxResponseBytes,
        // As yoga masks the errors of other results (and logs what it masked).
        maskError: (error) => {
          const masked = maskError(error, 'Unexpected error.') as GraphQLError;
          if (masked !== error) logger.error('unexpected error in a subscription event', { error });
          return masked;
        },
      }),
      useResponseLimit(maxResponseBytes),
      useTokenExpiry(),
    ],
  });

  const metrics = new ServerMetrics({
    store,
    access,
    // The port is known once listening (0 picks one).
    instanceId: () => options.instanceId ?? `${hostname()}:${(httpServer.address() as AddressInfo | null)?.port}`,
    viewBudgetBytes,
  });
  store.observe(metrics);
  const probes = createProbes({
    store,
    metrics,
    origins,
    stopping: () => stopping,
    authRequired: authenticator !== undefined,
    ...(options.readyMaxLagMs === undefined ? {} : { readyMaxLagMs: options.readyMaxLagMs }),
    ...(options.metricsToken === undefined ? {} : { metricsToken: options.metricsToken }),
  });
  const httpServer = createServer((request, response) => {
    if (probes(request, response) || serveDemo(request, response)) return;
    void yoga(request, response);
  });
  const inFlight = new InFlightRequests(httpServer);
  // A larger message closes the socket with 1009 (Message Too Big) before it is read whole.
  const wss = new WebSocketServer({
    server: httpServer,
    path: ENDPOINT,
    maxPayload: maxPayloadBytes,
    verifyClient: origins.verifyClient(),
  });
  const queryTexts = new InternedTexts();
  /** The root value graphql-ws's `execute` and `subscribe` options call through. */
  let root: Enveloped | undefined;
  const graphqlWs = serveGraphQLWs<
    { [key: string]: unknown },
    {
      socket: WebSocket;
      writer: SocketWriter;
      viewer: Viewer | undefined;
      connection: ConnectionState | undefined;
      /** When the socket's token expires (epoch ms). */
      expiresAt: number | undefined;
    }
  >(
    {
      // The token comes once per socket; a refused one closes it with 4403 Forbidden, as
      // graphql-ws does for `onConnect` returning false (the reason says why). At the token's
      // `exp` the socket is closed the same way: the client connects again with a fresh token.
      onConnect: async (ctx) => {
        ctx.extra.connection = { subscriptions: 0, transport: 'ws' };
        if (authenticator === undefined) return true;
        const { socket } = ctx.extra;
        try {
          const session = await authenticator.session(ctx.connectionParams?.['authorization']);
          ctx.extra.viewer = session.viewer;
          ctx.extra.expiresAt = session.expiresAt;
          const cancel = onceAt(session.expiresAt, () => socket.close(4403, TOKEN_EXPIRED));
          socket.once('close', cancel);
          return true;
        } catch (error) {
          socket.close(4403, unauthenticated(error).message.slice(0, 120));
          return false;
        }
      },
      execute: (args) => (args.rootValue as Enveloped).execute(args),
      subscribe: (args) => (args.rootValue as Enveloped).subscribe(args),
      onSubscribe: async (ctx, id, payload) => {
        // The timer may be late (a busy event loop): nothing runs on an expired token.
        if (ctx.extra.expiresAt !== undefined && Date.now() >= ctx.extra.expiresAt) {
          ctx.extra.socket.close(4403, TOKEN_EXPIRED);
          return [wsError(tokenExpired())];
        }
        if (stopping) return [wsError(unavailable())];
        // The whole context, made here in one object literal: it lives as long as the operation,
        // and yoga's context step, given it complete, adds nothing to it.
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ws: true,
          access,
          viewer: ctx.extra.viewer,
          connection: ctx.extra.connection ?? { subscriptions: 0, transport: 'ws' },
          resultWriter: ctx.extra.writer.forOperation(id),
        });
        // graphql-ws keeps the message as long as the operation lives: one copy of each text.
        (payload as { query: string }).query = queryTexts.intern(payload.query);
        let document: ExecutionArgs['document'];
        try {
          document = parse(payload.query);
        } catch (error) {
          // A syntax error or a refused document (too many tokens) is this operation's error.
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
        // envelop gives the same two functions to every operation (unless instrumented per
        // operation): one root object serves them all rather than one per subscription.
        if (root?.execute !== execute || root?.subscribe !== subscribe) root = { execute, subscribe };
        const args: ExecutionArgs = {
          schema,
          operationName: payload.operationName ?? null,
          document,
          variableValues: payload.variables ?? null,
          contextValue: await contextFactory(),
          rootValue: root,
        };
        const errors = validate(args.schema, args.document);
        return errors.length > 0 ? errors : args;
      },
    },
    wss,
    { maxQueuedBytes, logger },
    // Every field the hooks set later is declared here: the object keeps one shape, no property array.
    (socket, writer) => ({ socket, writer, viewer: undefined, connection: undefined, expiresAt: undefined }),
  );

  httpServer.listen(options.port ?? 4000, options.host ?? '127.0.0.1');
  try {
    await once(httpServer, 'listening');
  } catch (error) {
    await store.close(); // releases the data file's lock
    throw error;
  }
  const address = httpServer.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}${ENDPOINT}`;

  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    stopping = true;
    const stopped = new Promise<void>((resolve) => httpServer.close(() => resolve()));
    await store.close();
    // Let graphql-ws send `complete` and yoga end the SSE streams before the sockets go.
    await new Promise((resolve) => setTimeout(resolve, CLOSE_GRACE_MS));
    // Operations sent meanwhile, on a WebSocket or in a request still in flight, get UNAVAILABLE.
    if (!(await inFlight.idle(options.drainMs ?? DEFAULT_DRAIN_MS)))
      logger.warn('closing HTTP requests still in flight', { requests: inFlight.count });
    await graphqlWs.dispose();
    httpServer.closeAllConnections();
    await stopped;
    await yoga.dispose();
  };
  return {
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    port: address.port,
    store,
    access,
    metrics,
    close: () => (closing ??= close()),
  };
}

/**
 * One copy of each query text subscribers send (they mostly send the same few): a text of up
 * to 4 KiB, among the last 1,000 distinct ones, is replaced by the copy seen first.
 */
class InternedTexts {
  readonly #texts = new Map<string, string>();

  intern(text: string): string {
    if (text.length > 4096) return text;
    const known = this.#texts.get(text);
    if (known !== undefined) return known;
    if (this.#texts.size >= 1000) this.#texts.clear();
    this.#texts.set(text, text);
    return text;
  }
}

/** The close reason of a socket whose token expired. */
const TOKEN_EXPIRED = 'the token has expired';

/** An operation's error over a WebSocket: the code is what counts, no HTTP status to carry. */
function wsError(error: AppError): GraphQLError {
  const { http: _http, ...extensions } = (toGraphQLError(error) as GraphQLError).extensions;
  return new GraphQLError(error.message, { extensions });
}

type Enveloped = {
  execute: (args: ExecutionArgs) => ReturnType<NonNullable<GraphQLWsOptions['execute']>>;
  subscribe: (args: ExecutionArgs) => ReturnType<NonNullable<GraphQLWsOptions['subscribe']>>;
};

/**
 * The engine memory live queries may hold by default: half the heap limit, leaving the rest to
 * the tables, the config's views, histories and requests in flight.
 */
function defaultViewBudget(): number {
  return Math.floor(getHeapStatistics().heap_size_limit / 2);
}

/** What GraphiQL shows first: a subscription to the first view (ids only). */
function defaultQuery(checked: CheckedConfig): string {
  const view = checked.config.views[0];
  const list = checked.config.views.map((v) => v.id).join(', ');
  if (view === undefined) return '{ views { id version rowCount } }\n';
  return [
    `# Views: ${list}.`,
    '# Run this, then send a mutation from a second browser tab (a tab of this window would stop it)',
    '# or from /demo: every affected view streams its delta.',
    `subscription {`,
    `  ${view.id} {`,
    `    kind version hash`,
    `    added { id }`,
    `    updated { id }`,
    `    removed`,
    `  }`,
    `}`,
    '',
  ].join('\n');
}
