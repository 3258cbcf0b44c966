import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LiveStore } from '../app/index.js';
import type { ServerMetrics } from './metrics.js';
import type { OriginPolicy } from './origin-policy.js';

/** Default bound on how far behind the shared change log an instance may be and still take traffic. */
const DEFAULT_READY_MAX_LAG_MS = 5_000;

export interface ProbeOptions {
  readonly store: LiveStore;
  readonly metrics: ServerMetrics;
  readonly origins: OriginPolicy;
  /** True from the start of a graceful stop. */
  readonly stopping: () => boolean;
  /** /ready answers 503 once the log follower is further behind than this (default 5 s). */
  readonly readyMaxLagMs?: number;
  /** The bearer token /metrics asks for; unset: see `authRequired`. */
  readonly metricsToken?: string;
  /** Whether the API itself needs tokens (AUTH_SECRET): then /metrics without a `metricsToken` is refused. */
  readonly authRequired: boolean;
}

/** Why an instance is not ready, as /ready reports it. */
interface NotReady {
  readonly reason: 'stopping' | 'stopped' | 'log_not_followed' | 'log_lag';
  readonly message: string;
}

/**
 * The operations endpoints, answered before GraphQL sees the request:
 *
 * - `GET /health`: liveness. 200 while the process serves; 503 `stopping` once a graceful stop
 *   began, 503 `stopped` once a failure (failed commit, engine fault) stopped the store.
 * - `GET /ready`: readiness for a load balancer. The port opens only once the tables are
 *   loaded; then 200, unless the server is stopping, stopped after a failure, or (a store
 *   with a shared change log) its log follower is reconnecting or further behind than the
 *   bound: 503 with `{ ready: false, reason, message }`.
 * - `GET /metrics`: Prometheus text. It says what the server holds and does, so it is under
 *   the Host/Origin policy (a page re-pointed at the server by DNS rebinding cannot read it)
 *   and, with a metrics token, needs `Authorization: Bearer <token>`; when the API itself
 *   needs tokens (AUTH_SECRET) and no metrics token is set, it is refused (403).
 *
 * /health and /ready reveal nothing and skip the Host check: a load balancer probing by
 * address or by any name it likes gets an answer. Returns whether it answered the request.
 */
export function createProbes(options: ProbeOptions): (request: IncomingMessage, response: ServerResponse) => boolean {
  const maxLagMs = options.readyMaxLagMs ?? DEFAULT_READY_MAX_LAG_MS;
  const token = options.metricsToken === undefined ? undefined : digest(options.metricsToken);
  return (request, response) => {
    const url = request.url ?? '';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    if (path !== '/health' && path !== '/ready' && path !== '/metrics') return false;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(response, 405, { error: `${path} answers GET and HEAD` }, { allow: 'GET, HEAD' });
      return true;
    }
    if (path === '/health') {
      if (options.stopping()) send(response, 503, { status: 'stopping' });
      // Stopped after a failure without exiting (a library user gave no exit hook): only a restart helps.
      else if (options.store.closed) send(response, 503, { status: 'stopped' });
      else send(response, 200, { status: 'ok' });
    } else if (path === '/ready') {
      const notReady = readiness(options.store, options.stopping(), maxLagMs);
      const log = options.store.logStatus();
      if (notReady === undefined) send(response, 200, { ready: true, ...(log === undefined ? {} : { log }) });
      else send(response, 503, { ready: false, ...notReady, ...(log === undefined ? {} : { log }) });
    } else {
      const refusal = metricsRefusal(request, options, token);
      if (refusal !== undefined) send(response, refusal.status, { error: refusal.message }, refusal.headers);
      else void scrape(options.metrics, response);
    }
    return true;
  };
}

/** Undefined when the instance should take traffic, else why not. */
function readiness(store: LiveStore, stopping: boolean, maxLagMs: number): NotReady | undefined {
  if (stopping) return { reason: 'stopping', message: 'the server is shutting down' };
  if (store.closed)
    return { reason: 'stopped', message: 'the server stopped serving after a failure; it must restart' };
  const log = store.logStatus();
  if (log === undefined) return undefined;
  if (!log.following)
    return { reason: 'log_not_followed', message: 'the change log is not being followed (reconnecting)' };
  if (log.lagSeconds * 1000 > maxLagMs) {
    return {
      reason: 'log_lag',
      message: `the change log is applied ${log.lagSeconds.toFixed(3)} s behind, more than the bound of ${maxLagMs} ms`,
    };
  }
  return undefined;
}

function metricsRefusal(
  request: IncomingMessage,
  options: ProbeOptions,
  token: Buffer | undefined,
): { status: number; message: string; headers?: { [name: string]: string } } | undefined {
  const policy = options.origins.refusal(request.headers.host, request.headers.origin);
  if (policy !== undefined) return { status: 403, message: policy };
  if (token === undefined) {
    if (!options.authRequired) return undefined;
    return { status: 403, message: 'metrics are off while AUTH_SECRET is set: set METRICS_TOKEN to read them' };
  }
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization?.trim() ?? '');
  if (match !== null && timingSafeEqual(digest(match[1] as string), token)) return undefined;
  return {
    status: 401,
    message: 'metrics need Authorization: Bearer <METRICS_TOKEN>',
    headers: { 'www-authenticate': 'Bearer realm="metrics"' },
  };
}

async function scrape(metrics: ServerMetrics, response: ServerResponse): Promise<void> {
  try {
    const { text, contentType } = await metrics.scrape();
    response.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
    response.end(text);
  } catch (error) {
    send(response, 500, { error: `metrics failed: ${error instanceof Error ? error.message : String(error)}` });
  }
}

/** Fixed-length, so comparing tokens leaks nothing through timing, not even their length. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function send(response: ServerResponse, status: number, body: object, headers: { [name: string]: string } = {}): void {
  response.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...(status === 503 ? { 'retry-after': '1' } : {}),
    ...headers,
  });
  response.end(JSON.stringify(body));
}
