import { z } from 'zod';
import { parseFieldType, type ScalarType, type TableConfig } from '../config/types.js';
import type { Record } from '../engine/index.js';
import { AppError } from './errors.js';

/**
 * Checks a whole record against its table's configured fields and normalises it: a missing
 * nullable field becomes `null`, so every stored record has every field. That keeps the rows
 * a client receives over GraphQL (where an absent field reads as null) equal to the engine's
 * rows, and so its local hash equal to the view's hash.
 */
export class RecordValidator {
  readonly #table: string;
  readonly #schema: z.ZodType<Record>;

  constructor(table: TableConfig) {
    this.#table = table.name;
    const shape: { [field: string]: z.ZodType } = { id: ID };
    for (const [field, type] of Object.entries(table.fields)) {
      const { scalar, nullable } = parseFieldType(type);
      shape[field] = nullable ? scalarSchema(scalar).nullable().default(null) : scalarSchema(scalar);
    }
    this.#schema = z.strictObject(shape) as unknown as z.ZodType<Record>;
  }

  /** The normalised record, or an `AppError` `BAD_INPUT` naming the first bad field (`where` prefixes its message). */
  check(id: string, data: { readonly [field: string]: unknown }, where = ''): Record {
    const result = this.#schema.safeParse(data);
    if (result.success) return result.data;
    const issue = result.error.issues[0];
    const field = issue?.code === 'unrecognized_keys' ? issue.keys[0] : issue?.path[0];
    const message =
      issue?.code === 'unrecognized_keys'
        ? `unknown field '${String(field)}'`
        : `field '${String(field)}': ${issue?.message ?? 'invalid'}`;
    throw new AppError('BAD_INPUT', `${where}${this.#table} '${id}': ${message}`, {
      table: this.#table,
      id,
      ...(field === undefined ? {} : { field: String(field) }),
    });
  }
}

/**
 * A record id: a non-empty string of well-formed Unicode. The store keeps ids as UTF-8 text, where
 * a lone surrogate cannot be kept: two such ids would become one key.
 */
const ID = z
  .string()
  .min(1)
  .refine((id) => !LONE_SURROGATE.test(id), 'an id must be well-formed Unicode (no lone surrogate)');
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function scalarSchema(type: ScalarType): z.ZodType {
  switch (type) {
    case 'ID':
    case 'String':
      return z.string();
    case 'Int':
      return z.int32();
    case 'Float':
      return z.number();
    case 'Boolean':
      return z.boolean();
    case 'JSON':
      return z.json();
  }
}
