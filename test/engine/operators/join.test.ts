import { describe, expect, it } from 'vitest';
import { EqualityLookup } from '../../../engine/lookup.js';
import { Join } from '../../../engine/operators/join.js';
import type { Record, Row } from '../../../engine/types.js';
import { consolidate, type Delta } from '../../../engine/zset.js';
import { insert, retract } from '../changes.js';

const ann = { id: 'u1', name: 'Ann' };
const bob = { id: 'u2', name: 'Bob' };
const p1 = { id: 'p1', authorId: 'u1' };
const p2 = { id: 'p2', authorId: 'u2' };

/**
 * A join with its right index, a lookup of the right table by the join field that
 * `pushRight` updates after the join has read it (as the circuit does after every view).
 */
function makeJoin(options: { leftPath: string[]; rightField: string; as: string; outer: boolean }) {
  const right = new EqualityLookup('right', options.rightField, []);
  const join = new Join({ ...options, right });
  return {
    push: (delta: Delta) => withoutParts(join, join.push(delta)),
    pushRight: (delta: Delta) => {
      const out = withoutParts(join, join.pushRight(delta));
      for (const { row, weight } of delta)
        right.update(weight < 0 ? (row as Record) : undefined, weight > 0 ? (row as Record) : undefined);
      return out;
    },
    load: (records: Record[]) => {
      for (const record of records) right.update(undefined, record);
    },
  };
}

/**
 * Checks that every output change carries the parts its row was built from (what a composed
 * result keeps instead of the row), then drops them so tests compare plain changes.
 */
function withoutParts(join: Join, delta: Delta): Delta {
  return delta.map(({ key, row, weight, left, right }) => {
    expect(left, `left part of '${key}'`).toBeDefined();
    expect(right, `right part of '${key}'`).not.toBeUndefined();
    expect(join.nest(left as Row, right as Record | null)).toEqual(row);
    return { key, row, weight };
  });
}

/** posts ⋈ users on `authorId = id`, the user nested as `author` */
const byAuthor = (outer: boolean) => makeJoin({ leftPath: ['authorId'], rightField: 'id', as: 'author', outer });
const withAuthor = (post: Row, author: Row | null): Row => ({ ...post, author });

describe('Join (inner)', () => {
  it('matches a left row against the right records already indexed', () => {
    const join = byAuthor(false);
    expect(join.pushRight([insert('u1', ann)])).toEqual([]);
    expect(join.push([insert('p1', p1)])).toEqual([insert('p1', withAuthor(p1, ann))]);
  });

  it('emits nothing for a left row with no match, then the joined row when the match arrives later', () => {
    const join = byAuthor(false);
    expect(join.push([insert('p2', p2)])).toEqual([]);
    expect(join.pushRight([insert('u2', bob)])).toEqual([insert('p2', withAuthor(p2, bob))]);
  });

  it('retracts the joined row when either side retracts its row', () => {
    const join = byAuthor(false);
    join.pushRight([insert('u1', ann), insert('u2', bob)]);
    join.push([insert('p1', p1), insert('p2', p2)]);
    expect(join.push([retract('p1', p1)])).toEqual([retract('p1', withAuthor(p1, ann))]);
    expect(join.pushRight([retract('u2', bob)])).toEqual([retract('p2', withAuthor(p2, bob))]);
    // both sides are gone from the indexes: re-adding one side alone matches nothing
    expect(join.pushRight([insert('u1', ann)])).toEqual([]);
    expect(join.push([insert('p2', p2)])).toEqual([]);
  });

  it('moves a left row from one match to another when its join value changes', () => {
    const join = byAuthor(false);
    join.pushRight([insert('u1', ann), insert('u2', bob)]);
    join.push([insert('p1', p1)]);
    const moved = { id: 'p1', authorId: 'u2' };
    expect(join.push([retract('p1', p1), insert('p1', moved)])).toEqual([
      retract('p1', withAuthor(p1, ann)),
      insert('p1', withAuthor(moved, bob)),
    ]);
  });

  it('updates every joined row when a right record changes', () => {
    const join = byAuthor(false);
    join.pushRight([insert('u1', ann)]);
    const p3 = { id: 'p3', authorId: 'u1' };
    join.push([insert('p1', p1), insert('p3', p3)]);
    const renamed = { id: 'u1', name: 'Anna' };
    expect(join.pushRight([retract('u1', ann), insert('u1', renamed)])).toEqual([
      retract('p1', withAuthor(p1, ann)),
      retract('p3', withAuthor(p3, ann)),
      insert('p1', withAuthor(p1, renamed)),
      insert('p3', withAuthor(p3, renamed)),
    ]);
  });

  it('matches nothing on a null join value, on either side', () => {
    const join = makeJoin({ leftPath: ['score'], rightField: 'likes', as: 'post', outer: false });
    join.pushRight([insert('p1', { id: 'p1', likes: null })]);
    expect(join.push([insert('c1', { id: 'c1', score: null })])).toEqual([]);
    expect(join.pushRight([insert('p2', { id: 'p2', likes: null })])).toEqual([]);
  });

  it('reads the records already in the right index', () => {
    const join = byAuthor(false);
    join.load([ann, bob]);
    expect(join.push([insert('p1', p1), insert('p2', p2)])).toEqual([
      insert('p1', withAuthor(p1, ann)),
      insert('p2', withAuthor(p2, bob)),
    ]);
  });
});

describe('Join (left)', () => {
  it('nests null while a left row has no match', () => {
    const join = byAuthor(true);
    expect(join.push([insert('p2', p2)])).toEqual([insert('p2', withAuthor(p2, null))]);
    expect(join.push([retract('p2', p2)])).toEqual([retract('p2', withAuthor(p2, null))]);
  });

  it('replaces the null row with the joined row when the first match arrives later', () => {
    const join = byAuthor(true);
    join.push([insert('p2', p2)]);
    expect(join.pushRight([insert('u2', bob)])).toEqual([
      retract('p2', withAuthor(p2, null)),
      insert('p2', withAuthor(p2, bob)),
    ]);
  });

  it('brings the null row back when the last match is retracted', () => {
    const join = byAuthor(true);
    join.pushRight([insert('u2', bob)]);
    join.push([insert('p2', p2)]);
    expect(join.pushRight([retract('u2', bob)])).toEqual([
      retract('p2', withAuthor(p2, bob)),
      insert('p2', withAuthor(p2, null)),
    ]);
  });

  it('retracts the joined row, not a null row, when a matched left row is retracted', () => {
    const join = byAuthor(true);
    join.pushRight([insert('u1', ann)]);
    join.push([insert('p1', p1)]);
    expect(join.push([retract('p1', p1)])).toEqual([retract('p1', withAuthor(p1, ann))]);
  });

  it('a right update of a matched record consolidates to `-old +new`', () => {
    const join = byAuthor(true);
    join.pushRight([insert('u1', ann)]);
    join.push([insert('p1', p1)]);
    const renamed = { id: 'u1', name: 'Anna' };
    // the retraction briefly leaves p1 unmatched (+null), the insertion matches it again (-null)
    expect(consolidate(join.pushRight([retract('u1', ann), insert('u1', renamed)]))).toEqual([
      retract('p1', withAuthor(p1, ann)),
      insert('p1', withAuthor(p1, renamed)),
    ]);
  });

  it('nests null for a null join value', () => {
    const join = byAuthor(true);
    join.pushRight([insert('u1', ann)]);
    const orphan = { id: 'p3', authorId: null };
    expect(join.push([insert('p3', orphan)])).toEqual([insert('p3', withAuthor(orphan, null))]);
  });
});

describe('Join on a non-id right field', () => {
  /** users ⋈ posts on `id = authorId`: a user matches many posts, keys encode user and post */
  const postsOf = () => makeJoin({ leftPath: ['id'], rightField: 'authorId', as: 'post', outer: true });
  const withPost = (user: Row, post: Row | null): Row => ({ ...user, post });
  const p3 = { id: 'p3', authorId: 'u1' };

  it('keys each match by the JSON array of the left key and the right id', () => {
    const join = postsOf();
    join.pushRight([insert('p1', p1), insert('p3', p3)]);
    expect(join.push([insert('u1', ann)])).toEqual([
      insert('["u1","p1"]', withPost(ann, p1)),
      insert('["u1","p3"]', withPost(ann, p3)),
    ]);
  });

  it('keeps the null row away until the last match leaves, then brings it back under the left key', () => {
    const join = postsOf();
    join.push([insert('u1', ann)]);
    expect(join.pushRight([insert('p1', p1)])).toEqual([
      retract('u1', withPost(ann, null)),
      insert('["u1","p1"]', withPost(ann, p1)),
    ]);
    expect(join.pushRight([insert('p3', p3)])).toEqual([insert('["u1","p3"]', withPost(ann, p3))]);
    expect(join.pushRight([retract('p1', p1)])).toEqual([retract('["u1","p1"]', withPost(ann, p1))]);
    expect(join.pushRight([retract('p3', p3)])).toEqual([
      retract('["u1","p3"]', withPost(ann, p3)),
      insert('u1', withPost(ann, null)),
    ]);
  });

  it('a left row and its match pushed in one step meet once (ΔL⋈ΔR): left first, then right', () => {
    const join = postsOf();
    const left = join.push([insert('u1', ann)]);
    const right = join.pushRight([insert('p1', p1)]);
    expect(consolidate([...left, ...right])).toEqual([insert('["u1","p1"]', withPost(ann, p1))]);
  });
});

describe('Join with its own where on the right', () => {
  it('reads only right records passing it, and counts only those as matches of a left join', () => {
    const right = new EqualityLookup('users', 'id', [ann, { id: 'u3', name: 'Hidden', hidden: true }]);
    const join = new Join({
      leftPath: ['authorId'],
      rightField: 'id',
      as: 'author',
      outer: true,
      right,
      rightTest: (row) => row['hidden'] !== true,
    });
    const p3 = { id: 'p3', authorId: 'u3' };
    expect(withoutParts(join, join.push([insert('p1', p1), insert('p3', p3)]))).toEqual([
      insert('p1', withAuthor(p1, ann)),
      insert('p3', withAuthor(p3, null)),
    ]);
  });
});
