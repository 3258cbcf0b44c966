import SchemaBuilder from '@pothos/core';
import type { Viewer } from '../config/rules.js';

/**
 * What a root resolver knows about the request. Rows and records are the engine's JSON
 * objects and fields below the root read only them (so subscription events can be executed
 * once for all subscribers of a view: see `useSharedEventExecution`).
 */
export interface RequestContext {
  /**
   * Who is asking, from a verified token. Undefined when the server runs open (no
   * AUTH_SECRET): rules are then not enforced. A schema built with `enforceRules` refuses a
   * request without a viewer.
   */
  readonly viewer?: Viewer | undefined;
  /** The connection (a WebSocket, or one HTTP/SSE request) and its live subscriptions. */
  readonly connection?: ConnectionState | undefined;
}

/** Per connection: how many live subscriptions it holds (for `maxViewsPerConnection`). */
export interface ConnectionState {
  subscriptions: number;
}

/**
 * The schema's type parameters. Output fields are non-null unless said otherwise, input
 * fields optional.
 */
export interface SchemaTypes {
  Context: RequestContext;
  Scalars: {
    ID: { Input: string; Output: string };
    JSON: { Input: unknown; Output: unknown };
  };
  DefaultFieldNullability: false;
  DefaultInputFieldRequiredness: false;
}

/** The one Pothos builder of a schema. A schema is built per config, so this is a factory. */
export function createBuilder(): Builder {
  return new SchemaBuilder<SchemaTypes>({ defaultFieldNullability: false });
}

export type Builder = PothosSchemaTypes.SchemaBuilder<PothosSchemaTypes.ExtendDefaultTypes<SchemaTypes>>;
