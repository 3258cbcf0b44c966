/**
 * The service layer: everything the server does with data, whatever the transport. It imports
 * the engine, storage and config, never GraphQL; its refusals are `AppError`s.
 */
export { Access, type AccessOptions, type Caller, type ConnectionState } from './access.js';
export { AppError, type AppErrorCode, type AppErrorDetails, isAppError, toAppError } from './errors.js';
export { DEFAULT_LIMITS, type LiveQueryArgs, type LiveQueryLimits, liveQueryDefinition } from './live-query.js';
export { LiveStore, type LiveStoreOptions, openLiveStore, type StorageInfo, type StorageOptions } from './live-store.js';
export { DEFAULT_HISTORY_SIZE, type Logger, type ViewEvent, ViewHost } from './view-host.js';
export { type Lease, ViewRegistry, type ViewRegistryOptions } from './view-registry.js';
export { ViewStream } from './view-stream.js';
export type { Applied, Authorize, Change, ResolvedChange } from './write-path.js';
