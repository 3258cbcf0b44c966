import fc from 'fast-check';
import { expect, test } from 'vitest';
import { compareValues as clientCompare, makeComparator } from '../../client/index.js';
import { compareValues as engineCompare, type Value } from '../../engine/index.js';

/** The client orders values exactly as the engine does, and rows by their keys then id. */

test('compareValues has the engine sign on any JSON values', () => {
  const value = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(null, true, false, 0, -1, '', 'a', 'B'));
  fc.assert(
    fc.property(value, value, (a, b) => {
      expect(Math.sign(clientCompare(a, b))).toBe(Math.sign(engineCompare(a as Value, b as Value)));
    }),
    { numRuns: 2000 },
  );
});

test('rows sort by the keys (dot paths, desc), then id', () => {
  const compare = makeComparator([
    { field: 'likes', direction: 'DESC' },
    { field: 'author.name', direction: 'asc' },
  ]);
  const rows = [
    { id: 'b', likes: 1, author: { name: 'Z' } },
    { id: 'a', likes: 1, author: { name: 'Z' } },
    { id: 'c', likes: 1, author: null },
    { id: 'd', likes: 9, author: { name: 'A' } },
  ];
  expect([...rows].sort(compare).map((r) => r.id)).toEqual(['d', 'c', 'a', 'b']);
});
