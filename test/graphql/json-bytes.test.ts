import fc from 'fast-check';
import { expect, test } from 'vitest';
import { jsonBytesWithin } from '../../graphql/plugins/json-bytes.js';

/**
 * The response cap's measure equals the UTF-8 length of `JSON.stringify` for any JSON value
 * (escapes, lone surrogates, astral characters, nesting, fields left out as undefined), and gives
 * up as soon as it is over the maximum.
 */
const bytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value));

test('equals the length of JSON.stringify in UTF-8', () => {
  const text = fc.string({ unit: 'binary' });
  const value = fc.letrec((tie) => ({
    leaf: fc.oneof(
      text,
      fc.constantFrom('\ud800', 'a\udc00b', '\ud83d\ude00', '"\\\n\u0001\u007f\u2028'),
      fc.double(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.constant(undefined),
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0),
    ),
    node: fc.oneof({ depthSize: 'small' }, tie('leaf'), tie('array'), tie('object')),
    array: fc.array(tie('node'), { maxLength: 5 }),
    object: fc.dictionary(text, tie('node'), { maxKeys: 5 }),
  })).node;
  fc.assert(
    fc.property(fc.oneof(value.filter((v) => v !== undefined)), (v) => {
      expect(jsonBytesWithin(v, Number.MAX_SAFE_INTEGER)).toBe(bytes(v));
    }),
    { numRuns: 500 },
  );
});

test('stops at the maximum', () => {
  const value = { rows: Array.from({ length: 1000 }, (_, i) => ({ id: `r${i}`, name: 'é'.repeat(100) })) };
  const exact = bytes(value);
  expect(jsonBytesWithin(value, exact)).toBe(exact);
  expect(jsonBytesWithin(value, exact - 1)).toBeUndefined();
  expect(jsonBytesWithin(value, 10)).toBeUndefined();
});
