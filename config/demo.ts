import { defineConfig } from './types.js';

/** The demo application of DESIGN §4: users, posts and five live views over them. */
export default defineConfig({
  tables: [
    {
      name: 'users',
      type: 'User',
      fields: { name: 'String!', email: 'String!', role: 'String!', active: 'Boolean!', age: 'Int' },
    },
    {
      name: 'posts',
      type: 'Post',
      fields: { authorId: 'ID!', title: 'String!', published: 'Boolean!', likes: 'Int!' },
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
  ],
});
