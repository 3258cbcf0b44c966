import { expect, test } from 'vitest';
import { UpdateHistory } from '../../app/update-history.js';

/** The bounded per-view history behind `sinceVersion`. */
const update = (version: number) => ({ version });

test('returns the updates after a version while all of them are held', () => {
  const history = new UpdateHistory<{ version: number }>(3);
  for (let v = 1; v <= 5; v++) history.push(update(v));
  expect(history.since(2, 5)).toEqual([update(3), update(4), update(5)]);
  expect(history.since(4, 5)).toEqual([update(5)]);
  expect(history.since(5, 5)).toEqual([]);
  expect(history.since(1, 5)).toBeUndefined(); // version 2 is gone
});

test('a version ahead of the view, negative or fractional is not a past version', () => {
  const history = new UpdateHistory<{ version: number }>(3);
  history.push(update(1));
  expect(history.since(2, 1)).toBeUndefined();
  expect(history.since(-1, 1)).toBeUndefined();
  expect(history.since(0.5, 1)).toBeUndefined();
  expect(history.since(0, 1)).toEqual([update(1)]);
});

test('capacity 0 keeps nothing; versions must be consecutive', () => {
  const none = new UpdateHistory<{ version: number }>(0);
  none.push(update(1));
  expect(none.since(0, 1)).toBeUndefined();
  expect(none.since(1, 1)).toEqual([]);
  const history = new UpdateHistory<{ version: number }>(2);
  history.push(update(4));
  expect(() => history.push(update(6))).toThrow(/does not follow/);
  expect(() => new UpdateHistory(-1)).toThrow(RangeError);
});

test('a version below the start of this run (issued before a restart) is never served', () => {
  const history = new UpdateHistory<{ version: number }>(10, 40);
  expect(history.since(40, 40)).toEqual([]);
  expect(history.since(39, 40)).toBeUndefined();
  expect(history.since(3, 40)).toBeUndefined();
  history.push(update(41));
  expect(history.since(40, 41)).toEqual([update(41)]);
  expect(history.since(39, 41)).toBeUndefined();
});
