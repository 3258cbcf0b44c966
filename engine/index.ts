/** The IVM engine: usable on its own, without the GraphQL layer. */

export { viewSignature } from './canonical.js';
export { checkChange } from './change.js';
export { Circuit } from './circuit.js';
export { fieldFilterSchema, pathSchema, predicateSchema, viewDefinitionSchema } from './definition.js';
export { EngineError, type EngineErrorCode, EngineFault, isEngineError, isEngineFault } from './errors.js';
export { evaluateView } from './evaluate.js';
export { hashRow, hashRows, ResultHash } from './hash.js';
export {
  type Combinator,
  type Condition,
  compilePredicate,
  conditionOf,
  conjuncts,
  type FilterOperator,
  foldPredicate,
  isCombinator,
  isParam,
  literalOperand,
  mapFilters,
  type PredicateFold,
  paramsIn,
  predicatePaths,
  type RowTest,
} from './predicate.js';
export type * from './types.js';
export { canonicalJson, compareValues, equalValues } from './values.js';
