import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { ResultWriter } from '../graphql/index.js';
import { closeIfSlowSocket } from './slow-readers.js';

/** Unread bytes past which a connection gets no more DELTAs until it drained (then a fresh SNAPSHOT). */
const MAX_LAG_BYTES = 1024 * 1024;

/**
 * Writes subscription results to one graphql-ws socket as `next` messages, each from the JSON
 * its cohort shares (see `useSharedEventExecution`): only the operation id is added, and the
 * frame goes out with one `send`, no promise or callback.
 *
 * A connection with more than a quarter of `maxQueuedBytes` (at most 1 MiB) unread refuses
 * DELTAs: its streams drop them and each sends a fresh SNAPSHOT once the socket drained, so
 * a slow reader costs the server at most one SNAPSHOT per subscription, not a backlog. Past
 * `maxQueuedBytes` the socket is closed (1013), as for every other message.
 */
export class SocketWriter {
  readonly #socket: WebSocket;
  readonly #raw: Socket;
  readonly #maxQueuedBytes: number;
  readonly #lagBytes: number;
  #drained: (() => void)[] | undefined;

  constructor(socket: WebSocket, raw: Socket, maxQueuedBytes: number) {
    this.#socket = socket;
    this.#raw = raw;
    this.#maxQueuedBytes = maxQueuedBytes;
    this.#lagBytes = Math.min(MAX_LAG_BYTES, Math.floor(maxQueuedBytes / 4));
  }

  /** The writer of one operation: its results as `{"id":…,"type":"next","payload":…}`. */
  forOperation(id: string): ResultWriter {
    return new OperationWriter(this, JSON.stringify(id));
  }

  /** Writes a `next` message of the operation `idJson` (its id as JSON) with `resultJson` (see `ResultWriter.write`). */
  write(idJson: string, resultJson: string, skippable: boolean): boolean {
    const socket = this.#socket;
    if (socket.readyState !== socket.OPEN) return true; // closing: its streams end with it
    if (skippable && socket.bufferedAmount > this.#lagBytes) return false;
    if (closeIfSlowSocket(socket, this.#maxQueuedBytes)) return true;
    socket.send(`{"id":${idJson},"type":"next","payload":${resultJson}}`);
    return true;
  }

  whenDrained(callback: () => void): void {
    if (this.#drained !== undefined) {
      this.#drained.push(callback);
      return;
    }
    this.#drained = [callback];
    const check = (): void => {
      const socket = this.#socket;
      if (socket.readyState !== socket.OPEN) finish(false);
      else if (socket.bufferedAmount <= this.#lagBytes / 2) finish(true);
    };
    // 'drain' when the socket's buffer empties; the timer in case what waits is ws's, not the socket's.
    const timer = setInterval(check, DRAIN_POLL_MS);
    const finish = (drained: boolean): void => {
      clearInterval(timer);
      this.#raw.off('drain', check);
      const callbacks = this.#drained ?? [];
      this.#drained = undefined;
      if (drained) for (const waiting of callbacks) waiting();
    };
    this.#raw.on('drain', check);
  }
}

const DRAIN_POLL_MS = 100;

/** One operation's `ResultWriter` (a class: one lives per subscription, its methods are shared). */
class OperationWriter implements ResultWriter {
  readonly #socket: SocketWriter;
  readonly #idJson: string;

  constructor(socket: SocketWriter, idJson: string) {
    this.#socket = socket;
    this.#idJson = idJson;
  }

  write(resultJson: string, skippable: boolean): boolean {
    return this.#socket.write(this.#idJson, resultJson, skippable);
  }

  whenDrained(callback: () => void): void {
    this.#socket.whenDrained(callback);
  }
}
