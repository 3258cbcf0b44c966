import type { WebSocket } from 'ws';

/** What one connection may have queued for a client that reads slowly, by default (16 MiB). */
export const DEFAULT_MAX_QUEUED_BYTES = 16 * 1024 * 1024;

/**
 * The close code of a WebSocket whose reader fell behind: 1013 Try Again Later, which
 * graphql-ws clients retry (reconnecting with `sinceVersion` keeps their place).
 */
const SLOW_READER_CLOSE_CODE = 1013;

/**
 * How long the close frame may wait behind the queued bytes before the socket is cut:
 * a reader this far behind would take longer to reach it, and the queue is what must go.
 */
const CLOSE_FRAME_GRACE_MS = 1_000;

/**
 * Closes `socket` when more than `maxBytes` wait to be written to it (ws's own queue and the
 * TCP socket's buffer). Called before each send: a client that stops reading otherwise makes
 * the server hold every message sent to it, a SNAPSHOT of a big view for each subscription.
 * Checked before rather than after, so that one message larger than the bound still reaches
 * a client that reads. True when the socket is (being) closed: the message is not sent.
 */
export function closeIfSlowSocket(socket: WebSocket, maxBytes: number): boolean {
  if (socket.readyState !== socket.OPEN) return true;
  if (socket.bufferedAmount <= maxBytes) return false;
  socket.close(SLOW_READER_CLOSE_CODE, `Slow reader: more than ${maxBytes} bytes queued`);
  setTimeout(() => socket.terminate(), CLOSE_FRAME_GRACE_MS).unref();
  return true;
}
