/**
 * Our server (`startServer`, the demo config, tables in memory), seeded with the e2e
 * benchmark's data: 1,000 users and 2,000 posts. `p499` is first in `topPosts`, so raising
 * its likes changes that view by one updated row.
 */
import { loadConfig } from '../../config/load.js';
import { startServer } from '../../server/app.js';
import { createLogger } from '../../server/logger.js';
import { announce, answerControl } from './control.js';

const USERS = 1000;
const POSTS = 2000;

const server = await startServer({
  checked: await loadConfig(),
  port: 0,
  host: '127.0.0.1',
  storage: { file: ':memory:' },
  logger: createLogger({ level: 'warn', write: (line) => void process.stderr.write(`${line}\n`) }),
});
const changes = [
  ...Array.from({ length: USERS }, (_, i) => ({
    table: 'users',
    op: 'CREATE',
    id: `u${i}`,
    data: {
      name: `User ${i}`,
      email: `user${i}@example.com`,
      role: i % 10 === 0 ? 'admin' : 'member',
      active: i % 3 !== 0,
      age: 18 + (i % 60),
    },
  })),
  ...Array.from({ length: POSTS }, (_, i) => ({
    table: 'posts',
    op: 'CREATE',
    id: `p${i}`,
    data: { authorId: `u${i % USERS}`, title: `Post ${i}`, published: i % 4 !== 0, likes: i % 500 },
  })),
];
for (let i = 0; i < changes.length; i += 100) {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: 'mutation ($changes: [ChangeInput!]!) { ingestBatch(changes: $changes) { ids } }',
      variables: { changes: changes.slice(i, i + 100) },
    }),
  });
  const body = (await response.json()) as { errors?: unknown[] };
  if (body.errors !== undefined) throw new Error(`seeding failed: ${JSON.stringify(body.errors)}`);
}
answerControl(() => server.store.listenerCount());
announce(server.url);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
