/**
 * The client: live, ordered, verified copies of the server's views for browsers and Node.
 * Imports nothing from the server's folders (a test checks it). The Apollo link and the urql
 * exchange have their own entry points (`./client/apollo.js`, `./client/urql.js`) so that an app
 * bundles only the one it uses.
 */
export { liveRootField, withLiveFields, withLiveFieldsText } from './document.js';
export { followView, type SubscribeClient } from './follow.js';
export {
  type Attach,
  createFollower,
  type Following,
  type FollowOptions,
  type FollowStatus,
  type Sink,
  type SubscriptionResult,
} from './follower.js';
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
