import type { IncomingMessage } from 'node:http';
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from './logger.js';
import { closeIfSlowSocket } from './slow-readers.js';

export interface GraphQLWsTransportOptions {
  /** Bytes a socket may have queued before it is closed as a slow reader (see `closeIfSlowSocket`). */
  readonly maxQueuedBytes: number;
  /** Ping interval; a socket that has not answered the last ping by the next one is cut. Default 12 s. */
  readonly keepAliveMs?: number;
  readonly logger: Logger;
}

/** What graphql-ws hands our hooks as `ctx.extra`. */
export interface SocketExtra {
  readonly socket: WebSocket;
  readonly request: IncomingMessage;
}

/**
 * graphql-ws on a `ws` server: the protocol is graphql-ws's own (`makeServer`); this is the
 * transport its `useServer` would be (keep-alive pings, errors close with 4500), plus one
 * thing it cannot do: each send is preceded by a look at what the socket has queued, so a
 * client that stops reading is closed (1013) before the server holds an unbounded backlog for it.
 */
export function serveGraphQLWs<P extends { [key: string]: unknown }, E extends SocketExtra>(
  options: ServerOptions<P, E>,
  wss: WebSocketServer,
  transport: GraphQLWsTransportOptions,
  extra: (socket: WebSocket, request: IncomingMessage) => E,
): { dispose(): Promise<void> } {
  const server = makeServer<P, E>(options);
  const { maxQueuedBytes, logger } = transport;
  const keepAliveMs = transport.keepAliveMs ?? 12_000;
  wss.options.handleProtocols = handleProtocols;
  const internalError = (socket: WebSocket, error: unknown): void => {
    logger.error('graphql-ws: internal error, closing the socket', { error });
    socket.close(CloseCode.InternalServerError, 'Internal server error');
  };
  wss.on('connection', (socket, request) => {
    // A client breaking the WebSocket protocol (a frame past `maxPayload`, a bad frame): ws
    // closes the socket itself (1009, 1002); that is the client's fault, not the server's.
    socket.on('error', (error) => logger.debug('graphql-ws: socket error', { error: error.message }));
    let alive = true;
    socket.on('pong', () => {
      alive = true;
    });
    const keepAlive = setInterval(() => {
      if (socket.readyState !== socket.OPEN) return;
      if (!alive) return void socket.terminate();
      alive = false;
      socket.ping();
    }, keepAliveMs);
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (closeIfSlowSocket(socket, maxQueuedBytes)) return resolve();
            socket.send(data, (error) => (error ? reject(error) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', async (data) => {
            try {
              await handle(String(data));
            } catch (error) {
              internalError(socket, error);
            }
          }),
      },
      extra(socket, request),
    );
    socket.once('close', (code, reason) => {
      clearInterval(keepAlive);
      void closed(code, String(reason));
    });
  });
  return {
    dispose: async () => {
      for (const client of wss.clients) client.close(1001, 'Going away');
      wss.removeAllListeners();
      await new Promise<void>((resolve, reject) => wss.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
