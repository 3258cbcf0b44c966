import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import {
  CloseCode,
  type WebSocket as GraphQLWsSocket,
  handleProtocols,
  MessageType,
  makeServer,
  type ServerOptions,
} from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from './logger.js';
import { closeIfSlowSocket } from './slow-readers.js';
import { SocketWriter } from './socket-writer.js';

export interface GraphQLWsTransportOptions {
  /** Bytes a socket may have queued before it is closed as a slow reader (see `closeIfSlowSocket`). */
  readonly maxQueuedBytes: number;
  /** Ping interval; a socket that has not answered the last ping by the next one is cut. Default 12 s. */
  readonly keepAliveMs?: number;
  readonly logger: Logger;
}

/**
 * What graphql-ws hands our hooks as `ctx.extra`. Not the upgrade request: a socket holds it
 * for its whole life, and what is needed of it is read at once (`extra`).
 */
export interface SocketExtra {
  readonly socket: WebSocket;
  /** Writes an operation's results straight to the socket (see `SocketWriter`). */
  readonly writer: SocketWriter;
}

/**
 * graphql-ws on a `ws` server: the protocol is graphql-ws's own (`makeServer`); this is the
 * transport its `useServer` would be (keep-alive pings, errors close with 4500), plus two
 * things it cannot do:
 * - each send is preceded by a look at what the socket has queued, so a client that stops
 *   reading is closed (1013) before the server holds an unbounded backlog for it;
 * - a `SocketWriter` per socket (in `extra`), which the operation's context hands to the
 *   subscription: its `next` messages are written from the JSON shared by every subscriber of
 *   the same event and operation, instead of going through graphql-ws's `for await` and
 *   `JSON.stringify` of each message (see `useSharedEventExecution`). Everything else — the
 *   handshake, `subscribe`, `complete`, errors, the last message of an operation — is
 *   graphql-ws's. That splice is the smallest adapter that removes the per-subscriber work:
 *   graphql-ws has no hook to send a pre-serialised message (`onNext` may only replace the
 *   result, which it still stringifies and awaits per subscriber).
 */
export function serveGraphQLWs<P extends { [key: string]: unknown }, E extends SocketExtra>(
  options: ServerOptions<P, E>,
  wss: WebSocketServer,
  transport: GraphQLWsTransportOptions,
  extra: (socket: WebSocket, writer: SocketWriter, request: IncomingMessage) => E,
): { dispose(): Promise<void> } {
  // The wait for `connection_init` is timed here: graphql-ws's own timer would stay on the heap
  // (with its closure) for the socket's whole life, cleared but still referenced.
  const initWaitMs = options.connectionInitWaitTimeout ?? 3_000;
  const server = makeServer<P, E>({ ...options, connectionInitWaitTimeout: 0 });
  const { maxQueuedBytes, logger } = transport;
  const keepAliveMs = transport.keepAliveMs ?? 12_000;
  wss.options.handleProtocols = handleProtocols;
  // One timer for every socket: a socket that has not answered the last ping by the next one is cut.
  const unanswered = new WeakSet<WebSocket>();
  const keepAlive = setInterval(() => {
    for (const socket of wss.clients) {
      if (socket.readyState !== socket.OPEN) continue;
      if (unanswered.has(socket)) socket.terminate();
      else {
        unanswered.add(socket);
        socket.ping();
      }
    }
  }, keepAliveMs);
  keepAlive.unref();
  // Listeners shared by every socket (`this` is the socket): nothing per socket but its `Connection`.
  const connections = new WeakMap<WebSocket, Connection>();
  function onPong(this: WebSocket): void {
    unanswered.delete(this);
  }
  // A client breaking the WebSocket protocol (a frame past `maxPayload`, a bad frame): ws
  // closes the socket itself (1009, 1002); that is the client's fault, not the server's.
  function onError(error: Error): void {
    logger.debug('graphql-ws: socket error', { error: error.message });
  }
  function onMessage(this: WebSocket, data: unknown): void {
    connections.get(this)?.received(parsed(String(data), options.jsonMessageReviver));
  }
  function onClose(this: WebSocket, code: number, reason: Buffer): void {
    const connection = connections.get(this);
    connections.delete(this);
    connection?.initialised();
    void connection?.closed?.(code, String(reason));
  }
  wss.on('connection', (socket, request) => {
    socket.on('error', onError);
    socket.on('pong', onPong);
    socket.on('message', onMessage);
    socket.on('close', onClose);
    const writer = new SocketWriter(socket, request.socket as Socket, maxQueuedBytes);
    const connection = new Connection(socket, maxQueuedBytes, logger, initWaitMs);
    connections.set(socket, connection);
    connection.closed = server.opened(connection, extra(socket, writer, request));
  });
  return {
    dispose: async () => {
      clearInterval(keepAlive);
      for (const client of wss.clients) client.close(1001, 'Going away');
      wss.removeAllListeners();
      await new Promise<void>((resolve, reject) => wss.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

/**
 * What graphql-ws's `makeServer` sends through and reads from, for one socket. A class: one
 * lives per connection, and its methods are shared.
 */
class Connection implements GraphQLWsSocket {
  readonly protocol: string;
  readonly #socket: WebSocket;
  readonly #maxQueuedBytes: number;
  readonly #logger: Logger;
  #handle: ((data: string) => Promise<void>) | undefined;
  /** Until `connection_init` arrives: past it the socket is closed (4408), as graphql-ws would. */
  #initWait: NodeJS.Timeout | undefined;
  /** What graphql-ws does when the socket closed (ends its operations). */
  closed: ((code?: number, reason?: string) => Promise<void>) | undefined;

  constructor(socket: WebSocket, maxQueuedBytes: number, logger: Logger, initWaitMs: number) {
    this.protocol = socket.protocol;
    this.#socket = socket;
    this.#maxQueuedBytes = maxQueuedBytes;
    this.#logger = logger;
    if (initWaitMs > 0 && Number.isFinite(initWaitMs))
      this.#initWait = setTimeout(closeUninitialised, initWaitMs, socket);
  }

  /** `connection_init` arrived (or the socket closed): the wait for it is over. */
  initialised(): void {
    clearTimeout(this.#initWait);
    this.#initWait = undefined;
  }

  send(data: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (closeIfSlowSocket(this.#socket, this.#maxQueuedBytes)) return resolve();
      this.#socket.send(data, (error) => (error ? reject(error) : resolve()));
    });
  }

  close(code?: number, reason?: string): void {
    this.#socket.close(code, reason);
  }

  onMessage(handle: (data: string) => Promise<void>): void {
    this.#handle = handle;
  }

  /** Not an async function: a subscription's message is handled until it ends, and nothing here need wait for it. */
  received(data: string): void {
    if (this.#initWait !== undefined && (data as unknown as { type?: unknown }).type === MessageType.ConnectionInit)
      this.initialised();
    this.#handle?.(data).catch((error: unknown) => {
      this.#logger.error('graphql-ws: internal error, closing the socket', { error });
      this.#socket.close(CloseCode.InternalServerError, 'Internal server error');
    });
  }
}

function closeUninitialised(socket: WebSocket): void {
  socket.close(CloseCode.ConnectionInitialisationTimeout, 'Connection initialisation timeout');
}

/**
 * The message as graphql-ws's `parseMessage` would read it, parsed here so that graphql-ws's
 * handler (which lives as long as a subscription, with its argument) holds the parsed message it
 * keeps anyway rather than the text too: `parseMessage` takes either (its `data` is `unknown`)
 * and validates both alike. Text that is not a JSON object goes on as it is, for graphql-ws to
 * refuse (4400).
 */
function parsed(text: string, reviver: ServerOptions['jsonMessageReviver']): string {
  try {
    const message: unknown = JSON.parse(text, reviver);
    return typeof message === 'object' && message !== null ? (message as unknown as string) : text;
  } catch {
    return text;
  }
}
