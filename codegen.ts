import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * `npm run codegen`: `server/print-schema.ts` writes the sorted `schema.graphql`, then this
 * config generates typed documents (client preset) from the operations the tests and the
 * benchmark use.
 */
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['test/graphql/operations/*.graphql'],
  importExtension: '.js',
  generates: {
    'test/graphql/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        strictScalars: true,
        scalars: { ID: 'string', JSON: 'unknown' },
      },
    },
  },
};

export default config;
