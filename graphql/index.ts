/** The GraphQL layer: only wiring from GraphQL fields to the service layer (`app/`). */
export { buildSchema, printSortedSchema } from './build-schema.js';
export { toGraphQLError } from './errors.js';
export { useInputErrorCodes } from './plugins/input-error-codes.js';
export { useSharedEventExecution } from './plugins/shared-event-execution.js';
export type { RequestContext } from './schema/index.js';
