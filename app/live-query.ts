import {
  type FieldFilter,
  literalOperand,
  type Operand,
  type OrderKey,
  type Predicate,
  type Value,
  type ViewDefinition,
} from '../engine/index.js';
import { AppError, type AppErrorDetails } from './errors.js';
import { checkJsonDepth, DEFAULT_WRITE_LIMITS } from './write-limits.js';

/**
 * Ad-hoc live queries: the arguments of `posts(where, orderBy, limit, offset)` as an
 * engine view definition, with the limits that keep one request from costing the server
 * without bound.
 */

export interface LiveQueryLimits {
  /** Largest `limit`; also the limit of a query that gives none (default 1,000). */
  readonly maxLimit: number;
  /** Largest `offset` (default 10,000): a top-k view keeps offset + limit candidates. */
  readonly maxOffset: number;
  /** Deepest nesting of `where` (default 6): a field filter at the top is depth 1, each and/or/not adds one. */
  readonly maxWhereDepth: number;
  /** Live subscriptions one connection may hold at once (default 100). */
  readonly maxViewsPerConnection: number;
  /** Nesting of a JSON filter operand (default: the write limit's, 32). */
  readonly maxJsonDepth: number;
}

export const DEFAULT_LIMITS: LiveQueryLimits = {
  maxLimit: 1_000,
  maxOffset: 10_000,
  maxWhereDepth: 6,
  maxViewsPerConnection: 100,
  maxJsonDepth: DEFAULT_WRITE_LIMITS.maxJsonDepth,
};

/** A `where` input as GraphQL hands it over: explicit nulls included. */
type WhereInput = { readonly [key: string]: unknown };

interface OrderByInput {
  readonly field: string;
  readonly direction?: 'asc' | 'desc' | null;
}

export interface LiveQueryArgs {
  readonly where?: WhereInput | null;
  readonly orderBy?: readonly OrderByInput[] | null;
  readonly limit?: number | null;
  readonly offset?: number | null;
}

/** The view definition of an ad-hoc query over `table` (its id is the registry's to set). */
export function liveQueryDefinition(table: string, args: LiveQueryArgs, limits: LiveQueryLimits): ViewDefinition {
  const limit = args.limit ?? limits.maxLimit;
  if (limit < 0 || limit > limits.maxLimit) {
    throw badInput(`limit must be from 0 to ${limits.maxLimit}, got ${limit}`, {
      field: 'limit',
      max: limits.maxLimit,
    });
  }
  const offset = args.offset ?? 0;
  if (offset < 0 || offset > limits.maxOffset) {
    throw badInput(`offset must be from 0 to ${limits.maxOffset}, got ${offset}`, {
      field: 'offset',
      max: limits.maxOffset,
    });
  }
  const orderBy: OrderKey[] = (args.orderBy ?? []).map((key) => ({
    field: key.field,
    direction: key.direction ?? 'asc',
  }));
  const where = args.where == null ? undefined : toPredicate(args.where, 1, limits);
  return {
    id: table,
    from: table,
    ...(where === undefined ? {} : { where }),
    ...(orderBy.length === 0 ? {} : { orderBy }),
    limit,
    ...(offset === 0 ? {} : { offset }),
  };
}

const NULLABLE_OPS = new Set(['eq', 'ne']);

/**
 * A typed `where` input as an engine predicate: every key of one input object is ANDed;
 * `and`/`or` take lists, `not` one input. An explicit `null` for `eq`/`ne` compares with
 * null (`eq: null` is `isNull: true`); for any other operator it is an error, and a null
 * list, input or field filter counts as absent.
 */
function toPredicate(input: WhereInput, depth: number, limits: LiveQueryLimits): Predicate {
  const maxDepth = limits.maxWhereDepth;
  if (depth > maxDepth) {
    throw badInput(`where is nested deeper than ${maxDepth} levels`, { field: 'where', max: maxDepth });
  }
  const parts: Predicate[] = [];
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined || value === null) continue;
    if (key === 'and' || key === 'or') {
      const items = (value as readonly WhereInput[]).map((item) => toPredicate(item, depth + 1, limits));
      parts.push(key === 'and' ? { and: items } : { or: items });
    } else if (key === 'not') {
      parts.push({ not: toPredicate(value as WhereInput, depth + 1, limits) });
    } else {
      const filter: { [op: string]: Operand } = {};
      for (const [op, operand] of Object.entries(value as { [op: string]: unknown })) {
        if (operand === undefined) continue;
        if (operand === null && !NULLABLE_OPS.has(op))
          throw badInput(`where.${key}.${op} cannot be null`, { field: key });
        checkJsonDepth(operand, limits.maxJsonDepth, `where.${key}.${op}`, { field: key });
        // A client's value is data: never read as engine syntax such as `{ param: name }`.
        filter[op] = literalOperand(operand as Value);
      }
      if (Object.keys(filter).length > 0) parts.push({ [key]: filter as FieldFilter });
    }
  }
  return parts.length === 1 ? (parts[0] as Predicate) : { and: parts };
}

function badInput(message: string, details: AppErrorDetails = {}): AppError {
  return new AppError('BAD_INPUT', message, details);
}
