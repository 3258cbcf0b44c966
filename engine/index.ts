/** The IVM engine: usable on its own, without the GraphQL layer. */
export { Circuit } from './circuit.js';
export { checkChange } from './change.js';
export { fieldFilterSchema, pathSchema, predicateSchema, viewDefinitionSchema } from './definition.js';
export { EngineError, isEngineError, type EngineErrorCode } from './errors.js';
export { evaluateView } from './evaluate.js';
export { hashRow, hashRows, ResultHash } from './hash.js';
export {
  conditionOf,
  conjuncts,
  foldPredicate,
  isCombinator,
  isParam,
  mapFilters,
  paramsIn,
  predicatePaths,
  type Combinator,
  type Condition,
  type FilterOperator,
  type PredicateFold,
} from './predicate.js';
export { compareValues, equalValues, canonicalJson } from './values.js';
export type * from './types.js';
export { viewSignature } from './canonical.js';
export { compilePredicate, type RowTest } from './predicate.js';
