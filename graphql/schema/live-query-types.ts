import { tableNames } from '../../config/names.js';
import { parseFieldType, type TableConfig } from '../../config/types.js';
import type { Builder } from './builder.js';
import type { FilterRef } from './filter-types.js';
import type { MetaTypeRefs } from './meta-types.js';
import type { RecordTypeRefs } from './record-types.js';
import { ORDER_BY_DESCRIPTION, type ViewUpdateShape } from './view-types.js';

type Types = Builder['$inferSchemaTypes'];

type WhereShape = { [key: string]: unknown };
interface OrderByShape {
  readonly field: string;
  readonly direction?: 'asc' | 'desc' | null;
}

export interface LiveQueryTypeRefs {
  readonly where: PothosSchemaTypes.InputObjectRef<Types, WhereShape>;
  readonly orderBy: PothosSchemaTypes.InputObjectRef<Types, OrderByShape>;
  readonly update: PothosSchemaTypes.ObjectRef<Types, ViewUpdateShape>;
}

/**
 * The types of one table's ad-hoc live queries: `PostWhere` (and/or/not, and a typed filter
 * per field), `PostOrderBy` over the `PostField` enum, and `PostsUpdate`, whose rows are
 * whole records (`Post`).
 */
export function defineLiveQueryTypes(
  builder: Builder,
  table: TableConfig,
  record: RecordTypeRefs,
  filters: ReadonlyMap<string, FilterRef>,
  meta: MetaTypeRefs,
): LiveQueryTypeRefs {
  const names = tableNames(table);
  const fields = [
    { name: 'id', scalar: 'ID' as const },
    ...Object.entries(table.fields).map(([name, type]) => ({ name, ...parseFieldType(type) })),
  ];

  const field = builder.enumType(names.field, {
    description: `A field of table \`${table.name}\`.`,
    values: fields.map((f) => f.name),
  });
  const orderBy = builder.inputRef<OrderByShape, false>(names.orderBy).implement({
    description:
      `A sort key of a live query over \`${table.name}\`. ` + 'The id, ascending, is always the last tie-breaker.',
    fields: (t) => ({
      field: t.field({ type: field, required: true }),
      direction: t.field({ type: meta.direction, defaultValue: 'asc' }),
    }),
  });
  const where: PothosSchemaTypes.InputObjectRef<Types, WhereShape> = builder
    .inputRef<WhereShape, false>(names.where)
    .implement({
      description: `A condition on a record of \`${table.name}\`: every given entry must hold (AND).`,
      fields: (t) => {
        const map: { [name: string]: ReturnType<typeof t.field> } = {
          and: t.field({ type: [where], description: 'Every one of these holds.' }),
          or: t.field({ type: [where], description: 'At least one of these holds.' }),
          not: t.field({ type: where, description: 'This does not hold.' }),
        };
        for (const f of fields) map[f.name] = t.field({ type: filters.get(f.scalar) as FilterRef });
        return map;
      },
    });
  const update = builder.objectRef<ViewUpdateShape>(names.listUpdate).implement({
    description:
      `A change to a live query over \`${table.name}\`. ` +
      'Apply it to a local copy: SNAPSHOT replaces the copy with `added`; ' +
      'DELTA inserts `added`, replaces `updated` by id and deletes the ids in `removed`. ' +
      "Rows are ordered by the query's orderBy, then id.",
    fields: (t) => ({
      view: t.field({
        type: 'String',
        description: 'The engine view serving this query (shared by identical queries).',
        resolve: (u) => u.view,
      }),
      version: t.field({
        type: 'Int',
        description: 'The view version this update brings a copy to.',
        resolve: (u) => u.version,
      }),
      previousVersion: t.field({
        type: 'Int',
        nullable: true,
        description:
          'DELTA: the version it applies to. A copy at a version from previousVersion up to (not including) version ' +
          'takes it; any other copy missed an update: resubscribe with sinceVersion. Null on a SNAPSHOT. ' +
          'Versions rise by 1 with the embedded store; over PostgreSQL they are change-log positions, the same on ' +
          'every instance, and rise with gaps.',
        resolve: (u) => u.previousVersion,
      }),
      kind: t.field({ type: meta.updateKind, resolve: (u) => u.kind }),
      orderBy: t.field({
        type: [meta.orderKey],
        description: ORDER_BY_DESCRIPTION,
        resolve: (u) => u.orderBy ?? [],
      }),
      added: t.field({ type: [record.object], resolve: (u) => u.added }),
      updated: t.field({ type: [record.object], resolve: (u) => u.updated }),
      removed: t.field({ type: ['ID'], resolve: (u) => u.removed }),
      hash: t.field({
        type: 'String',
        description: 'Order-independent hash of the whole result after this update (`hashRows`).',
        resolve: (u) => u.hash,
      }),
    }),
  });
  return { where, orderBy, update };
}
