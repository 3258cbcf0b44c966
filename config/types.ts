import type { ViewDefinition } from '../engine/types.js';
import type { TableRules } from './rules.js';

/**
 * An application: its tables and its views. Everything the GraphQL schema contains is
 * derived from this value (DESIGN §4), so no table or view name appears in code elsewhere.
 */
export interface AppConfig {
  readonly tables: readonly TableConfig[];
  /** Engine view definitions (DESIGN §3.2); each becomes a Query and a Subscription field. */
  readonly views: readonly ViewConfig[];
}

/**
 * A view of the config: an engine view definition that may declare parameters. Each
 * `{ param: name }` operand of its `where` names one; the Query and Subscription fields take
 * them as arguments of the declared GraphQL types, and each distinct set of values is a view
 * of its own, created on demand.
 */
export interface ViewConfig extends ViewDefinition {
  readonly params?: { readonly [name: string]: FieldType };
}

/** The GraphQL scalar types a record field can have. */
export type ScalarType = 'ID' | 'String' | 'Int' | 'Float' | 'Boolean' | 'JSON';

/** A field type written as in SDL: `'String!'` is required, `'Int'` is nullable. */
export type FieldType = ScalarType | `${ScalarType}!`;

export interface TableConfig {
  /** The engine's table name (`users`); also the value of the `TableName` enum. */
  readonly name: string;
  /** The GraphQL object type of a record (`User`); names `user(id)`, `createUser`, … */
  readonly type: string;
  /** The record's fields besides `id`, which is implicit (`ID!`, the record key). */
  readonly fields: { readonly [field: string]: FieldType };
  /** Row-level read and write rules (see `config/rules.ts`); none: everyone reads and writes. */
  readonly rules?: TableRules;
}

export const SCALAR_TYPES: readonly ScalarType[] = ['ID', 'String', 'Int', 'Float', 'Boolean', 'JSON'];

/** Identity, for type checking a config written as a module. */
export function defineConfig(config: AppConfig): AppConfig {
  return config;
}

export function parseFieldType(type: FieldType): { scalar: ScalarType; nullable: boolean } {
  return type.endsWith('!')
    ? { scalar: type.slice(0, -1) as ScalarType, nullable: false }
    : { scalar: type as ScalarType, nullable: true };
}

/** The engine's definition of a config view: the view without its `params` declaration. */
export function engineDefinition(view: ViewConfig): ViewDefinition {
  if (view.params === undefined) return view;
  const { params: _params, ...definition } = view;
  return definition;
}

/** Whether a config view declares parameters (such views exist only per set of values). */
export function hasParams(view: ViewConfig): boolean {
  return view.params !== undefined && Object.keys(view.params).length > 0;
}
