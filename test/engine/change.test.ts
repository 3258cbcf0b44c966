import { describe, expect, it } from 'vitest';
import { Circuit, checkChange, EngineError } from '../../engine/index.js';

/** `checkChange` is the validation every ingest runs: same records, same errors. */
describe('checkChange', () => {
  const exists = (table: string): boolean => table === 'users';

  it('returns the record to store, its id filled in, and nothing for a delete', () => {
    expect(checkChange(exists, 'users', 'CREATE', 'u1', { name: 'Ann' })).toEqual({ id: 'u1', name: 'Ann' });
    expect(checkChange(exists, 'users', 'UPDATE', 'u1', { id: 'u1', name: 'Ann' })).toEqual({ id: 'u1', name: 'Ann' });
    expect(checkChange(exists, 'users', 'DELETE', 'u1')).toBeUndefined();
  });

  it('throws BAD_INPUT with the documented messages, in order', () => {
    const cases: [Parameters<typeof checkChange>, string][] = [
      [[exists, 'posts', 'CREATE', '', 5], "unknown table 'posts'"],
      [[exists, 'users', 'CREATE', '', 5], "table 'users': id must be a non-empty string"],
      [
        [exists, 'users', 'MERGE' as 'CREATE', 'u1', 5],
        "table 'users', id 'u1': unknown operation 'MERGE' (CREATE, UPDATE or DELETE)",
      ],
      [[exists, 'users', 'CREATE', 'u1', [1]], "users 'u1': data must be an object"],
      [[exists, 'users', 'CREATE', 'u1', { n: Number.NaN }], "users 'u1': field 'n' is not a JSON value"],
      [
        [exists, 'users', 'UPDATE', 'u1', { id: 'u2' }, 'changes[3]: '],
        "changes[3]: users 'u1': data.id 'u2' differs from the id argument",
      ],
    ];
    for (const [args, message] of cases) {
      const error = (() => {
        try {
          checkChange(...args);
        } catch (caught) {
          return caught;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(EngineError);
      expect(error).toMatchObject({ code: 'BAD_INPUT', message });
    }
  });

  it('is what the circuit checks', () => {
    const circuit = new Circuit({ tables: ['users'] });
    expect(circuit.hasTable('users')).toBe(true);
    expect(() => circuit.ingestSingle('users', 'CREATE', 'u1', { id: 'u9' })).toThrow(
      "users 'u1': data.id 'u9' differs from the id argument",
    );
    expect(() => circuit.ingestBatch([{ table: 'users', op: 'CREATE', id: 'u1', data: 'x' }])).toThrow(
      "changes[0]: users 'u1': data must be an object",
    );
  });
});
