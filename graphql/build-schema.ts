import { type GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { DEFAULT_LIMITS, type LiveQueryLimits } from '../app/index.js';
import type { CheckedConfig } from '../config/validate.js';
import { addMutationFields } from './fields/mutation.js';
import { addQueryFields } from './fields/query.js';
import { addSubscriptionFields } from './fields/subscription.js';
import { createBuilder, defineSchemaTypes } from './schema/index.js';

/**
 * The executable schema of a config, built from the checked config alone (no store): root
 * fields find the services in the request context (`RequestContext.access`). `limits` only
 * appear in field descriptions; the ones enforced are the `Access` service's.
 */
export function buildSchema(
  checked: CheckedConfig,
  options: { limits?: Partial<LiveQueryLimits> } = {},
): GraphQLSchema {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const builder = createBuilder();
  const refs = defineSchemaTypes(builder, checked);
  addQueryFields(builder, refs, checked.config.views, limits);
  addMutationFields(builder, refs);
  addSubscriptionFields(builder, refs, checked.config.views, limits);
  return builder.toSchema();
}

/** SDL with types and fields sorted, as committed in `schema.graphql`. */
export function printSortedSchema(schema: GraphQLSchema): string {
  return printSchema(lexicographicSortSchema(schema));
}
