import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { Plugin } from 'graphql-yoga';

/**
 * Which browsers' pages may talk to the server, so that a web page a developer visits cannot
 * read or write their local server:
 *
 * - Host: a request must name this server — localhost (or a `*.localhost` name), an IP
 *   address, the address it is bound to, or a name in `allowedHosts`. A page on
 *   `attacker.example` whose name was re-pointed at 127.0.0.1 (DNS rebinding) sends
 *   `Host: attacker.example` and is refused.
 * - Origin: a request without one is not from a browser page and passes; otherwise its origin
 *   must be the server's own (same scheme-less host and port as `Host`) or in `corsOrigins`
 *   (`*`: any). The same rule guards the WebSocket upgrade, which browsers never preflight.
 * - CORS headers go only to the listed origins; same-origin pages need none.
 */
export interface OriginPolicyOptions {
  /** Origins (`https://app.example:8443`) whose pages may call the server; `*` allows every origin. */
  readonly corsOrigins?: readonly string[];
  /** More host names the server answers to (behind a proxy, or a LAN name); `.example.com` allows its subdomains too. */
  readonly allowedHosts?: readonly string[];
}

export class OriginPolicy {
  readonly #origins: ReadonlySet<string>;
  readonly #anyOrigin: boolean;
  readonly #hosts: readonly string[];

  constructor(options: OriginPolicyOptions, boundHost: string) {
    const origins = (options.corsOrigins ?? []).map(normalizeOrigin);
    this.#anyOrigin = origins.includes('*');
    this.#origins = new Set(origins);
    this.#hosts = [...(options.allowedHosts ?? []), boundHost].map((host) => host.toLowerCase());
  }

  /** Whether a `Host` header names this server (a request without one passes: browsers always send it). */
  hostAllowed(host: string | null | undefined): boolean {
    if (host === null || host === undefined || host === '') return true;
    const name = hostname(host);
    if (name === undefined) return false;
    if (name === 'localhost' || name.endsWith('.localhost') || isIP(name) !== 0) return true;
    return this.#hosts.some((allowed) =>
      allowed.startsWith('.') ? name === allowed.slice(1) || name.endsWith(allowed) : name === allowed,
    );
  }

  /** Whether a request with this `Origin` (none: not a browser page) to this `Host` may be served. */
  originAllowed(origin: string | null | undefined, host: string | null | undefined): boolean {
    if (origin === null || origin === undefined) return true;
    return this.sameOrigin(origin, host) || this.crossOriginAllowed(origin);
  }

  /** Whether `origin` is a listed other origin (it then gets CORS headers). */
  crossOriginAllowed(origin: string): boolean {
    return this.#anyOrigin || this.#origins.has(normalizeOrigin(origin));
  }

  sameOrigin(origin: string, host: string | null | undefined): boolean {
    if (host === null || host === undefined) return false;
    try {
      const url = new URL(origin);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === new URL(`http://${host}`).host;
    } catch {
      return false;
    }
  }

  /** Why a request is refused, or undefined when it may be served. */
  refusal(host: string | null | undefined, origin: string | null | undefined): string | undefined {
    if (!this.hostAllowed(host)) return `host '${host}' is not served here (see --allowed-hosts)`;
    if (!this.originAllowed(origin, host)) return `origin '${origin}' may not call this server (see --cors-origin)`;
    return undefined;
  }

  /**
   * A yoga plugin refusing requests with a foreign Host or Origin: 403 with a `FORBIDDEN`
   * GraphQL error, before anything else runs (preflights included).
   */
  plugin(): Plugin {
    return {
      onRequest: ({ request, endResponse, fetchAPI }) => {
        const reason = this.refusal(request.headers.get('host'), request.headers.get('origin'));
        if (reason === undefined) return;
        endResponse(
          new fetchAPI.Response(JSON.stringify({ errors: [{ message: reason, extensions: { code: 'FORBIDDEN' } }] }), {
            status: 403,
            headers: { 'content-type': 'application/json; charset=utf-8' },
          }),
        );
      },
    };
  }

  /** yoga's `cors` option: headers only for a listed other origin. */
  cors(): (request: Request) => { origin: string[]; credentials: true } | false {
    return (request) => {
      const origin = request.headers.get('origin');
      if (origin === null || !this.crossOriginAllowed(origin) || this.sameOrigin(origin, request.headers.get('host')))
        return false;
      return { origin: [origin], credentials: true };
    };
  }

  /** The WebSocket upgrade check (`ws`'s `verifyClient`): refused upgrades get 403. */
  verifyClient(): (
    info: { origin: string; req: IncomingMessage },
    callback: (result: boolean, code?: number, message?: string) => void,
  ) => void {
    return ({ req }, callback) => {
      const reason = this.refusal(req.headers.host, req.headers.origin);
      if (reason === undefined) callback(true);
      else callback(false, 403, 'Forbidden');
    };
  }
}

function normalizeOrigin(origin: string): string {
  return origin.trim().toLowerCase().replace(/\/+$/, '');
}

/** The host name of a `Host` header (without port; an IPv6 address without brackets). */
function hostname(host: string): string | undefined {
  try {
    const name = new URL(`http://${host}`).hostname.toLowerCase();
    return name.startsWith('[') ? name.slice(1, -1) : name;
  } catch {
    return undefined;
  }
}
