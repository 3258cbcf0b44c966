import { type LiveQueryLimits, liveQueryDefinition } from '../../app/index.js';
import { engineDefinition, type ViewConfig } from '../../config/types.js';
import { withGraphQLErrorsSync } from '../errors.js';
import { type Builder, LIVE_VIEW, type SchemaTypeRefs } from '../schema/index.js';
import { argsOf, liveQueryArgs, orderKeysOf, paramArgs, paramsOf } from './arguments.js';

const SINCE_VERSION =
  'The version of a local copy: the server sends only the deltas after it while it still holds them, else a SNAPSHOT.';

/**
 * Subscription: one field per view, `<view>(<params>, sinceVersion: Int)`, and one per table,
 * `<table>(where, orderBy, limit, offset, sinceVersion)`. Identical subscriptions share one
 * engine view (see `ViewRegistry`).
 */
export function addSubscriptionFields(
  builder: Builder,
  refs: SchemaTypeRefs,
  views: readonly ViewConfig[],
  limits: LiveQueryLimits,
): void {
  builder.subscriptionType({});
  const configs = new Map<string, ViewConfig>(views.map((view) => [view.id, view]));
  for (const [id, view] of refs.views) {
    const config = configs.get(id) as ViewConfig;
    const definition = engineDefinition(config);
    builder.subscriptionField(view.names.field, (t) =>
      t.field({
        type: view.update,
        extensions: { [LIVE_VIEW]: true },
        description:
          `Follows view \`${id}\`: first a SNAPSHOT, then each DELTA in version order. ` +
          'A SNAPSHOT may come again later (it then replaces the local copy).',
        args: { ...paramArgs(t, config), sinceVersion: t.arg.int({ description: SINCE_VERSION }) },
        subscribe: (_root, args, context) =>
          withGraphQLErrorsSync(() =>
            context.access.stream(
              id,
              definition,
              paramsOf(config, args),
              context,
              args['sinceVersion'] as number | null | undefined,
            ),
          ),
        resolve: (event) => event,
      }),
    );
  }
  for (const [table, record] of refs.records) {
    const types = refs.liveQueries.get(table);
    if (types === undefined) continue;
    builder.subscriptionField(record.names.list, (t) =>
      t.field({
        type: types.update,
        extensions: { [LIVE_VIEW]: true },
        description:
          `Follows the records of table \`${table}\` that match \`where\` (ordered, offset and limited as given): ` +
          'first a SNAPSHOT, then each DELTA in version order.',
        args: { ...liveQueryArgs(t, types, limits), sinceVersion: t.arg.int({ description: SINCE_VERSION }) },
        subscribe: (_root, args, context) =>
          withGraphQLErrorsSync(() => {
            const { access } = context;
            const definition = liveQueryDefinition(table, argsOf(args), access.limits);
            return access.stream(table, definition, {}, context, args['sinceVersion'] as number | null | undefined);
          }),
        resolve: (event, args) => ({ ...event, orderBy: orderKeysOf(argsOf(args)) }),
      }),
    );
  }
}
