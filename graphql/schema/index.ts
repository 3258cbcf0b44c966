import type { CheckedConfig } from '../../config/validate.js';
import type { Builder } from './builder.js';
import { defineFilterTypes } from './filter-types.js';
import { defineLiveQueryTypes, type LiveQueryTypeRefs } from './live-query-types.js';
import { defineMetaTypes, type MetaTypeRefs } from './meta-types.js';
import { defineRecordTypes, type RecordTypeRefs } from './record-types.js';
import { addScalars } from './scalars.js';
import { defineViewTypes, type ViewTypeRefs } from './view-types.js';

export type { RequestContext } from './builder.js';
export { type Builder, createBuilder } from './builder.js';

export type { ViewVersionShape } from './meta-types.js';
export type { RecordPayloadShape } from './record-types.js';

/**
 * The extension marking a root field that leases a view (a view or an ad-hoc live query, as
 * Query or Subscription): the request limits count them per operation.
 */
export const LIVE_VIEW = 'liveView';

export interface SchemaTypeRefs {
  readonly meta: MetaTypeRefs;
  /** By table name. */
  readonly records: ReadonlyMap<string, RecordTypeRefs>;
  /** Types of the ad-hoc live queries, by table name. */
  readonly liveQueries: ReadonlyMap<string, LiveQueryTypeRefs>;
  /** By view id, in config order. */
  readonly views: ReadonlyMap<string, ViewTypeRefs>;
}

/** Defines every type a config produces; root fields are the resolvers' to add. */
export function defineSchemaTypes(builder: Builder, checked: CheckedConfig): SchemaTypeRefs {
  addScalars(builder);
  const meta = defineMetaTypes(builder, checked.config.tables);
  const records = new Map<string, RecordTypeRefs>();
  for (const table of checked.config.tables)
    records.set(table.name, defineRecordTypes(builder, table, meta.viewVersion));
  const filters = defineFilterTypes(builder);
  const liveQueries = new Map<string, LiveQueryTypeRefs>();
  for (const table of checked.config.tables) {
    liveQueries.set(
      table.name,
      defineLiveQueryTypes(builder, table, records.get(table.name) as RecordTypeRefs, filters, meta),
    );
  }
  const views = new Map<string, ViewTypeRefs>();
  for (const analysis of checked.views.values())
    views.set(analysis.view.id, defineViewTypes(builder, analysis, records, meta));
  return { meta, records, liveQueries, views };
}
