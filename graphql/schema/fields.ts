import type { ScalarType } from '../../config/types.js';
import type { Row } from '../../engine/index.js';
import type { Builder } from './builder.js';

type ObjectFieldBuilder = PothosSchemaTypes.ObjectFieldBuilder<Builder['$inferSchemaTypes'], Row>;
type InputFieldBuilder = PothosSchemaTypes.InputFieldBuilder<Builder['$inferSchemaTypes'], 'InputObject'>;

/**
 * A field of a row or record that reads `row[name]`. The scalar is only known at run time,
 * so its type is named as `JSON` (output `unknown`) for the type checker; the schema gets
 * the real scalar.
 */
export function scalarField(t: ObjectFieldBuilder, name: string, type: ScalarType, nullable: boolean) {
  return t.field({ type: type as 'JSON', nullable, resolve: (row) => row[name] });
}

export function scalarInputField(t: InputFieldBuilder, type: ScalarType, required: boolean, description?: string) {
  return t.field({ type: type as 'JSON', required, ...(description === undefined ? {} : { description }) });
}
