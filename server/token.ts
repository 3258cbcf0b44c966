import { parseArgs } from 'node:util';
import { mintToken } from './auth.js';

/**
 * `npm run token -- --sub u1 --role admin [--expires 1h]`: prints a bearer token signed with
 * AUTH_SECRET, for local use (GraphiQL's headers: `{"Authorization": "Bearer <token>"}`).
 */
const USAGE = 'Usage: AUTH_SECRET=... npm run token -- --sub <user id> [--role <role>] [--expires <span, default 1h>]';

const { values } = parseArgs({
  options: {
    sub: { type: 'string' },
    role: { type: 'string' },
    expires: { type: 'string', default: '1h' },
    help: { type: 'boolean', short: 'h' },
  },
  strict: true,
});
if (values.help === true) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const secret = process.env['AUTH_SECRET'] ?? '';
if (secret.length < 32) fail("AUTH_SECRET must be set to the server's secret (at least 32 characters)");
if (values.sub === undefined || values.sub === '') fail('--sub is required');
process.stdout.write(`${await mintToken(secret, { sub: values.sub, role: values.role ?? null }, values.expires)}\n`);

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}
