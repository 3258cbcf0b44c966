import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { createBuilder, defineSchemaTypes } from '../schema/index.js';
import type { LiveStore } from './live-store.js';
import { addMutationFields } from './mutation.js';
import { addQueryFields } from './query.js';
import { addSubscriptionFields } from './subscription.js';

/** The executable schema of a store's config, its root fields resolved by that store. */
export function buildSchema(store: LiveStore): GraphQLSchema {
  const builder = createBuilder();
  const refs = defineSchemaTypes(builder, store.checked);
  addQueryFields(builder, refs, store);
  addMutationFields(builder, refs, store);
  addSubscriptionFields(builder, refs, store);
  return builder.toSchema();
}

/** SDL with types and fields sorted, as committed in `schema.graphql`. */
export function printSortedSchema(schema: GraphQLSchema): string {
  return printSchema(lexicographicSortSchema(schema));
}
