import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';

/**
 * The import graph reads top-down: server → graphql → app → engine / storage / config, with
 * no arrow back up; the engine imports nothing outside itself; the service layer never
 * imports GraphQL; the client (browsers and Node) imports nothing of the server's and only a
 * few packages.
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** What each folder may import from the project's other folders. */
const ALLOWED: { readonly [folder: string]: readonly string[] } = {
  engine: [],
  config: ['engine'],
  storage: [],
  app: ['engine', 'storage', 'config'],
  graphql: ['app', 'engine', 'config'],
  server: ['graphql', 'app', 'engine', 'storage', 'config'],
  client: [],
};

/** The client runs in browsers: besides itself it may import only these packages. */
const CLIENT_PACKAGES = /^(graphql|graphql-ws|@urql\/core|wonka|@apollo\/client(\/.*)?|rxjs)$/;

const GRAPHQL_PACKAGES = /^(graphql|graphql-yoga|graphql-ws|@pothos\/.*|graphql-scalars)(\/.*)?$/;

function sources(folder: string): string[] {
  return readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => join(root, folder, file));
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((match) => match[1] as string);
}

test.each(Object.keys(ALLOWED))('%s/ imports only the folders below it', (folder) => {
  const wrong: string[] = [];
  for (const file of sources(folder)) {
    for (const specifier of importsOf(file)) {
      if (!specifier.startsWith('.')) continue;
      const target = relative(root, resolve(dirname(file), specifier)).split('/')[0] as string;
      if (target !== folder && !(ALLOWED[folder] as readonly string[]).includes(target)) {
        wrong.push(`${relative(root, file)} → ${specifier}`);
      }
    }
  }
  expect(wrong).toEqual([]);
});

test.each(['engine', 'config', 'storage', 'app'])('%s/ never imports a GraphQL package', (folder) => {
  const wrong = sources(folder).flatMap((file) =>
    importsOf(file)
      .filter((specifier) => GRAPHQL_PACKAGES.test(specifier))
      .map((specifier) => `${relative(root, file)} → ${specifier}`),
  );
  expect(wrong).toEqual([]);
});

test('client/ imports no server folder and only its own packages', () => {
  const wrong = sources('client').flatMap((file) =>
    importsOf(file)
      .filter((specifier) =>
        specifier.startsWith('.')
          ? !resolve(dirname(file), specifier).startsWith(join(root, 'client'))
          : !CLIENT_PACKAGES.test(specifier),
      )
      .map((specifier) => `${relative(root, file)} → ${specifier}`),
  );
  expect(wrong).toEqual([]);
  expect(sources('client').length).toBeGreaterThan(3);
});
