import type { Server } from 'node:http';

/**
 * Counts the HTTP requests a server is answering (an SSE stream counts until it ends), so that
 * a graceful stop can let them finish: a mutation already committing is answered, a request
 * whose body is still arriving is read and refused with a retryable error, not cut off.
 */
export class InFlightRequests {
  #count = 0;
  readonly #waiters = new Set<() => void>();

  constructor(server: Server) {
    server.on('request', (_request, response) => {
      this.#count++;
      response.once('close', () => {
        this.#count--;
        if (this.#count === 0) for (const wake of this.#waiters) wake();
      });
    });
  }

  get count(): number {
    return this.#count;
  }

  /** Resolves true once no request is in flight, or false after `timeoutMs`. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.#count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (idle: boolean) => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
        resolve(idle);
      };
      const wake = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.#waiters.add(wake);
    });
  }
}
