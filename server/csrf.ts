import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import type { Plugin } from 'graphql-yoga';

/**
 * yoga's CSRF prevention: a request a browser may send cross-site without a preflight (a GET,
 * or a form or text/plain POST) must carry a header no form can set (`x-graphql-yoga-csrf`),
 * or it is refused with 403 before it is parsed, its error coded `FORBIDDEN`. JSON POSTs (what
 * every GraphQL client sends) are preflighted by browsers and pass.
 */
export function useCsrfPrevention(): Plugin {
  const csrf = useCSRFPrevention() as Plugin;
  return {
    onRequestParse(payload) {
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
