import type { Builder, SchemaTypeRefs } from '../schema/index.js';
import type { LiveStore } from './live-store.js';
import { ViewStream } from './view-stream.js';

/** Subscription: one field per view, `<view>(sinceVersion: Int)`. */
export function addSubscriptionFields(builder: Builder, refs: SchemaTypeRefs, store: LiveStore): void {
  builder.subscriptionType({});
  for (const [id, view] of refs.views) {
    builder.subscriptionField(view.names.field, (t) =>
      t.field({
        type: view.update,
        description:
          `Follows view \`${id}\`: first a SNAPSHOT, then each DELTA in version order. ` +
          'A SNAPSHOT may come again later (it then replaces the local copy).',
        args: {
          sinceVersion: t.arg.int({
            description:
              'The version of a local copy: the server sends only the deltas after it while it still holds them, else a SNAPSHOT.',
          }),
        },
        subscribe: (_root, args) => new ViewStream(store, id, args.sinceVersion),
        resolve: (event) => event,
      }),
    );
  }
}
