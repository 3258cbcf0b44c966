import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { print } from 'graphql';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import type { RunningServer } from '../../server/app.js';
import { AllViewsDocument } from '../graphql/generated/graphql.js';
import { post, random } from '../graphql/helpers/live.js';
import { startTestServer } from '../graphql/helpers/server.js';
import { mutate, strip } from './helpers.js';

/**
 * The README's frontend snippets, run as written (and type-checked as `snippets/*.ts`): each fenced block after a `snippet:` marker
 * has its imports bound to the real packages (the generated documents for `./gql/graphql.js`,
 * this repository's client for `live-views-graphql/client/*`), the demo address replaced by the
 * test server's, and `render` recording what the app would show. After random mutations the
 * last rendered rows equal the Query's `topPosts`, in order.
 */

const root = join(import.meta.dirname, '..', '..');
const MODULES: { readonly [specifier: string]: () => Promise<object> } = {
  '@apollo/client': () => import('@apollo/client'),
  '@apollo/client/link/subscriptions': () => import('@apollo/client/link/subscriptions'),
  '@urql/core': () => import('@urql/core'),
  'graphql-ws': () => import('graphql-ws'),
  'live-views-graphql/client/apollo': () => import('../../client/apollo.js'),
  'live-views-graphql/client/urql': () => import('../../client/urql.js'),
  './gql/graphql.js': () => import('../graphql/generated/graphql.js'),
};

function snippet(name: string): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const match = new RegExp(`<!-- snippet: ${name} [^>]*-->\\n\`\`\`ts\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (match === null) throw new Error(`README has no snippet ${name}`);
  return match[1] as string;
}

/** Runs a snippet; returns its `client` and `ws` to close them. */
async function run(
  code: string,
  server: RunningServer,
  render: (rows: unknown[]) => void,
): Promise<{ client: unknown; ws: unknown }> {
  const names: string[] = [];
  const values: unknown[] = [];
  const imports = /^import \{([^}]+)\} from '([^']+)';\n/gm;
  for (const [, list, specifier] of code.matchAll(imports)) {
    const load = MODULES[specifier as string];
    if (load === undefined) throw new Error(`the snippet imports ${specifier}, which this test does not provide`);
    const module = (await load()) as { [name: string]: unknown };
    for (const name of (list as string).split(',').map((n) => n.trim())) {
      if (!(name in module)) throw new Error(`${specifier} has no export ${name}`);
      names.push(name);
      values.push(module[name]);
    }
  }
  const body = code
    .replace(imports, '')
    .replaceAll("'ws://127.0.0.1:4000/graphql'", JSON.stringify(server.wsUrl))
    .replaceAll("'http://127.0.0.1:4000/graphql'", JSON.stringify(server.url));
  const snippetFunction = new Function(...names, 'render', `${body}\nreturn { client, ws };`);
  return snippetFunction(...values, render) as { client: unknown; ws: unknown };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
// The snippets are browser code: graphql-ws and Apollo use the global WebSocket (Node 20 has none).
const globals = globalThis as { WebSocket?: unknown };
beforeAll(() => {
  globals.WebSocket ??= WebSocket;
});
afterAll(() => {
  if (globals.WebSocket === WebSocket) delete globals.WebSocket;
});

test.each(['apollo', 'urql'])('the README %s snippet renders the current top posts, in order', async (name) => {
  const code = snippet(name);
  // The same text is type-checked by tsc as test/client/snippets/<name>.ts.
  expect(readFileSync(join(root, 'test', 'client', 'snippets', `${name}.ts`), 'utf8').endsWith(`\n\n${code}`)).toBe(
    true,
  );
  expect(code.split('\n').filter((line) => line.trim() !== '').length).toBeLessThan(10);
  const server = await startTestServer();
  cleanups.push(() => server.close());
  const rendered: unknown[][] = [];
  const { client, ws } = await run(code, server, (rows) => rendered.push(rows));
  cleanups.push(async () => {
    (client as { stop?: () => void }).stop?.();
    const transport = ws as { dispose?: () => Promise<void>; client?: { dispose(): Promise<void> } };
    await (transport.dispose?.() ?? transport.client?.dispose());
  });
  const next = random(name.length);
  for (let i = 0; i < 40; i++) await mutate(server, next);
  const deadline = Date.now() + 20_000;
  for (;;) {
    const data = (await post(server, print(AllViewsDocument))).data as { topPosts: unknown[] };
    const last = rendered.at(-1);
    if (last !== undefined && data.topPosts.length > 0 && JSON.stringify(strip(last)) === JSON.stringify(data.topPosts))
      break;
    if (Date.now() > deadline)
      throw new Error(`rendered ${JSON.stringify(last)}, the Query has ${JSON.stringify(data)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
});
