import type { Builder, SchemaTypeRefs } from '../schema/index.js';
import type { LiveStore } from './live-store.js';

/** Query: each view's current rows (in view order), a lookup per table, and `views`. */
export function addQueryFields(builder: Builder, refs: SchemaTypeRefs, store: LiveStore): void {
  builder.queryType({});
  for (const [id, view] of refs.views) {
    builder.queryField(view.names.field, (t) =>
      t.field({
        type: [view.row],
        description: `The current rows of view \`${id}\`, in view order. Subscribe to \`${id}\` to follow them.`,
        resolve: () => store.snapshot(id).rows,
      }),
    );
  }
  for (const [table, record] of refs.records) {
    builder.queryField(record.names.lookup, (t) =>
      t.field({
        type: record.object,
        nullable: true,
        description: `The record of table \`${table}\` with this id, or null.`,
        args: { id: t.arg.id({ required: true }) },
        resolve: (_root, args) => store.record(table, args.id) ?? null,
      }),
    );
  }
  builder.queryField('views', (t) =>
    t.field({
      type: [refs.meta.viewInfo],
      description: 'Every view with its tables, ordering, version, row count and hash.',
      resolve: () =>
        [...refs.views.values()].map(({ analysis }) => {
          const snapshot = store.snapshot(analysis.view.id);
          return {
            definition: analysis.view,
            tables: analysis.tables,
            version: snapshot.version,
            rowCount: snapshot.rows.length,
            hash: snapshot.hash,
          };
        }),
    }),
  );
}
