import type { ExecutionResult } from 'graphql';
import { type GraphQLError, ValuesOfCorrectTypeRule, validate } from 'graphql';
import type { Plugin } from 'graphql-yoga';

const BAD_USER_INPUT = 'BAD_USER_INPUT';

/**
 * Gives input errors found by GraphQL itself the code the resolvers use for bad input:
 * a literal argument of the wrong type, a missing required or an unknown input field
 * (validation), and the same problems in variables (found when execution starts).
 * Other validation errors keep yoga's `GRAPHQL_VALIDATION_FAILED`.
 */
export function useInputErrorCodes(): Plugin {
  // The same hooks for every operation: a subscription keeps its hooks as long as it lives.
  const executeHooks = { onExecuteDone: ({ result }: { result: unknown }) => markVariableErrors(result) };
  const subscribeHooks = { onSubscribeResult: ({ result }: { result: unknown }) => markVariableErrors(result) };
  return {
    onValidate({ params }) {
      return ({ valid, result }) => {
        if (valid) return;
        // Only on the error path: re-run the one rule that judges input values.
        const inputErrors = new Set(
          validate(params.schema, params.documentAST, [ValuesOfCorrectTypeRule]).map((error) => error.message),
        );
        for (const error of result) if (inputErrors.has(error.message)) setCode(error, BAD_USER_INPUT);
      };
    },
    onExecute: () => executeHooks,
    onSubscribe: () => subscribeHooks,
  };
}

function markVariableErrors(result: unknown): void {
  const errors = (result as ExecutionResult | undefined)?.errors;
  if (errors === undefined) return;
  for (const error of errors) {
    // graphql-js reports bad variable values before executing, without a path.
    if (error.path === undefined && error.message.startsWith('Variable "$')) setCode(error, BAD_USER_INPUT);
  }
}

function setCode(error: GraphQLError, code: string): void {
  (error.extensions as { code?: unknown }).code = code;
}
