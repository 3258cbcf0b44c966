import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { defineConfig, type TestProjectInlineConfiguration, type ViteUserConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

/** Resolves whether something accepts TCP connections on 127.0.0.1:5432 (within 2 s). */
function postgresAnswers(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: 5432 });
    const done = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * The end-to-end suites again with every test server on a fresh PostgreSQL database
 * (`TEST_STORE=postgres`, see test/graphql/helpers/test-store.ts and docs/testing.md).
 */
const POSTGRES: TestProjectInlineConfiguration = {
  extends: true,
  test: {
    name: 'postgres',
    include: ['test/graphql/**/*.test.ts'],
    env: { TEST_STORE: 'postgres' },
    setupFiles: ['test/postgres-setup.ts'],
  },
};

export default defineConfig(async (): Promise<ViteUserConfig> => {
  const withPostgres = await postgresAnswers();
  if (!withPostgres) process.stderr.write('PostgreSQL project skipped: nothing answers on 127.0.0.1:5432\n');
  return {
    resolve: {
      // graphql@16 ships CJS (`main`) and ESM (`module`). Node loads the CJS file for the
      // libraries (yoga, Pothos, graphql-ws); Vite would give our sources the ESM one, and two
      // copies of graphql break `instanceof GraphQLError` (errors get masked) and schemas.
      alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
    },
    test: {
      testTimeout: 60_000,
      hookTimeout: 60_000,
      projects: [
        { extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts'] } },
        ...(withPostgres ? [POSTGRES] : []),
      ],
    },
  };
});
