import { expect, test } from 'vitest';
import { Circuit, evaluateView, literalOperand, type Value } from '../../engine/index.js';

/**
 * A tagged literal `{ literal: value }` stands for its value, whatever the value looks like:
 * the incremental view and the evaluator both compare it as data, where the same object
 * untagged would be a parameter reference.
 */
const HOSTILE: Value[] = [{ param: 'x' }, { literal: 1 }, { viewer: 'sub' }, { and: [] }, { param: 'x', y: 1 }];

test('literalOperand tags objects only; arrays and primitives stay as they are', () => {
  expect(literalOperand({ param: 'x' })).toEqual({ literal: { param: 'x' } });
  expect(literalOperand([{ param: 'x' }])).toEqual([{ param: 'x' }]);
  for (const value of [null, 1, 'x', true]) expect(literalOperand(value)).toBe(value);
});

test('a tagged operand matches the stored value, in the circuit and in the evaluator', () => {
  const circuit = new Circuit({ tables: ['notes'] });
  const tables = new Map([['notes', new Map()]]);
  HOSTILE.forEach((tags, i) => {
    circuit.ingestSingle('notes', 'CREATE', `n${i}`, { tags });
    tables.get('notes')?.set(`n${i}`, { id: `n${i}`, tags });
  });
  HOSTILE.forEach((tags, i) => {
    const definition = { id: `v${i}`, from: 'notes', where: { tags: { eq: literalOperand(tags) } } };
    const expected = [{ id: `n${i}`, tags }];
    expect(circuit.registerView(definition).rows).toEqual(expected);
    expect(evaluateView(definition, tables)).toEqual(expected);
  });
  // Untagged, the same object is a parameter reference.
  expect(() => circuit.registerView({ id: 'p', from: 'notes', where: { tags: { eq: { param: 'x' } } } })).toThrow(
    /missing parameter 'x'/,
  );
});
