import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { createBuilder, defineSchemaTypes } from '../schema/index.js';
import { LiveQueries } from './live-queries.js';
import type { LiveStore } from './live-store.js';
import { addMutationFields } from './mutation.js';
import { addQueryFields } from './query.js';
import { addSubscriptionFields } from './subscription.js';

/**
 * The executable schema of a store's config, its root fields resolved through `live` (by
 * default: rules not enforced, default limits).
 */
export function buildSchema(store: LiveStore, live: LiveQueries = new LiveQueries(store)): GraphQLSchema {
  const builder = createBuilder();
  const refs = defineSchemaTypes(builder, store.checked);
  addQueryFields(builder, refs, live);
  addMutationFields(builder, refs, live);
  addSubscriptionFields(builder, refs, live);
  return builder.toSchema();
}

/** SDL with types and fields sorted, as committed in `schema.graphql`. */
export function printSortedSchema(schema: GraphQLSchema): string {
  return printSchema(lexicographicSortSchema(schema));
}
