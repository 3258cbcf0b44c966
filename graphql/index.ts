/** The GraphQL layer: only wiring from GraphQL fields to the service layer (`app/`). */
export { buildSchema, printSortedSchema } from './build-schema.js';
export { toGraphQLError } from './errors.js';
export { useInputErrorCodes } from './plugins/input-error-codes.js';
export { DEFAULT_MAX_PAYLOAD_BYTES, usePayloadLimit } from './plugins/payload-limit.js';
export { DEFAULT_REQUEST_LIMITS, type RequestLimits, useRequestLimits } from './plugins/request-limits.js';
export { useResponseLimit } from './plugins/response-limit.js';
export { type ResultWriter, useSharedEventExecution } from './plugins/shared-event-execution.js';
export type { RequestContext } from './schema/index.js';
