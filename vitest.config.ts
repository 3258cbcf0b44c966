import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql@16 ships CJS (`main`) and ESM (`module`). Node loads the CJS file for the
    // libraries (yoga, Pothos, graphql-ws); Vite would give our sources the ESM one, and two
    // copies of graphql break `instanceof GraphQLError` (errors get masked) and schemas.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
