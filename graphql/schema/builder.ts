import SchemaBuilder from '@pothos/core';
import type { Access, Caller } from '../../app/index.js';
import type { ResultWriter } from '../plugins/shared-event-execution.js';

/**
 * What a root resolver knows about the request: the caller (viewer and connection, as the
 * server authenticated them) and the services it is served by. Rows and records are the
 * engine's JSON objects and fields below the root read only them (so subscription events
 * can be executed once for all subscribers of a view: see `useSharedEventExecution`).
 */
export interface RequestContext extends Caller {
  readonly access: Access;
  /** graphql-ws: writes a subscription's results straight to the socket (see `useSharedEventExecution`). */
  readonly resultWriter?: ResultWriter | undefined;
}

/**
 * The schema's type parameters. Output fields are non-null unless said otherwise, input
 * fields optional.
 */
interface SchemaTypes {
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
