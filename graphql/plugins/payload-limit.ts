import type { Plugin } from 'graphql-yoga';
import { limitExceeded } from '../errors.js';

/** Default of the one payload limit of every transport (HTTP body, graphql-ws message): 4 MiB. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 4 * 1024 * 1024;

/**
 * Refuses an HTTP body larger than `maxBytes` with 413 `LIMIT_EXCEEDED` (`limit:
 * maxPayloadBytes`): before it is read when Content-Length says so, and while it streams
 * when there is none (chunked).
 *
 * In place of yoga's `maxRequestBodySize` (set it to `false`): yoga pipes every body through a
 * web `TransformStream` to count its bytes, which cost about a tenth of the server's CPU per
 * HTTP mutation (the stream pipeline and the `AbortSignal` it aborts when done, with a
 * `DOMException` each time). With a Content-Length, Node's HTTP parser reads that many bytes
 * as the body and no more, so the header check is the whole check; only a body without one is
 * counted as it streams.
 */
export function usePayloadLimit(maxBytes: number): Plugin {
  const tooLarge = () =>
    limitExceeded(`the request body is larger than ${maxBytes} bytes`, 'maxPayloadBytes', maxBytes, 413);
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const length = request.headers.get('content-length');
      if (length !== null && /^\d+$/.test(length)) {
        if (Number(length) > maxBytes) throw tooLarge();
        return;
      }
      if (requestParser === undefined || request.body === null) return;
      setRequestParser((unread) => {
        let read = 0;
        // As yoga does: a native body stream wants the native TransformStream, a ponyfilled one the ponyfill's.
        const Transform = unread.body instanceof ReadableStream ? TransformStream : fetchAPI.TransformStream;
        const counted = (unread.body as ReadableStream<Uint8Array>).pipeThrough(
          new Transform<Uint8Array, Uint8Array>({
            transform(chunk, controller) {
              read += chunk.byteLength;
              if (read > maxBytes) controller.error(tooLarge());
              else controller.enqueue(chunk);
            },
          }),
        );
        return requestParser(
          new fetchAPI.Request(unread.url, {
            method: unread.method,
            headers: unread.headers,
            signal: unread.signal,
            body: counted,
            duplex: 'half',
          } as RequestInit),
        );
      });
    },
  };
}
