import type { Change } from '../app/index.js';

/**
 * The demo's first-start data: a dozen users and three dozen posts, so GraphiQL and /demo show
 * live rows at once. Ids start with `seed-` so that the README's examples (which let the server
 * make ids) never collide with them. Deterministic: every fresh start seeds the same rows.
 */
const NAMES = [
  ['Ada Lovelace', 'admin'],
  ['Alan Turing', 'editor'],
  ['Barbara Liskov', 'editor'],
  ['Claude Shannon', 'viewer'],
  ['Donald Knuth', 'editor'],
  ['Edsger Dijkstra', 'viewer'],
  ['Frances Allen', 'editor'],
  ['Grace Hopper', 'admin'],
  ['John Backus', 'viewer'],
  ['Katherine Johnson', 'editor'],
  ['Leslie Lamport', 'viewer'],
  ['Margaret Hamilton', 'editor'],
] as const;

const TOPICS = ['Incremental views', 'Z-sets in practice', 'Top-k without re-sorting', 'Joins as deltas'];

export function demoSeed(): Change[] {
  const users: Change[] = NAMES.map(([name, role], i) => ({
    table: 'users',
    op: 'CREATE',
    id: `seed-u${String(i + 1).padStart(2, '0')}`,
    data: {
      name,
      email: `${name.split(' ')[0]?.toLowerCase()}@example.com`,
      role,
      active: i % 4 !== 3,
      age: i % 5 === 2 ? null : 25 + ((i * 7) % 40),
    },
  }));
  const posts: Change[] = Array.from({ length: 36 }, (_, i) => ({
    table: 'posts',
    op: 'CREATE',
    id: `seed-p${String(i + 1).padStart(2, '0')}`,
    data: {
      authorId: `seed-u${String((i % NAMES.length) + 1).padStart(2, '0')}`,
      title: `${TOPICS[i % TOPICS.length]}, part ${Math.floor(i / TOPICS.length) + 1}`,
      published: i % 6 !== 5,
      likes: (i * 37) % 101,
    },
  }));
  return [...users, ...posts];
}
