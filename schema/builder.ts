import SchemaBuilder from '@pothos/core';
/**
 * The schema's type parameters. Rows and records are the engine's JSON objects and fields
 * read them directly; root resolvers close over the store, so there is no context to type.
 * Output fields are non-null unless said otherwise, input fields optional.
 */
export interface SchemaTypes {
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
