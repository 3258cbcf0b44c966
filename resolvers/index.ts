export { buildSchema, printSortedSchema } from './schema.js';
export {
  DEFAULT_HISTORY_SIZE,
  LiveStore,
  openLiveStore,
  type Applied,
  type Change,
  type LiveStoreOptions,
  type StorageInfo,
  type StorageOptions,
  type ViewEvent,
} from './live-store.js';
export { ViewStream } from './view-stream.js';
export { toGraphQLError } from './errors.js';
