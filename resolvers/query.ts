import { engineDefinition, hasParams, type ViewConfig } from '../config/types.js';
import type { Value, ViewParams } from '../engine/index.js';
import type { Builder, SchemaTypeRefs } from '../schema/index.js';
import { argsOf, liveQueryArgs, paramArgs } from './arguments.js';
import { liveQueryDefinition } from './live-query-input.js';
import type { LiveQueries } from './live-queries.js';

/**
 * Query: each view's current rows (in view order; a view with parameters takes them as
 * arguments), an ad-hoc query per table (`posts(where, orderBy, limit, offset)`), a lookup
 * per table, and `views`. Everything is read through `LiveQueries`, so the viewer's read
 * rules apply and identical reads share one engine view.
 */
export function addQueryFields(builder: Builder, refs: SchemaTypeRefs, live: LiveQueries): void {
  builder.queryType({});
  const views = new Map<string, ViewConfig>(live.store.checked.config.views.map((view) => [view.id, view]));
  for (const [id, view] of refs.views) {
    const config = views.get(id) as ViewConfig;
    const definition = engineDefinition(config);
    builder.queryField(view.names.field, (t) =>
      t.field({
        type: [view.row],
        description: `The current rows of view \`${id}\`, in view order. Subscribe to \`${id}\` to follow them.`,
        args: paramArgs(t, config),
        resolve: (_root, args, context) => live.rows(id, definition, paramsOf(config, args), live.viewerOf(context)),
      }),
    );
  }
  for (const [table, record] of refs.records) {
    const types = refs.liveQueries.get(table);
    if (types === undefined) continue;
    builder.queryField(record.names.list, (t) =>
      t.field({
        type: [record.object],
        description:
          `The records of table \`${table}\` that match \`where\`, in \`orderBy\` order then by id, ` +
          `after \`offset\`, at most \`limit\` (default and maximum ${live.limits.maxLimit}). ` +
          `Subscribe to \`${table}\` with the same arguments to follow them.`,
        args: liveQueryArgs(t, types, live.limits),
        resolve: (_root, args, context) => {
          const viewer = live.viewerOf(context);
          return live.rows(table, liveQueryDefinition(table, argsOf(args), live.limits), {}, viewer);
        },
      }),
    );
    builder.queryField(record.names.lookup, (t) =>
      t.field({
        type: record.object,
        nullable: true,
        description: `The record of table \`${table}\` with this id, or null (also when you may not read it).`,
        args: { id: t.arg.id({ required: true }) },
        resolve: (_root, args, context) => {
          const found = live.store.record(table, args.id);
          return found !== undefined && live.readable(table, found, live.viewerOf(context)) ? found : null;
        },
      }),
    );
  }
  builder.queryField('views', (t) =>
    t.field({
      type: [refs.meta.viewInfo],
      description:
        'Every view without parameters with its tables, ordering, version, row count and hash, as you see it ' +
        '(with rules enforced, views over tables with read rules are per viewer).',
      resolve: (_root, _args, context) => {
        const viewer = live.viewerOf(context);
        return [...refs.views.values()]
          .filter(({ analysis }) => !hasParams(views.get(analysis.view.id) as ViewConfig))
          .map(({ analysis }) => ({
            definition: analysis.view,
            tables: analysis.tables,
            ...live.info(analysis.view.id, analysis.view, viewer),
          }));
      },
    }),
  );
}

/** The parameter values of a view from its field's arguments (an absent nullable one is null). */
export function paramsOf(view: ViewConfig, args: { readonly [name: string]: unknown }): ViewParams {
  const params: { [name: string]: Value } = {};
  for (const name of Object.keys(view.params ?? {})) params[name] = (args[name] ?? null) as Value;
  return params;
}
