import { type LiveQueryLimits, liveQueryDefinition } from '../../app/index.js';
import { engineDefinition, hasParams, type ViewConfig } from '../../config/types.js';
import { withGraphQLErrors } from '../errors.js';
import { type Builder, LIVE_VIEW, type SchemaTypeRefs } from '../schema/index.js';
import { argsOf, liveQueryArgs, paramArgs, paramsOf } from './arguments.js';

/**
 * Query: each view's current rows (in view order; a view with parameters takes them as
 * arguments), an ad-hoc query per table (`posts(where, orderBy, limit, offset)`), a lookup
 * per table, and `views`. Everything is read through `Access`, so the viewer's read rules
 * apply and identical reads share one engine view.
 */
export function addQueryFields(
  builder: Builder,
  refs: SchemaTypeRefs,
  configs: readonly ViewConfig[],
  limits: LiveQueryLimits,
): void {
  builder.queryType({});
  const views = new Map<string, ViewConfig>(configs.map((view) => [view.id, view]));
  for (const [id, view] of refs.views) {
    const config = views.get(id) as ViewConfig;
    const definition = engineDefinition(config);
    builder.queryField(view.names.field, (t) =>
      t.field({
        type: [view.row],
        extensions: { [LIVE_VIEW]: true },
        description: `The current rows of view \`${id}\`, in view order. Subscribe to \`${id}\` to follow them.`,
        args: paramArgs(t, config),
        resolve: (_root, args, context) =>
          withGraphQLErrors(() =>
            context.access.rows(id, definition, paramsOf(config, args), context.access.viewerOf(context)),
          ),
      }),
    );
  }
  for (const [table, record] of refs.records) {
    const types = refs.liveQueries.get(table);
    if (types === undefined) continue;
    builder.queryField(record.names.list, (t) =>
      t.field({
        type: [record.object],
        extensions: { [LIVE_VIEW]: true },
        description:
          `The records of table \`${table}\` that match \`where\`, in \`orderBy\` order then by id, ` +
          `after \`offset\`, at most \`limit\` (default and maximum ${limits.maxLimit}). ` +
          `Subscribe to \`${table}\` with the same arguments to follow them.`,
        args: liveQueryArgs(t, types, limits),
        resolve: (_root, args, context) =>
          withGraphQLErrors(() => {
            const viewer = context.access.viewerOf(context);
            return context.access.rows(
              table,
              liveQueryDefinition(table, argsOf(args), context.access.limits),
              {},
              viewer,
            );
          }),
      }),
    );
    builder.queryField(record.names.lookup, (t) =>
      t.field({
        type: record.object,
        nullable: true,
        description: `The record of table \`${table}\` with this id, or null (also when you may not read it).`,
        args: { id: t.arg.id({ required: true }) },
        resolve: (_root, args, context) =>
          withGraphQLErrors(() => {
            const viewer = context.access.viewerOf(context);
            const found = context.access.store.record(table, args.id);
            return found !== undefined && context.access.readable(table, found, viewer) ? found : null;
          }),
      }),
    );
  }
  builder.queryField('views', (t) =>
    t.field({
      type: [refs.meta.viewInfo],
      description:
        'Every view without parameters with its tables, ordering, version, row count and hash, as you see it ' +
        '(with rules enforced, views over tables with read rules are per viewer).',
      resolve: (_root, _args, context) =>
        withGraphQLErrors(() => {
          const viewer = context.access.viewerOf(context);
          return [...refs.views.values()]
            .filter(({ analysis }) => !hasParams(views.get(analysis.view.id) as ViewConfig))
            .map(({ analysis }) => ({
              definition: analysis.view,
              tables: analysis.tables,
              ...context.access.info(analysis.view.id, analysis.view, viewer),
            }));
        }),
    }),
  );
}
