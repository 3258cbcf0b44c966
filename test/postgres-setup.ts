import { afterAll } from 'vitest';
import { dropLeftoverDatabases } from './graphql/helpers/test-store.js';

// The PostgreSQL project's per-file cleanup: no database outlives its test file, even when a
// test timed out before closing its server.
afterAll(dropLeftoverDatabases);
