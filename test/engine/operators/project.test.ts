import { describe, expect, it } from 'vitest';
import { Project } from '../../../engine/operators/project.js';
import { insert, retract } from '../changes.js';

describe('Project', () => {
  it('without select, passes rows whose id is their key as the same objects', () => {
    const project = new Project(undefined, []);
    const row = { id: 'p1', title: 'Hello' };
    const out = project.push([insert('p1', row)]);
    expect(out).toEqual([insert('p1', row)]);
    expect(out[0]?.row).toBe(row);
  });

  it('without select, gives each row its key as id (a join on a non-id field keys rows by both ids)', () => {
    const project = new Project(undefined, []);
    const row = { id: 'u1', name: 'Ann', post: { id: 'p1' } };
    expect(project.push([insert('["u1","p1"]', row), retract('u2', { id: 'u2' })])).toEqual([
      insert('["u1","p1"]', { id: '["u1","p1"]', name: 'Ann', post: { id: 'p1' } }),
      retract('u2', { id: 'u2' }),
    ]);
    expect(row.id).toBe('u1');
  });

  it('keeps the selected paths, id and the orderBy fields, with their nesting, for both signs', () => {
    const project = new Project(['title', 'author.name'], ['likes']);
    const row = { id: 'p1', title: 'Hello', likes: 3, published: true, author: { id: 'u1', name: 'Ann', age: 30 } };
    const projected = { id: 'p1', likes: 3, title: 'Hello', author: { name: 'Ann' } };
    expect(project.push([insert('p1', row)])).toEqual([insert('p1', projected)]);
    expect(project.push([retract('p1', row)])).toEqual([retract('p1', projected)]);
  });

  it('projects a path through an unmatched left join as `parent: null`, and a missing field as null', () => {
    const project = new Project(['author.name', 'subtitle'], []);
    expect(project.push([insert('p1', { id: 'p1', author: null })])).toEqual([
      insert('p1', { id: 'p1', author: null, subtitle: null }),
    ]);
  });

  it('selects a whole object once when a deeper path of it is selected too, sharing the record', () => {
    const project = new Project(['author', 'author.meta.tier'], []);
    const author = { id: 'u1', meta: { tier: 'a', tags: ['x'] } };
    const out = project.push([insert('p1', { id: 'p1', title: 'Hello', author })]);
    expect(out).toEqual([insert('p1', { id: 'p1', author })]);
    expect(out[0]?.row['author']).toBe(author);
  });
});
