import { FIXED_TYPE_NAMES } from '../../config/names.js';
import type { TableConfig } from '../../config/types.js';
import type { Operation, OrderKey, ViewDefinition } from '../../engine/index.js';
import type { Builder } from './builder.js';

type Types = Builder['$inferSchemaTypes'];

export interface ViewVersionShape {
  readonly view: string;
  readonly version: number;
}

interface ViewInfoShape {
  readonly definition: ViewDefinition;
  readonly tables: readonly string[];
  readonly version: number;
  readonly rowCount: number;
  readonly hash: string;
}

interface BatchPayloadShape {
  readonly ids: readonly string[];
  readonly views: readonly ViewVersionShape[];
}

interface ChangeInputShape {
  readonly table: string;
  readonly op: Operation;
  readonly id: string;
  readonly data?: unknown;
}

export interface MetaTypeRefs {
  readonly direction: PothosSchemaTypes.EnumRef<Types, 'asc' | 'desc'>;
  readonly orderKey: PothosSchemaTypes.ObjectRef<Types, OrderKey>;
  readonly updateKind: PothosSchemaTypes.EnumRef<Types, 'SNAPSHOT' | 'DELTA'>;
  readonly viewVersion: PothosSchemaTypes.ObjectRef<Types, ViewVersionShape>;
  readonly viewInfo: PothosSchemaTypes.ObjectRef<Types, ViewInfoShape>;
  readonly changeInput: PothosSchemaTypes.InputObjectRef<Types, ChangeInputShape>;
  readonly batchPayload: PothosSchemaTypes.ObjectRef<Types, BatchPayloadShape>;
}

/** The types every schema has: update kinds, view versions and metadata, batch changes. */
export function defineMetaTypes(builder: Builder, tables: readonly TableConfig[]): MetaTypeRefs {
  const updateKind = builder.enumType(FIXED_TYPE_NAMES.updateKind, {
    description: 'SNAPSHOT: `added` holds the whole result, replacing any local copy. DELTA: a change to the result.',
    values: ['SNAPSHOT', 'DELTA'] as const,
  });

  const viewVersion = builder.objectRef<ViewVersionShape>(FIXED_TYPE_NAMES.viewVersion).implement({
    description: 'A view and the version a change brought it to.',
    fields: (t) => ({
      view: t.field({ type: 'String', resolve: (v) => v.view }),
      version: t.field({ type: 'Int', resolve: (v) => v.version }),
    }),
  });

  const direction = builder.enumType(FIXED_TYPE_NAMES.orderDirection, {
    values: { ASC: { value: 'asc' }, DESC: { value: 'desc' } } as const,
  });
  const orderKey = builder.objectRef<OrderKey>(FIXED_TYPE_NAMES.orderKey).implement({
    description: 'A sort key of a view. The row id, ascending, is always the last tie-breaker.',
    fields: (t) => ({
      field: t.field({ type: 'String', resolve: (key) => key.field }),
      direction: t.field({ type: direction, resolve: (key) => key.direction ?? 'asc' }),
    }),
  });

  const viewInfo = builder.objectRef<ViewInfoShape>(FIXED_TYPE_NAMES.viewInfo).implement({
    description: 'A view: what it reads, how a client orders it, and where it stands.',
    fields: (t) => ({
      id: t.field({ type: 'String', resolve: (info) => info.definition.id }),
      tables: t.field({ type: ['String'], description: 'The tables the view reads.', resolve: (info) => info.tables }),
      orderBy: t.field({ type: [orderKey], resolve: (info) => info.definition.orderBy ?? [] }),
      limit: t.field({ type: 'Int', nullable: true, resolve: (info) => info.definition.limit ?? null }),
      offset: t.field({ type: 'Int', nullable: true, resolve: (info) => info.definition.offset ?? null }),
      version: t.field({ type: 'Int', resolve: (info) => info.version }),
      rowCount: t.field({ type: 'Int', resolve: (info) => info.rowCount }),
      hash: t.field({
        type: 'String',
        description: 'Hash of the current result (see `hashRows`).',
        resolve: (info) => info.hash,
      }),
      definition: t.field({
        type: 'JSON',
        description: 'The engine view definition.',
        resolve: (info) => info.definition,
      }),
    }),
  });

  const tableName = builder.enumType(FIXED_TYPE_NAMES.tableName, {
    values: tables.map((table) => table.name),
  });
  const operation = builder.enumType(FIXED_TYPE_NAMES.changeOperation, {
    values: ['CREATE', 'UPDATE', 'DELETE'] as const,
  });
  const changeInput = builder.inputType(FIXED_TYPE_NAMES.changeInput, {
    description:
      'One change of a batch. `data`: the record for CREATE, ' +
      'a patch merged into the record for UPDATE, ignored for DELETE.',
    fields: (t) => ({
      table: t.field({ type: tableName, required: true }),
      op: t.field({ type: operation, required: true }),
      id: t.field({ type: 'ID', required: true }),
      data: t.field({ type: 'JSON' }),
    }),
  });

  const batchPayload = builder.objectRef<BatchPayloadShape>(FIXED_TYPE_NAMES.batchPayload).implement({
    description: 'The result of a batch: the ids it changed and every view it updated.',
    fields: (t) => ({
      ids: t.field({ type: ['ID'], resolve: (payload) => payload.ids }),
      views: t.field({ type: [viewVersion], resolve: (payload) => payload.views }),
    }),
  });

  return { direction, orderKey, updateKind, viewVersion, viewInfo, changeInput, batchPayload };
}
