import {
  type Exchange,
  makeErrorResult,
  makeOperation,
  makeResult,
  type Operation,
  type OperationResult,
  type SubscriptionForwarder,
} from '@urql/core';
import { filter, make, makeSubject, merge, mergeMap, pipe, share, takeUntil } from 'wonka';
import { liveRootField, responseKey, withLiveFields } from './document.js';
import type { SubscribeClient } from './follow.js';
import { createFollower, type FollowOptions, type Sink, type SubscriptionResult } from './follower.js';
import type { LiveRow } from './order.js';
import { currentResult, selectedKeys } from './result-shape.js';

/**
 * A urql exchange for live views. Put it before the exchange that runs subscriptions
 * (`exchanges: [cacheExchange, liveExchange(), subscriptionExchange({ … })]`): every
 * subscription with one root field that is a view update then yields, on every event, the
 * view's whole current result in the document's own shape (`kind: 'SNAPSHOT'`, all rows in
 * `added`, in view order), hash-checked, and it survives drops and server restarts by
 * resubscribing with `sinceVersion`. Each attempt is an operation of its own (its own key)
 * sent down the chain; other operations pass through untouched.
 */
export function liveExchange(options: Omit<FollowOptions, 'orderBy'> = {}): Exchange {
  return ({ forward }) =>
    (operations$) => {
      const shared = share(operations$);
      const attempts = makeSubject<Operation>();
      /** The sink of each attempt, by its operation key. */
      const sinks = new Map<number, Sink<SubscriptionResult>>();
      let nextKey = 1;

      const isLive = (operation: Operation): boolean =>
        operation.kind === 'subscription' && liveRootField(operation.query) !== null;
      // A teardown of an attempt coming back up the chain: subscriptionExchange's way to say
      // the server completed the subscription.
      const isAttemptTeardown = (operation: Operation): boolean =>
        operation.kind === 'teardown' && sinks.has(operation.key);

      const results$ = forward(
        merge([
          pipe(
            shared,
            filter((operation) => !isLive(operation) && !isAttemptTeardown(operation)),
          ),
          attempts.source,
        ]),
      );
      const routed = (result: OperationResult): boolean => {
        const sink = sinks.get(result.operation.key);
        if (sink === undefined) return false;
        // subscriptionExchange reports the end of a stream as the last result again with
        // `hasNext: false` (or, before any result, as a teardown: see `isAttemptTeardown`).
        if (result.hasNext === false && result.error === undefined) sink.complete();
        else if (result.error?.networkError !== undefined) sink.error(result.error.networkError);
        else if (result.error !== undefined) sink.next({ errors: result.error.graphQLErrors });
        else sink.next({ data: result.data });
        return true;
      };

      const live$ = pipe(
        shared,
        filter((operation) => {
          if (isAttemptTeardown(operation)) sinks.get(operation.key)?.complete();
          return isLive(operation);
        }),
        mergeMap((operation) => {
          const found = liveRootField(operation.query);
          if (found === null) throw new Error('unreachable: a live operation has a root field');
          const key = responseKey(found.root);
          const selected = selectedKeys(found.root);
          const query = withLiveFields(operation.query);
          const teardown$ = pipe(
            shared,
            filter((op) => op.kind === 'teardown' && op.key === operation.key),
          );
          return pipe(
            make<OperationResult>((observer) => {
              const following = createFollower<LiveRow>(
                (extra, sink) => {
                  const attempt = makeOperation(
                    'subscription',
                    {
                      ...operation,
                      key: operation.key * 1000 + nextKey++,
                      query,
                      variables: { ...operation.variables, ...extra },
                    },
                    operation.context,
                  );
                  sinks.set(attempt.key, sink);
                  attempts.next(attempt);
                  return () => {
                    sinks.delete(attempt.key);
                    attempts.next(makeOperation('teardown', attempt, attempt.context));
                  };
                },
                key,
                {
                  ...options,
                  onStatus: (status, error) => {
                    options.onStatus?.(status, error);
                    if (status !== 'failed') return;
                    observer.next(
                      Array.isArray(error)
                        ? makeResult(operation, { errors: error })
                        : makeErrorResult(operation, error instanceof Error ? error : new Error(String(error))),
                    );
                  },
                },
              );
              const unlisten = following.view.subscribe((state) => {
                observer.next(makeResult(operation, { data: { [key]: currentResult(state, selected) } }));
              });
              return () => {
                unlisten();
                following.stop();
              };
            }),
            takeUntil(teardown$),
          );
        }),
      );

      // The routed results first: attempts are sent as soon as a live operation arrives.
      return merge([
        pipe(
          results$,
          filter((result) => !routed(result)),
        ),
        live$,
      ]);
    };
}

/**
 * `subscriptionExchange({ forwardSubscription: forwardTo(ws) })`: sends urql's subscriptions
 * through a graphql-ws (or graphql-sse) client.
 */
export function forwardTo(client: SubscribeClient): SubscriptionForwarder {
  return (request) => ({
    subscribe: (sink) => ({
      unsubscribe: client.subscribe(
        { query: request.query ?? '', variables: request.variables ?? null },
        sink as unknown as Sink<SubscriptionResult>,
      ),
    }),
  });
}
