import { type TableNames, tableNames } from '../../config/names.js';
import { parseFieldType, type TableConfig } from '../../config/types.js';
import type { Record, Row } from '../../engine/index.js';
import type { Builder } from './builder.js';
import { scalarField, scalarInputField } from './fields.js';
import type { ViewVersionShape } from './meta-types.js';

/** What a `create<T>` / `update<T>` / `delete<T>` mutation returns. */
export interface RecordPayloadShape {
  readonly id: string;
  readonly record: Record | undefined;
  readonly views: readonly ViewVersionShape[];
}

type InputFields = { [field: string]: unknown };

export interface RecordTypeRefs {
  readonly names: TableNames;
  readonly object: PothosSchemaTypes.ObjectRef<Builder['$inferSchemaTypes'], Row>;
  readonly createInput: PothosSchemaTypes.InputObjectRef<Builder['$inferSchemaTypes'], InputFields>;
  readonly patchInput: PothosSchemaTypes.InputObjectRef<Builder['$inferSchemaTypes'], InputFields>;
  readonly payload: PothosSchemaTypes.ObjectRef<Builder['$inferSchemaTypes'], RecordPayloadShape>;
}

/**
 * The types of one table: its record (`User`), the input of `createUser` (required fields
 * are non-null, `id` optional), the patch of `updateUser` (every field optional) and the
 * payload the three mutations return.
 */
export function defineRecordTypes(
  builder: Builder,
  table: TableConfig,
  viewVersion: PothosSchemaTypes.ObjectRef<Builder['$inferSchemaTypes'], ViewVersionShape>,
): RecordTypeRefs {
  const names = tableNames(table);
  const fields = Object.entries(table.fields).map(([name, type]) => ({ name, ...parseFieldType(type) }));

  const object = builder.objectRef<Row>(names.object).implement({
    description: `A record of table \`${table.name}\`.`,
    fields: (t) => {
      const map: { [name: string]: ReturnType<typeof scalarField> } = { id: scalarField(t, 'id', 'ID', false) };
      for (const field of fields) map[field.name] = scalarField(t, field.name, field.scalar, field.nullable);
      return map;
    },
  });

  const createInput = builder.inputRef<InputFields, false>(names.createInput).implement({
    description: `A new record of table \`${table.name}\`.`,
    fields: (t) => {
      const map: { [name: string]: ReturnType<typeof scalarInputField> } = {
        id: scalarInputField(t, 'ID', false, 'The record key; a random UUID when absent.'),
      };
      for (const field of fields) map[field.name] = scalarInputField(t, field.scalar, !field.nullable);
      return map;
    },
  });

  const patchInput = builder.inputRef<InputFields, false>(names.patchInput).implement({
    description: `Fields to change in a record of table \`${table.name}\`; the others keep their value.`,
    fields: (t) => {
      const map: { [name: string]: ReturnType<typeof scalarInputField> } = {};
      for (const field of fields) map[field.name] = scalarInputField(t, field.scalar, false);
      return map;
    },
  });

  const payload = builder.objectRef<RecordPayloadShape>(names.payload).implement({
    description: `The result of a change to a record of table \`${table.name}\`.`,
    fields: (t) => ({
      id: t.field({ type: 'ID', resolve: (payload) => payload.id }),
      [names.lookup]: t.field({
        type: object,
        nullable: true,
        description: 'The record after the change; for a delete, the record removed (null if there was none).',
        resolve: (payload) => payload.record ?? null,
      }),
      views: t.field({
        type: [viewVersion],
        description: 'Every view the change updated, with its new version.',
        resolve: (payload) => payload.views,
      }),
    }),
  });

  return { names, object, createInput, patchInput, payload };
}
