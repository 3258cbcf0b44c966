import { ApolloLink, CombinedGraphQLErrors } from '@apollo/client';
import { Observable } from 'rxjs';
import { liveRootField, responseKey, withLiveFields } from './document.js';
import { createFollower, type FollowOptions } from './follower.js';
import type { LiveRow } from './order.js';
import { currentResult, selectedKeys } from './result-shape.js';

/**
 * An Apollo Link for live views. Put it before the transport link
 * (`ApolloLink.from([createLiveLink(), new GraphQLWsLink(ws)])`): every subscription with one
 * root field that is a view update then yields, on every event, the view's whole current
 * result in the document's own shape (`kind: 'SNAPSHOT'`, all rows in `added`, in view order),
 * hash-checked, and it survives drops and server restarts by resubscribing with `sinceVersion`.
 * Other operations pass through untouched.
 */
export function createLiveLink(options: Omit<FollowOptions, 'orderBy'> = {}): ApolloLink {
  return new ApolloLink((operation, forward) => {
    const found = operation.operationType === 'subscription' ? liveRootField(operation.query) : null;
    if (found === null) return forward(operation);
    const key = responseKey(found.root);
    const selected = selectedKeys(found.root);
    const query = withLiveFields(operation.query);
    const variables = operation.variables;
    return new Observable<ApolloLink.Result>((observer) => {
      const following = createFollower<LiveRow>(
        (extra, sink) => {
          operation.query = query;
          operation.variables = { ...variables, ...extra };
          const subscription = forward(operation).subscribe({
            next: (result) => sink.next(result as { data?: unknown; errors?: readonly unknown[] }),
            error: (error) => sink.error(error),
            complete: () => sink.complete(),
          });
          return () => subscription.unsubscribe();
        },
        key,
        {
          ...options,
          isFatal: (error) => CombinedGraphQLErrors.is(error),
          onStatus: (status, error) => {
            options.onStatus?.(status, error);
            if (status !== 'failed') return;
            observer.error(
              CombinedGraphQLErrors.is(error) || !Array.isArray(error)
                ? error
                : new CombinedGraphQLErrors({ errors: error }),
            );
          },
        },
      );
      const unlisten = following.view.subscribe((state) => {
        observer.next({ data: { [key]: currentResult(state, selected) } });
      });
      return () => {
        unlisten();
        following.stop();
      };
    });
  });
}
