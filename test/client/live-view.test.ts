import { expect, test } from 'vitest';
import { hashRows, type LiveEvent, LiveView, LiveViewError } from '../../client/index.js';

/** `LiveView` on hand-made events: order, versions, gaps, stale replays, hash checks. */

type Row = { id: string; likes: number; __typename?: string };
const orderBy = [{ field: 'likes', direction: 'DESC' as const }];

function event(
  kind: 'SNAPSHOT' | 'DELTA',
  version: number,
  all: Row[],
  change: Partial<LiveEvent<Row>>,
): LiveEvent<Row> {
  return { view: 'top', version, kind, added: [], updated: [], removed: [], orderBy, hash: hashRows(all), ...change };
}

test('keeps rows in view order through deltas and tells listeners', () => {
  const view = new LiveView<Row>();
  const seen: string[][] = [];
  view.subscribe((state) => seen.push(state.rows.map((r) => r.id)));
  const a = { id: 'a', likes: 1 };
  const b = { id: 'b', likes: 5, __typename: 'TopPostsRow' };
  expect(view.apply(event('SNAPSHOT', 3, [a, b], { added: [a, b] }))).toBe('applied');
  const a2 = { id: 'a', likes: 9 };
  const c = { id: 'c', likes: 5 };
  expect(view.apply(event('DELTA', 4, [a2, b, c], { updated: [a2], added: [c] }))).toBe('applied');
  expect(view.apply(event('DELTA', 5, [a2, c], { removed: ['b'] }))).toBe('applied');
  expect(seen).toEqual([
    ['b', 'a'],
    ['a', 'b', 'c'],
    ['a', 'c'],
  ]);
  expect(view.version).toBe(5);
});

test('a replayed delta is stale, a skipped version is a gap, neither changes the copy', () => {
  const view = new LiveView<Row>();
  const a = { id: 'a', likes: 1 };
  expect(view.apply(event('DELTA', 1, [a], { added: [a] }))).toBe('gap');
  view.apply(event('SNAPSHOT', 1, [a], { added: [a] }));
  expect(view.apply(event('DELTA', 1, [a], { added: [a] }))).toBe('stale');
  expect(view.apply(event('DELTA', 3, [], { removed: ['a'] }))).toBe('gap');
  expect(view.rows).toEqual([a]);
  expect(view.version).toBe(1);
});

test('a hash mismatch drops the copy; verifyHash: false keeps it', () => {
  const a = { id: 'a', likes: 1 };
  const wrong = { ...event('SNAPSHOT', 1, [a], { added: [a] }), hash: '0000000000000000' };
  const view = new LiveView<Row>();
  expect(view.apply(wrong)).toBe('mismatch');
  expect(view.state).toBeUndefined();
  const lax = new LiveView<Row>({ verifyHash: false });
  expect(lax.apply(wrong)).toBe('applied');
});

test('without orderBy in the events or the options it says what to select', () => {
  const view = new LiveView<Row>();
  const { orderBy: _, ...bare } = event('SNAPSHOT', 1, [], {});
  expect(() => view.apply(bare)).toThrow(LiveViewError);
  expect(new LiveView<Row>({ orderBy: [] }).apply(bare)).toBe('applied');
});
