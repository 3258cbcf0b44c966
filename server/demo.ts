import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `GET /demo`: the demo page, its script bundled from `client/demo/demo.ts` (and the client it
 * uses) by esbuild the first time it is asked for, then kept in memory. Nothing is fetched
 * from elsewhere: the page works offline. esbuild is a development dependency: where it is
 * not installed, `/demo/app.js` answers 503 saying so.
 */

const DEMO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'client', 'demo');

let bundle: Promise<string> | undefined;

/** The demo's script, built once per process. */
function buildDemo(): Promise<string> {
  bundle ??= (async () => {
    const esbuild = await import('esbuild');
    const result = await esbuild.build({
      entryPoints: [join(DEMO_DIR, 'demo.ts')],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: 'es2020',
      minify: true,
      legalComments: 'none',
      define: { 'process.env.NODE_ENV': '"production"' },
      logLevel: 'silent',
    });
    return result.outputFiles[0]?.text ?? '';
  })();
  bundle.catch(() => {
    bundle = undefined; // try again on the next request
  });
  return bundle;
}

/** Serves `/demo` and `/demo/app.js`; returns false for any other request. */
export function serveDemo(request: IncomingMessage, response: ServerResponse): boolean {
  const path = (request.url ?? '').split('?')[0];
  if (path !== '/demo' && path !== '/demo/' && path !== '/demo/app.js') return false;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD' }).end();
    return true;
  }
  const send = (type: string, body: string): void => {
    response.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache' });
    response.end(request.method === 'HEAD' ? undefined : body);
  };
  const fail = (error: unknown): void => {
    const missing = (error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND';
    response.writeHead(missing ? 503 : 500, { 'content-type': 'text/plain; charset=utf-8' });
    response.end(
      missing
        ? 'The demo is built with esbuild, a development dependency: run npm install.\n'
        : 'Building the demo failed.\n',
    );
  };
  if (path === '/demo/app.js') buildDemo().then((js) => send('text/javascript; charset=utf-8', js), fail);
  else readFile(join(DEMO_DIR, 'index.html'), 'utf8').then((html) => send('text/html; charset=utf-8', html), fail);
  return true;
}
