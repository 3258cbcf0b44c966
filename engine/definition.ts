import { z } from 'zod';
import { badInput } from './errors.js';
import { isParam, isTaggedLiteral, mapFilters } from './predicate.js';
import type { FieldFilter, Operand, Predicate, Value, ViewDefinition, ViewParams } from './types.js';

/**
 * Validation of view definitions (DESIGN §3.2) and binding of `{ param }` operands.
 * The shape is checked with zod; the meaning (tables exist, aliases are unique) by hand.
 */

const jsonValue: z.ZodType<Value> = z.json() as z.ZodType<Value>;

/** A field filter: `{ op: operand, ... }`, every operator optional. */
export const fieldFilterSchema = z.strictObject({
  eq: jsonValue.optional(),
  ne: jsonValue.optional(),
  lt: jsonValue.optional(),
  lte: jsonValue.optional(),
  gt: jsonValue.optional(),
  gte: jsonValue.optional(),
  in: jsonValue.optional(),
  nin: jsonValue.optional(),
  contains: jsonValue.optional(),
  startsWith: jsonValue.optional(),
  isNull: jsonValue.optional(),
});

/** A field or a dot path. */
export const pathSchema = z.string().regex(/^[^.\s]+(\.[^.\s]+)*$/, 'must be a field or a dot path');

/** A predicate: `and`/`or`/`not`, or a leaf `{ path: fieldFilter, ... }`. */
export const predicateSchema: z.ZodType<Predicate> = z.lazy(() =>
  z.union([
    z.strictObject({ and: z.array(predicateSchema) }),
    z.strictObject({ or: z.array(predicateSchema) }),
    z.strictObject({ not: predicateSchema }),
    z.record(pathSchema, fieldFilterSchema),
  ]),
) as z.ZodType<Predicate>;

const count = z.number().int().min(0);

/**
 * The shape of a view definition (DESIGN §3.2), `{ param }` operands allowed. Its meaning
 * (tables exist, join aliases are unique, `distinct` stands alone, every aggregate but
 * `count` has a field, parameters are given) is checked by `bindDefinition`.
 */
export const viewDefinitionSchema = z.strictObject({
  id: z.string().min(1),
  from: z.string().min(1),
  where: predicateSchema.optional(),
  join: z
    .array(
      z.strictObject({
        table: z.string().min(1),
        as: z.string().regex(/^[^.\s]+$/, 'must be a plain field name'),
        on: z.strictObject({
          left: pathSchema,
          right: z.string().regex(/^[^.\s]+$/, 'must be a field of the joined table'),
        }),
        kind: z.enum(['inner', 'left']).optional(),
        where: predicateSchema.optional(),
      }),
    )
    .optional(),
  select: z.array(pathSchema).optional(),
  groupBy: z.array(pathSchema).optional(),
  aggregate: z
    .record(
      z.string().regex(/^[^.\s]+$/, 'must be a plain field name'),
      z.strictObject({ fn: z.enum(['count', 'sum', 'avg', 'min', 'max']), field: pathSchema.optional() }),
    )
    .optional(),
  distinct: z.array(pathSchema).min(1).optional(),
  orderBy: z.array(z.strictObject({ field: pathSchema, direction: z.enum(['asc', 'desc']).optional() })).optional(),
  limit: count.optional(),
  offset: count.optional(),
});

/**
 * Checks a definition against the known tables and returns it with every `{ param }`
 * replaced by its value. Throws BAD_INPUT naming the view and the offending key.
 */
export function bindDefinition(
  input: unknown,
  params: ViewParams,
  tableExists: (name: string) => boolean,
): ViewDefinition {
  const parsed = viewDefinitionSchema.safeParse(input);
  const viewId = typeof input === 'object' && input !== null && 'id' in input ? String(input.id) : '?';
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue?.path.join('.') ?? '';
    throw badInput(`view '${viewId}': invalid definition at '${at}': ${issue?.message ?? 'invalid'}`, { field: at });
  }
  const definition = parsed.data as ViewDefinition;
  const fail = (message: string, field?: string): never => {
    throw badInput(`view '${viewId}': ${message}`, field === undefined ? {} : { field });
  };

  if (!tableExists(definition.from)) fail(`unknown table '${definition.from}'`, 'from');
  const aliases = new Set<string>();
  for (const join of definition.join ?? []) {
    if (!tableExists(join.table)) fail(`unknown table '${join.table}' in join`, 'join');
    if (aliases.has(join.as)) fail(`join alias '${join.as}' is used twice`, 'join');
    aliases.add(join.as);
  }
  if (definition.distinct !== undefined && (definition.groupBy !== undefined || definition.aggregate !== undefined)) {
    fail('distinct cannot be combined with groupBy or aggregate', 'distinct');
  }
  for (const [alias, aggregate] of Object.entries(definition.aggregate ?? {})) {
    if (aggregate.fn !== 'count' && aggregate.field === undefined) {
      fail(`aggregate '${alias}' (${aggregate.fn}) needs a field`, `aggregate.${alias}`);
    }
  }

  const join = definition.join?.map((entry) =>
    entry.where === undefined ? entry : { ...entry, where: bindPredicate(entry.where, params, fail) },
  );
  return {
    ...definition,
    ...(definition.where === undefined ? {} : { where: bindPredicate(definition.where, params, fail) }),
    ...(join === undefined ? {} : { join }),
  };
}

function bindPredicate(p: Predicate, params: ViewParams, fail: (message: string, field?: string) => never): Predicate {
  return mapFilters(p, (path, filter) => {
    const bound: { [op: string]: Value } = {};
    for (const [op, operand] of Object.entries(filter)) bound[op] = bindOperand(operand as Operand, params, path, fail);
    return bound as FieldFilter;
  });
}

function bindOperand(
  operand: Operand,
  params: ViewParams,
  field: string,
  fail: (message: string, field?: string) => never,
): Value {
  if (isTaggedLiteral(operand)) return operand.literal;
  if (!isParam(operand)) return operand as Value;
  const name = operand.param;
  if (typeof name !== 'string') return fail(`parameter name on '${field}' must be a string`, field);
  const value = params[name];
  if (value === undefined) return fail(`missing parameter '${name}' (used on '${field}')`, field);
  return value;
}
