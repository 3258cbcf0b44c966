/**
 * The event every server of the fan-out benchmark delivers: a `topPosts` DELTA with one
 * updated row and its joined author, the shape our server sends for an `updatePost` that
 * raises a post's likes in the top 10 (~400 bytes as a graphql-ws `next` message).
 */
export function topPostsDelta(version: number, likes: number): object {
  return {
    view: 'topPosts',
    version,
    kind: 'DELTA',
    hash: 'c0ffee00c0ffee00',
    removed: [],
    added: [],
    updated: [
      {
        id: 'p499',
        authorId: 'u499',
        title: 'Post 499',
        published: true,
        likes,
        author: { id: 'u499', name: 'User 499', email: 'user499@example.com', role: 'member', active: true, age: 47 },
      },
    ],
  };
}

/** The graphql-ws `next` message the raw servers write for `version`, pre-serialised. */
export function topPostsFrame(version: number): string {
  return JSON.stringify({ id: '1', type: 'next', payload: { data: { topPosts: topPostsDelta(version, version) } } });
}
