import fc from 'fast-check';
import { expect, test } from 'vitest';
import { hashRows as clientHashRows } from '../../client/index.js';
import { hashRows as engineHashRows, type Row } from '../../engine/index.js';

/**
 * The client's copy of the result hash equals the engine's: on hostile rows (any JSON, keys and
 * strings with escapes, lone surrogates, -0, big and tiny numbers), and with `__typename` added
 * at any object level (GraphQL clients add it, the server never hashes it).
 */

const hostileString = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', '"', '\\', '\u2028', '\ud800', '__proto__'),
);
const value = fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<unknown>;
const hostileValue = fc.oneof(
  value,
  hostileString,
  fc.constantFrom(-0, 1e21, 1.5e-7, 2 ** 53 - 1, -1234567, 0.1 + 0.2),
);
const row = fc
  .tuple(hostileString, fc.dictionary(hostileString, hostileValue))
  .map(([id, fields]) => ({ ...fields, id }) as Row);

function withTypenames(value: unknown, name: string): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => withTypenames(item, name));
  const fields = Object.entries(value).filter(([key]) => key !== '__typename');
  return Object.fromEntries([['__typename', name], ...fields.map(([key, field]) => [key, withTypenames(field, name)])]);
}

function withoutTypenames(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(withoutTypenames);
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== '__typename')
      .map(([key, field]) => [key, withoutTypenames(field)]),
  );
}

test('equals the engine hash on hostile rows', () => {
  fc.assert(
    fc.property(fc.array(row, { maxLength: 8 }), (rows) => {
      const clean = rows.map((r) => withoutTypenames(r) as Row);
      expect(clientHashRows(clean)).toBe(engineHashRows(clean));
    }),
    { numRuns: 1000 },
  );
});

test('ignores __typename at every object level', () => {
  fc.assert(
    fc.property(fc.array(row, { maxLength: 8 }), fc.string(), (rows, name) => {
      const clean = rows.map((r) => withoutTypenames(r) as Row);
      const typed = clean.map((r) => withTypenames(r, name) as object);
      expect(clientHashRows(typed)).toBe(engineHashRows(clean));
    }),
    { numRuns: 500 },
  );
});

test('differs when a field differs', () => {
  expect(clientHashRows([{ id: 'a', n: 5 }])).not.toBe(clientHashRows([{ id: 'a', n: '5' }]));
  expect(clientHashRows([])).toBe(engineHashRows([]));
});
