import { JSONResolver } from 'graphql-scalars';
import { FIXED_TYPE_NAMES } from '../../config/names.js';
import type { Builder } from './builder.js';

/** `JSON`: any JSON value, for JSON record fields and `ChangeInput.data`. */
export function addScalars(builder: Builder): void {
  builder.addScalarType(FIXED_TYPE_NAMES.json, JSONResolver);
}
