export { buildSchema, printSortedSchema } from './schema.js';
export {
  DEFAULT_HISTORY_SIZE,
  LiveStore,
  openLiveStore,
  type Applied,
  type Authorize,
  type ResolvedChange,
  type Change,
  type LiveStoreOptions,
  type StorageInfo,
  type StorageOptions,
  type ViewEvent,
} from './live-store.js';
export { ViewStream } from './view-stream.js';
export { LiveQueries, type LiveQueryOptions } from './live-queries.js';
export { ViewRegistry, type Lease, type ViewRegistryOptions } from './view-registry.js';
export { DEFAULT_LIMITS, type LiveQueryLimits } from './live-query-input.js';
export { toGraphQLError } from './errors.js';
