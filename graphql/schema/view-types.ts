import type { ViewEvent } from '../../app/index.js';
import { nestedRowTypeName, type ViewNames, viewNames } from '../../config/names.js';
import type { Shape, ViewAnalysis } from '../../config/shape.js';
import type { OrderKey, Row } from '../../engine/index.js';
import type { Builder } from './builder.js';
import { scalarField } from './fields.js';
import type { MetaTypeRefs } from './meta-types.js';
import type { RecordTypeRefs } from './record-types.js';

type Types = Builder['$inferSchemaTypes'];
type RowRef = PothosSchemaTypes.ObjectRef<Types, Row>;

/**
 * What a view subscription yields: the service layer's event, as published; a live query's
 * event also carries the sort keys of its arguments (a config view's are in its config).
 */
export type ViewUpdateShape = ViewEvent & { readonly orderBy?: readonly OrderKey[] };

export const ORDER_BY_DESCRIPTION =
  "The view's sort keys: a client keeps rows in this order, then by id ascending (the same on every event).";

export interface ViewTypeRefs {
  readonly names: ViewNames;
  readonly analysis: ViewAnalysis;
  readonly row: RowRef;
  readonly update: PothosSchemaTypes.ObjectRef<Types, ViewUpdateShape>;
}

/**
 * The types of one view: its row (`UsersListRow`, with joined records nested as objects,
 * whole records typed by their table's type) and its update (`UsersListUpdate`).
 */
export function defineViewTypes(
  builder: Builder,
  analysis: ViewAnalysis,
  records: ReadonlyMap<string, RecordTypeRefs>,
  meta: MetaTypeRefs,
): ViewTypeRefs {
  const view = analysis.view;
  const names = viewNames(view);

  const defineRow = (name: string, shape: Shape, path: readonly string[]): RowRef =>
    builder.objectRef<Row>(name).implement({
      description:
        path.length === 0
          ? `A row of view \`${view.id}\`; \`id\` is its key.`
          : `The \`${path.join('.')}\` object of a row of view \`${view.id}\`.`,
      fields: (t) => {
        const fields: { [name: string]: ReturnType<typeof scalarField> } = {};
        for (const [field, value] of shape) {
          if (value.kind === 'scalar') {
            fields[field] = scalarField(t, field, value.type, value.nullable);
            continue;
          }
          const nested =
            value.table === undefined
              ? defineRow(nestedRowTypeName(view, [...path, field]), value.fields, [...path, field])
              : (records.get(value.table)?.object as RowRef);
          fields[field] = t.field({
            type: nested,
            nullable: value.nullable,
            resolve: (row) => row[field] as Row, // may be null: `nullable` is only known at run time
          }) as unknown as ReturnType<typeof scalarField>;
        }
        return fields;
      },
    });

  const row = defineRow(names.row, analysis.shape, []);
  const orderBy: readonly OrderKey[] = view.orderBy ?? [];
  const order = (view.orderBy ?? []).map((key) => `${key.field} ${key.direction ?? 'asc'}`).join(', ');
  const update = builder.objectRef<ViewUpdateShape>(names.update).implement({
    description:
      `A change to view \`${view.id}\`. Apply it to a local copy: SNAPSHOT replaces the copy with \`added\`; ` +
      'DELTA inserts `added`, replaces `updated` by id and deletes the ids in `removed`. ' +
      (order === '' ? 'Rows are in key order.' : `Rows are ordered by ${order}, then id.`),
    fields: (t) => ({
      view: t.field({ type: 'String', resolve: (u) => u.view }),
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
      orderBy: t.field({ type: [meta.orderKey], description: ORDER_BY_DESCRIPTION, resolve: () => orderBy }),
      added: t.field({ type: [row], resolve: (u) => u.added }),
      updated: t.field({ type: [row], resolve: (u) => u.updated }),
      removed: t.field({ type: ['ID'], resolve: (u) => u.removed }),
      hash: t.field({
        type: 'String',
        description: 'Order-independent hash of the whole result after this update (`hashRows`).',
        resolve: (u) => u.hash,
      }),
    }),
  });

  return { names, analysis, row, update };
}
