import type { RunningServer } from './app.js';
import type { Logger } from './logger.js';

/**
 * Stops the server gracefully on SIGTERM or SIGINT, exiting 0 once it closed (1 if closing
 * failed). Installed before start-up, so no signal finds the default handler (which would kill
 * the process outright); a signal during start-up stops the server as soon as it runs.
 *
 * One stop per process: further signals while it closes are logged and ignored. They are
 * usually the same request delivered twice — a terminal's Ctrl-C or `kill -- -pgid` reaches
 * every process of the group, so the server hears it once directly and once more through
 * `npm start`, which forwards what it receives. A server that does not stop is for SIGKILL.
 */
export function stopOnSignals(logger: Logger): { serving(server: RunningServer): void } {
  let server: RunningServer | undefined;
  let received: NodeJS.Signals | undefined;
  let closing = false;
  const close = (): void => {
    if (server === undefined || received === undefined || closing) return;
    closing = true;
    const running = server;
    running.close().then(
      () => {
        logger.info('stopped', { commits: running.store.commitStats() });
        process.exit(0);
      },
      (error: unknown) => {
        logger.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (received !== undefined) {
      logger.info('already shutting down', { signal });
      return;
    }
    received = signal;
    logger.info('shutting down', { signal });
    close();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    serving: (running) => {
      server = running;
      close();
    },
  };
}
