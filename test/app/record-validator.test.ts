import { expect, test } from 'vitest';
import { isAppError } from '../../app/errors.js';
import { RecordValidator } from '../../app/record-validator.js';

/** The one record check, shared by the write path and the start-up load. */
const users = new RecordValidator({
  name: 'users',
  type: 'User',
  fields: { name: 'String!', likes: 'Int', tags: 'JSON' },
});

function problem(id: string, data: { [field: string]: unknown }): string {
  try {
    users.check(id, data);
  } catch (error) {
    expect(isAppError(error) && error.code).toBe('BAD_INPUT');
    return (error as Error).message;
  }
  throw new Error('accepted');
}

test('normalises a valid record: a missing nullable field becomes null', () => {
  expect(users.check('u1', { id: 'u1', name: 'Ann' })).toEqual({ id: 'u1', name: 'Ann', likes: null, tags: null });
});

test('names the record and the field at fault', () => {
  expect(problem('u1', { id: 'u1', name: 'Ann', likes: 'xx' })).toMatch(/^users 'u1': field 'likes'/);
  expect(problem('u1', { id: 'u1' })).toMatch(/^users 'u1': field 'name'/);
  expect(problem('u1', { id: 'u1', name: 'Ann', rating: 5 })).toBe("users 'u1': unknown field 'rating'");
});

test('an id must be well-formed Unicode: the store keeps ids as UTF-8, where a lone surrogate is lost', () => {
  for (const id of ['a\uD800', '\uDC00b', 'a\uDC00\uD800']) {
    expect(problem(id, { id, name: 'Ann' })).toMatch(/field 'id': an id must be well-formed Unicode/);
  }
  expect(users.check('a\uD83D\uDE00', { id: 'a\uD83D\uDE00', name: 'Ann' }).id).toBe('a\uD83D\uDE00');
});
