import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import type { Plugin } from 'graphql-yoga';

/**
 * yoga's CSRF prevention for the requests that can write: a POST a browser may send
 * cross-site without a preflight (a form or text/plain body) must carry a header no form can
 * set (`x-graphql-yoga-csrf`), or it is refused with 403 before it is parsed, its error coded
 * `FORBIDDEN`. JSON POSTs (what GraphQL clients send) are preflighted by browsers and pass.
 *
 * GETs pass without the header (yoga's plugin would require it): they can only be queries and
 * subscriptions (a mutation over GET is refused with 405), whose answer another origin cannot
 * read (no CORS headers; a foreign Origin is refused), and urql and other clients send queries
 * as GETs by default.
 */
export function useCsrfPrevention(): Plugin {
  const csrf = useCSRFPrevention() as Plugin;
  return {
    onRequestParse(payload) {
      const method = payload.request.method.toUpperCase();
      if (method === 'GET' || method === 'HEAD') return;
      try {
        return csrf.onRequestParse?.(payload);
      } catch (error) {
        const extensions = (error as { extensions?: { [key: string]: unknown } }).extensions;
        if (extensions !== undefined) extensions['code'] ??= 'FORBIDDEN';
        throw error;
      }
    },
  };
}
