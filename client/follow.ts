import { parse } from 'graphql';
import { liveRootField, responseKey, withLiveFieldsText } from './document.js';
import { createFollower, type Following, type FollowOptions, type Sink, type SubscriptionResult } from './follower.js';
import type { LiveRow } from './order.js';

/** What `followView` needs of a transport: graphql-ws's and graphql-sse's `Client` fit. */
export interface SubscribeClient {
  subscribe(
    payload: { query: string; variables?: Record<string, unknown> | null },
    sink: Sink<SubscriptionResult>,
  ): () => void;
}

/**
 * Follows one view subscription into a `LiveView` over any graphql-ws or graphql-sse client,
 * resuming with `sinceVersion` after a drop, a restart or a gap (see `createFollower`).
 * `query` is the subscription's text; `orderBy` and the update's bookkeeping fields are added to
 * it when missing.
 */
export function followView<Row extends LiveRow = LiveRow>(
  client: SubscribeClient,
  query: string,
  options: FollowOptions & { readonly variables?: Record<string, unknown> } = {},
): Following<Row> {
  const found = liveRootField(parse(query));
  if (found === null) throw new TypeError('followView: the document must be a subscription with one root field');
  const text = withLiveFieldsText(query);
  return createFollower<Row>(
    (extra, sink) => client.subscribe({ query: text, variables: { ...options.variables, ...extra } }, sink),
    responseKey(found.root),
    options,
  );
}
