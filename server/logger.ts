/** Severity, lowest first; `silent` logs nothing. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

type LogFields = { readonly [key: string]: unknown };

/**
 * Structured logs: one JSON object per line (`time`, `level`, `msg`, then fields), so a log
 * shipper can parse them. Nothing is logged per request or per event: only start, stop,
 * errors and warnings.
 */
export interface Logger {
  readonly level: LogLevel;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  readonly level?: LogLevel;
  /** Receives each line without its newline; default: stdout. */
  readonly write?: (line: string) => void;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const write = options.write ?? ((line: string) => void process.stdout.write(`${line}\n`));
  const threshold = LOG_LEVELS.indexOf(level);
  const log =
    (at: Exclude<LogLevel, 'silent'>) =>
    (msg: string, fields: LogFields = {}): void => {
      if (LOG_LEVELS.indexOf(at) < threshold) return;
      const entry: { [key: string]: unknown } = { time: new Date().toISOString(), level: at, msg };
      for (const [key, value] of Object.entries(fields))
        entry[key] = value instanceof Error ? serializeError(value) : value;
      write(JSON.stringify(entry));
    };
  return { level, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

function serializeError(error: Error): { name: string; message: string; stack?: string } {
  return error.stack === undefined
    ? { name: error.name, message: error.message }
    : { name: error.name, message: error.message, stack: error.stack };
}

/** graphql-yoga's logger interface (variadic arguments) over a structured logger. */
export function yogaLogger(logger: Logger): {
  [level in 'debug' | 'info' | 'warn' | 'error']: (...args: unknown[]) => void;
} {
  const adapt =
    (at: 'debug' | 'info' | 'warn' | 'error') =>
    (...args: unknown[]): void => {
      const [first, ...rest] = args;
      if (first instanceof Error) logger[at](at === 'error' ? 'unexpected error' : first.message, { error: first });
      else
        logger[at](
          String(first),
          rest.length === 0 ? {} : { details: rest.map((arg) => (arg instanceof Error ? serializeError(arg) : arg)) },
        );
    };
  return { debug: adapt('debug'), info: adapt('info'), warn: adapt('warn'), error: adapt('error') };
}
