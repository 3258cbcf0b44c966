import type { Rule } from './rules.js';
import { defineConfig } from './types.js';

const isAdmin: Rule = { '$viewer.role': { eq: 'admin' } };

/**
 * The demo application of DESIGN §4: users, posts and six live views over them, with the
 * row-level rules (enforced when the server has an AUTH_SECRET):
 * - posts are readable when published or written by the viewer; a post is created, changed
 *   or deleted only by its author or an admin, so an author cannot hand a post to someone
 *   else (the new row must be theirs too); an admin may reassign it;
 * - users are readable by everyone; only an admin creates users; a user is changed or deleted
 *   only by an admin or by themselves, and then without changing their role (the stored and
 *   the new role must both be the one in their token: no self-promotion to admin).
 */
export default defineConfig({
  tables: [
    {
      name: 'users',
      type: 'User',
      fields: { name: 'String!', email: 'String!', role: 'String!', active: 'Boolean!', age: 'Int' },
      rules: {
        create: isAdmin,
        write: { or: [isAdmin, { id: { eq: { viewer: 'sub' } }, role: { eq: { viewer: 'role' } } }] },
      },
    },
    {
      name: 'posts',
      type: 'Post',
      fields: { authorId: 'ID!', title: 'String!', published: 'Boolean!', likes: 'Int!' },
      rules: {
        read: { or: [{ published: { eq: true } }, { authorId: { eq: { viewer: 'sub' } } }] },
        write: { or: [isAdmin, { authorId: { eq: { viewer: 'sub' } } }] },
      },
    },
  ],
  views: [
    { id: 'usersList', from: 'users', orderBy: [{ field: 'name' }] },
    { id: 'usersCount', from: 'users', aggregate: { count: { fn: 'count' } } },
    { id: 'activeUsers', from: 'users', where: { active: { eq: true } } },
    {
      id: 'topPosts',
      from: 'posts',
      where: { published: { eq: true } },
      join: [{ table: 'users', as: 'author', on: { left: 'authorId', right: 'id' }, kind: 'left' }],
      orderBy: [{ field: 'likes', direction: 'desc' }],
      limit: 10,
    },
    {
      id: 'postsPerAuthor',
      from: 'posts',
      groupBy: ['authorId'],
      aggregate: { posts: { fn: 'count' }, likes: { fn: 'sum', field: 'likes' } },
    },
    {
      id: 'postsByAuthor',
      from: 'posts',
      params: { authorId: 'ID!' },
      where: { authorId: { eq: { param: 'authorId' } } },
      orderBy: [{ field: 'id', direction: 'desc' }],
    },
  ],
});
