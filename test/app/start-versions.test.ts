import { expect, test } from 'vitest';
import { StartVersions } from '../../app/start-versions.js';

/**
 * Where views created on demand start: at the run's base whatever the clock says (no count of
 * requests leaks), above the last version an earlier view of the same signature reached, never
 * above the clock; forgotten signatures raise the floor.
 */
test('a new signature starts at the base, however many requests were applied', () => {
  const starts = new StartVersions(40);
  expect(starts.start('a', 40)).toBe(40);
  expect(starts.start('b', 41)).toBe(40);
  expect(starts.start('c', 5_000)).toBe(40);
});

test('a signature created again starts above its last version; other signatures do not move', () => {
  const starts = new StartVersions(0);
  starts.retire('a', 17);
  expect(starts.start('a', 100)).toBe(18);
  expect(starts.start('b', 100)).toBe(0);
  starts.retire('a', 30);
  expect(starts.start('a', 100)).toBe(31);
});

test('a start is capped at the clock: only when nothing was applied since the last version', () => {
  const starts = new StartVersions(0);
  starts.retire('a', 12);
  expect(starts.start('a', 12)).toBe(12);
  expect(starts.start('a', 13)).toBe(13);
});

test('past the remembered signatures, the oldest are forgotten and the floor rises above them', () => {
  const starts = new StartVersions(5, 2);
  starts.retire('a', 10);
  starts.retire('b', 20);
  starts.retire('a', 11); // refreshed: now the newest
  starts.retire('c', 7); // forgets b
  expect(starts.start('b', 100)).toBe(21);
  expect(starts.start('a', 100)).toBe(21);
  expect(starts.start('c', 100)).toBe(21);
  expect(starts.start('d', 100)).toBe(21);
  starts.retire('d', 3); // forgets a (11): the floor stays at 21
  expect(starts.start('a', 100)).toBe(21);
});
