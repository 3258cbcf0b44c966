/**
 * The client: live, ordered, verified copies of the server's views for browsers and Node.
 * Imports nothing from the server's folders (a test checks it).
 */
export { liveRootField, withLiveFields, withLiveFieldsText } from './document.js';
export {
  type Following,
  type FollowOptions,
  type FollowStatus,
  followView,
  type Sink,
  type SubscribeClient,
} from './follow.js';
export { hashRow, hashRows } from './hash.js';
export {
  type ApplyOutcome,
  type LiveEvent,
  type LiveState,
  LiveView,
  LiveViewError,
  type LiveViewOptions,
} from './live-view.js';
export { compareValues, type LiveRow, makeComparator, type OrderKey } from './order.js';
