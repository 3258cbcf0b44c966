import type { WriteLimits } from '../app/index.js';
import type { RequestLimits } from '../graphql/index.js';

/**
 * The flags of the request and write limits (docs/limits.md): their `parseArgs` options,
 * their usage lines, and the server options they give. An unset flag keeps the default.
 */
const FLAGS = {
  'max-payload-bytes': { help: 'largest HTTP body or graphql-ws message (default 4194304)', max: 1 << 30 },
  'max-queued-bytes': {
    help: 'bytes queued for one slow-reading connection before it is closed (default 16777216)',
    max: Number.MAX_SAFE_INTEGER,
  },
  'max-response-bytes': {
    help: 'largest query result or subscription event sent (default 4 x the payload limit)',
    max: 1 << 30,
  },
  'max-tokens': { help: 'lexical tokens in one GraphQL document (default 2000)', max: 1_000_000 },
  'max-depth': { help: 'selection depth of one operation (default 12)', max: 1_000 },
  'max-aliases': { help: 'aliases in one operation (default 15)', max: 100_000 },
  'max-directives': { help: 'directives in one operation (default 10)', max: 100_000 },
  'max-cost': { help: 'graphql-armor cost of one operation (default 5000)', max: 1_000_000_000 },
  'max-live-fields': { help: 'views (and live queries) one operation reads (default 10)', max: 100_000 },
  'max-batch-changes': { help: 'changes in one ingestBatch (default 100)', max: 10_000_000 },
  'max-record-bytes': { help: 'size of one record as JSON (default 1048576)', max: 1 << 30 },
  'max-json-depth': { help: 'nesting of a JSON value from a client (default 32)', max: 10_000 },
  'max-view-memory': {
    help: 'bytes of engine memory live queries may hold (default half the heap limit)',
    max: Number.MAX_SAFE_INTEGER,
  },
} as const;

type LimitFlag = keyof typeof FLAGS;

export const LIMIT_FLAG_OPTIONS = Object.fromEntries(
  Object.keys(FLAGS).map((name) => [name, { type: 'string' as const }]),
) as { [name in LimitFlag]: { type: 'string' } };

export const LIMIT_USAGE = Object.entries(FLAGS)
  .map(([name, { help }]) => `  --${`${name} <n>`.padEnd(29)}${help}`)
  .join('\n');

export interface LimitOptions {
  maxPayloadBytes?: number;
  maxResponseBytes?: number;
  maxQueuedBytes?: number;
  maxViewBytes?: number;
  requestLimits: Partial<RequestLimits>;
  writeLimits: Partial<WriteLimits>;
}

/** The limits set by `values`; `usageError` is called with the message of a bad value. */
export function limitOptions(
  values: { readonly [name in LimitFlag]?: string | undefined },
  usageError: (message: string) => never,
): LimitOptions {
  const read = (name: LimitFlag): number | undefined => {
    const text = values[name];
    if (text === undefined) return undefined;
    const { max } = FLAGS[name];
    if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max)
      usageError(`--${name} must be an integer from 1 to ${max}, got "${text}"`);
    return Number(text);
  };
  const options: LimitOptions = { requestLimits: {}, writeLimits: {} };
  const set = <T extends object>(target: T, key: keyof T, name: LimitFlag): void => {
    const value = read(name);
    if (value !== undefined) (target as { [key: string]: number })[key as string] = value;
  };
  set(options, 'maxPayloadBytes', 'max-payload-bytes');
  set(options, 'maxResponseBytes', 'max-response-bytes');
  set(options, 'maxQueuedBytes', 'max-queued-bytes');
  set(options, 'maxViewBytes', 'max-view-memory');
  set(options.requestLimits, 'maxTokens', 'max-tokens');
  set(options.requestLimits, 'maxDepth', 'max-depth');
  set(options.requestLimits, 'maxAliases', 'max-aliases');
  set(options.requestLimits, 'maxDirectives', 'max-directives');
  set(options.requestLimits, 'maxCost', 'max-cost');
  set(options.requestLimits, 'maxLiveFields', 'max-live-fields');
  set(options.writeLimits, 'maxBatchChanges', 'max-batch-changes');
  set(options.writeLimits, 'maxRecordBytes', 'max-record-bytes');
  set(options.writeLimits, 'maxJsonDepth', 'max-json-depth');
  return options;
}
