import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { limitExceeded } from '../errors.js';

/** Default of the one payload limit of every transport (HTTP body, graphql-ws message): 4 MiB. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 4 * 1024 * 1024;

/**
 * Refuses an HTTP body larger than `maxBytes` with 413 `LIMIT_EXCEEDED` (`limit:
 * maxPayloadBytes`) before it is read when Content-Length says so. A body without one
 * (chunked) is cut by yoga's own `maxRequestBodySize` while it streams (set it to the same
 * value); its error is given the same code here.
 */
export function usePayloadLimit(maxBytes: number): Plugin {
  const tooLarge = (): GraphQLError =>
    limitExceeded(`the request body is larger than ${maxBytes} bytes`, 'maxPayloadBytes', maxBytes, 413);
  return {
    onRequestParse({ request, requestParser, setRequestParser }) {
      const length = request.headers.get('content-length');
      if (length !== null && /^\d+$/.test(length) && Number(length) > maxBytes) throw tooLarge();
      if (requestParser === undefined) return;
      setRequestParser(async (limited) => {
        try {
          return await requestParser(limited);
        } catch (error) {
          throw isBodyTooLarge(error) ? tooLarge() : error;
        }
      });
    },
  };
}

function isBodyTooLarge(error: unknown): boolean {
  return error instanceof GraphQLError && error.extensions['code'] === 'REQUEST_ENTITY_TOO_LARGE';
}
