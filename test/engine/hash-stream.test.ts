import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cyrb53, hashRow } from '../../engine/hash.js';
import type { Row } from '../../engine/index.js';
import { canonicalJson } from '../../engine/values.js';

/** The streamed row hash must equal the specified one: cyrb53 of the canonical JSON text. */
describe('hashRow', () => {
  it('equals cyrb53(canonicalJson(row)) for any JSON object', () => {
    const row = fc.dictionary(
      fc.string({ unit: 'binary' }),
      fc.jsonValue() as fc.Arbitrary<never>,
    ) as fc.Arbitrary<Row>;
    fc.assert(
      fc.property(row, (r) => hashRow(r) === cyrb53(canonicalJson(r))),
      { numRuns: 2000 },
    );
  });

  it('equals it on escapes, lone surrogates, integers and key order', () => {
    const rows: Row[] = [
      { a: 'x"y\\z\n\t\u0001\u2028é😀', b: [1, -0, 1e21, 1.5e-7, null, true, { z: 1, a: [] }], c: { '"k': 'v' } },
      { d: '\ud800', e: 'a\udc00b', f: '\ud83d\ude00\ud83d', g: -1234567, h: 2 ** 53 - 1, i: 0.1 + 0.2 },
      { b: 1, a: 2, aa: 3, B: 4, '': 5, é: 6, '10': 7, '9': 8 },
    ];
    for (const r of rows) expect(hashRow(r)).toBe(cyrb53(canonicalJson(r)));
  });
});
