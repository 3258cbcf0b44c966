import { describe, expect, it } from 'vitest';
import {
  conditionOf,
  conjuncts,
  type FieldFilter,
  foldPredicate,
  isCombinator,
  isParam,
  mapFilters,
  type Predicate,
  type PredicateFold,
  paramsIn,
  predicatePaths,
} from '../../engine/index.js';

/** The toolkit every predicate walker is written with: combinators, conjuncts, the fold. */

const nested: Predicate = {
  and: [
    { published: { eq: true }, likes: { gte: 2, lt: 10 } },
    { and: [{ authorId: { eq: { param: 'author' } } }, { and: [] }] },
    { or: [{ title: { startsWith: 'A' } }, { 'author.name': { eq: 'Ann' } }] },
    { not: { tags: { contains: 'draft' } } },
  ],
};

/** Rebuilds the predicate as it was: the identity fold. */
const rebuild: PredicateFold<Predicate> = {
  and: (parts) => ({ and: parts }),
  or: (parts) => ({ or: parts }),
  not: (part) => ({ not: part }),
  field: (path, filter) => ({ [path]: filter }),
  fields: (parts) => Object.assign({}, ...parts) as Predicate,
};

describe('isCombinator', () => {
  it('tells and/or/not nodes from leaves', () => {
    expect(isCombinator({ and: [] })).toBe(true);
    expect(isCombinator({ or: [{ a: { eq: 1 } }] })).toBe(true);
    expect(isCombinator({ not: { a: { eq: 1 } } })).toBe(true);
    expect(isCombinator({ a: { eq: 1 } })).toBe(false);
    expect(isCombinator({ a: { eq: 1 }, b: { eq: 2 } })).toBe(false);
    expect(isCombinator({})).toBe(false);
  });
});

describe('conjuncts', () => {
  it('flattens nested ands and splits leaves into one field and one operator each', () => {
    expect(conjuncts(nested)).toEqual([
      { published: { eq: true } },
      { likes: { gte: 2 } },
      { likes: { lt: 10 } },
      { authorId: { eq: { param: 'author' } } },
      { or: [{ title: { startsWith: 'A' } }, { 'author.name': { eq: 'Ann' } }] },
      { not: { tags: { contains: 'draft' } } },
    ]);
  });

  it('returns nothing for a predicate that always holds, and or/not whole', () => {
    expect(conjuncts({ and: [{ and: [] }, {}] })).toEqual([]);
    expect(conjuncts({ or: [] })).toEqual([{ or: [] }]);
    expect(conjuncts({ not: { a: { eq: 1, ne: 2 } } })).toEqual([{ not: { a: { eq: 1, ne: 2 } } }]);
  });

  it('yields conditions for the field conjuncts only', () => {
    expect(conjuncts(nested).flatMap((c) => conditionOf(c) ?? [])).toEqual([
      { path: 'published', op: 'eq', operand: true },
      { path: 'likes', op: 'gte', operand: 2 },
      { path: 'likes', op: 'lt', operand: 10 },
      { path: 'authorId', op: 'eq', operand: { param: 'author' } },
    ]);
    expect(conditionOf({ a: { eq: 1, ne: 2 } })).toBeUndefined();
    expect(conditionOf({ a: { eq: 1 }, b: { eq: 2 } })).toBeUndefined();
  });
});

describe('foldPredicate', () => {
  it('round-trips with the identity fold', () => {
    expect(foldPredicate(nested, rebuild)).toEqual(nested);
    expect(foldPredicate({}, rebuild)).toEqual({});
  });

  it('folds a leaf of several fields with `and` unless told otherwise', () => {
    const shape = foldPredicate<string>(
      { a: { eq: 1 }, b: { gt: 2, lt: 3 } },
      {
        and: (parts) => `and(${parts.join(',')})`,
        or: (parts) => `or(${parts.join(',')})`,
        not: (part) => `not(${part})`,
        field: (path, filter) => `${path}:${Object.keys(filter).join('+')}`,
      },
    );
    expect(shape).toBe('and(a:eq,b:gt+lt)');
  });

  it('can simplify to true/false while rewriting operands, as binding a rule to a viewer does', () => {
    type Bound = Predicate | boolean;
    const viewer: { [claim: string]: string } = { sub: 'u1', role: 'reader' };
    const and = (parts: Bound[]): Bound => {
      if (parts.includes(false)) return false;
      const rest = parts.filter((p): p is Predicate => p !== true);
      return rest.length === 0 ? true : rest.length === 1 ? (rest[0] as Predicate) : { and: rest };
    };
    const or = (parts: Bound[]): Bound => {
      if (parts.includes(true)) return true;
      const rest = parts.filter((p): p is Predicate => p !== false);
      return rest.length === 0 ? false : rest.length === 1 ? (rest[0] as Predicate) : { or: rest };
    };
    const bind = (rule: Predicate): Bound =>
      foldPredicate<Bound>(rule, {
        and,
        or,
        not: (part) => (typeof part === 'boolean' ? !part : { not: part }),
        field: (path, filter) => {
          if (path === '$role') return filter.eq === viewer['role'];
          const operands = Object.entries(filter).map(([op, operand]) => [
            op,
            operand === '$sub' ? viewer['sub'] : operand,
          ]);
          return { [path]: Object.fromEntries(operands) as FieldFilter };
        },
      });
    expect(bind({ or: [{ $role: { eq: 'admin' } }, { ownerId: { eq: '$sub' } }] })).toEqual({ ownerId: { eq: 'u1' } });
    expect(bind({ or: [{ $role: { eq: 'reader' } }, { ownerId: { eq: '$sub' } }] })).toBe(true);
    expect(bind({ $role: { eq: 'admin' }, ownerId: { eq: '$sub' } })).toBe(false);
    expect(bind({ not: { $role: { eq: 'admin' } } })).toBe(true);
  });
});

describe('mapFilters', () => {
  it('rewrites every field filter and keeps the shape', () => {
    const bound = mapFilters(nested, (_path, filter) =>
      Object.fromEntries(Object.entries(filter).map(([op, operand]) => [op, isParam(operand) ? 'u1' : operand])),
    );
    expect(bound).toEqual({
      and: [
        { published: { eq: true }, likes: { gte: 2, lt: 10 } },
        { and: [{ authorId: { eq: 'u1' } }, { and: [] }] },
        { or: [{ title: { startsWith: 'A' } }, { 'author.name': { eq: 'Ann' } }] },
        { not: { tags: { contains: 'draft' } } },
      ],
    });
  });
});

describe('collecting', () => {
  it('lists the paths read and the parameters used', () => {
    expect(predicatePaths(nested)).toEqual(['published', 'likes', 'authorId', 'title', 'author.name', 'tags']);
    expect(paramsIn(nested)).toEqual(new Set(['author']));
    expect(
      paramsIn({ a: { in: [{ param: 'inside a list is a literal' }] }, b: { eq: { param: 'b', other: 1 } } }),
    ).toEqual(new Set());
    expect(isParam({ param: 'x' })).toBe(true);
    expect(isParam({ param: 'x', also: 1 })).toBe(false);
    expect(isParam(['x'])).toBe(false);
    expect(isParam(null)).toBe(false);
  });
});
