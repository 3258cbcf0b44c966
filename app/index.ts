/**
 * The service layer: everything the server does with data, whatever the transport. It imports
 * the engine, storage and config, never GraphQL; its refusals are `AppError`s.
 */
export { Access, type AccessOptions, type Caller, type ConnectionState } from './access.js';
export { AppError, unavailable } from './errors.js';
export { DEFAULT_LIMITS, type LiveQueryArgs, type LiveQueryLimits, liveQueryDefinition } from './live-query.js';
export {
  LiveStore,
  openLiveStore,
  type StorageOptions,
} from './live-store.js';
export type { AppObserver, LogStatus } from './observer.js';
export type { ViewEvent } from './view-host.js';

export { type EventSink, ViewStream } from './view-stream.js';
export type { WriteLimits } from './write-limits.js';
export type { Change } from './write-path.js';
