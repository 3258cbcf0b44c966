import { EnvelopArmor } from '@escape.tech/graphql-armor';
import {
  type FieldNode,
  type GraphQLError,
  Kind,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { limitExceeded } from '../errors.js';
import { LIVE_VIEW } from '../schema/index.js';

/** What one GraphQL document may ask for; each is checked before anything executes. */
export interface RequestLimits {
  /** Lexical tokens of the document (default 2,000); stops the parser before deep nesting can overflow it. */
  readonly maxTokens: number;
  /** Depth of the selection (default 12; introspection is exempt). */
  readonly maxDepth: number;
  /** Aliases per operation (default 15). */
  readonly maxAliases: number;
  /** Directives per operation (default 10). */
  readonly maxDirectives: number;
  /** graphql-armor's cost estimate: 2 per object, 1 per scalar, ×1.5 per level (default 5,000). */
  readonly maxCost: number;
  /** Root fields that read a view (a view, an ad-hoc live query), as queries or subscriptions (default 10). */
  readonly maxLiveFields: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = {
  maxTokens: 2_000,
  maxDepth: 12,
  maxAliases: 15,
  maxDirectives: 10,
  maxCost: 5_000,
  maxLiveFields: 10,
};

/**
 * graphql-armor's protections (tokens at parse time; depth, aliases, directives and cost as
 * validation rules) and a count of live fields, each refusal a `LIMIT_EXCEEDED` error with
 * `extensions.limit` and `extensions.max` (HTTP 400; over graphql-ws an error message for
 * the operation, the socket stays open).
 */
export function useRequestLimits(limits: RequestLimits): Plugin[] {
  // Validation rules report through the context (armor would throw out of `validate`, which
  // graphql-ws answers by closing the socket); the token limit must throw to stop the parser.
  const report =
    (limit: keyof RequestLimits) =>
    (context: ValidationContext | null, error: GraphQLError): void => {
      const coded = limitExceeded(error.message.replace(/^Syntax Error: /, ''), limit, limits[limit]);
      if (context === null) throw coded;
      context.reportError(coded);
    };
  const armor = new EnvelopArmor({
    maxTokens: { n: limits.maxTokens, onReject: [report('maxTokens')] },
    maxDepth: { n: limits.maxDepth, onReject: [report('maxDepth')], propagateOnRejection: false },
    maxAliases: { n: limits.maxAliases, onReject: [report('maxAliases')], propagateOnRejection: false },
    maxDirectives: { n: limits.maxDirectives, onReject: [report('maxDirectives')], propagateOnRejection: false },
    costLimit: { maxCost: limits.maxCost, onReject: [report('maxCost')], propagateOnRejection: false },
    blockFieldSuggestion: { enabled: false },
  });
  const liveFields: Plugin = {
    onValidate({ addValidationRule }) {
      addValidationRule(liveFieldsRule(limits.maxLiveFields));
    },
  };
  // Envelop plugins: yoga runs them as they are (its own plugin type only adds HTTP hooks).
  return [...(armor.protect().plugins as unknown as Plugin[]), liveFields];
}

/**
 * Counts the distinct response keys of an operation's root fields marked `LIVE_VIEW` (each
 * leases a view), through fragments; more than `max` is refused.
 */
function liveFieldsRule(max: number): ValidationRule {
  return (context) => ({
    OperationDefinition(operation) {
      const root = context.getSchema().getRootType(operation.operation);
      if (root === null || root === undefined) return;
      const fields = root.getFields();
      const keys = new Set<string>();
      const spread = new Set<string>();
      const walk = (set: SelectionSetNode): void => {
        for (const selection of set.selections) {
          if (selection.kind === Kind.FIELD) {
            if (fields[selection.name.value]?.extensions[LIVE_VIEW] === true) keys.add(responseKey(selection));
          } else if (selection.kind === Kind.INLINE_FRAGMENT) {
            walk(selection.selectionSet);
          } else if (!spread.has(selection.name.value)) {
            spread.add(selection.name.value);
            const fragment = context.getFragment(selection.name.value);
            if (fragment !== undefined && fragment !== null) walk(fragment.selectionSet);
          }
        }
      };
      walk(operation.selectionSet);
      if (keys.size > max) {
        context.reportError(
          limitExceeded(`an operation may read at most ${max} live views, found ${keys.size}`, 'maxLiveFields', max),
        );
      }
    },
  });
}

function responseKey(field: FieldNode): string {
  return field.alias?.value ?? field.name.value;
}
