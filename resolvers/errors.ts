import { GraphQLError } from 'graphql';
import { isEngineError, type EngineErrorCode } from '../engine/index.js';

/** `extensions.code` of each engine error code (DESIGN §4). */
const CODES: { readonly [code in EngineErrorCode]: string } = {
  BAD_INPUT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
};

/**
 * An engine error as a deliberate GraphQL error carrying its code and location; any other
 * error is returned as is, so the server masks it as an internal error.
 */
export function toGraphQLError(error: unknown): unknown {
  if (!isEngineError(error)) return error;
  const extensions: { [key: string]: string } = { code: CODES[error.code] };
  if (error.table !== undefined) extensions['table'] = error.table;
  if (error.id !== undefined) extensions['id'] = error.id;
  if (error.field !== undefined) extensions['field'] = error.field;
  return new GraphQLError(error.message, { extensions });
}

export async function withGraphQLErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw toGraphQLError(error);
  }
}
