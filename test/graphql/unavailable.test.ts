import { afterEach, expect, test } from 'vitest';
import type { RunningServer } from '../../server/app.js';
import { startTestServer } from './helpers/server.js';

/**
 * A write that reaches the service layer once it closed (the server is stopping, or stopped
 * after a failed commit) is refused with the retryable UNAVAILABLE — HTTP 503 with Retry-After —
 * never a masked INTERNAL_SERVER_ERROR, and nothing of it is applied.
 */
let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

test('a mutation after the live store closed: UNAVAILABLE, HTTP 503, Retry-After', async () => {
  server = await startTestServer();
  await server.store.close();
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      query: 'mutation { createUser(input: { id: "u1", name: "A", email: "a@x", role: "r", active: true }) { id } }',
    }),
  });
  expect(response.status).toBe(503);
  expect(response.headers.get('retry-after')).toBe('1');
  const body = (await response.json()) as { errors: { message: string; extensions: unknown }[] };
  expect(body.errors).toEqual([
    {
      message: expect.stringMatching(/shutting down/),
      path: ['createUser'],
      locations: expect.any(Array),
      extensions: { code: 'UNAVAILABLE' },
    },
  ]);
  expect(server.store.record('users', 'u1')).toBeUndefined();
});
