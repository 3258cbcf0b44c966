import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { buildSchema, printSortedSchema } from '../graphql/index.js';

/**
 * Writes a config's schema as sorted SDL (default: the demo's, to `schema.graphql`, which
 * is committed and read by codegen; a test fails when it is out of date).
 */
const { values } = parseArgs({
  options: { config: { type: 'string' }, out: { type: 'string', default: 'schema.graphql' } },
});
await writeFile(values.out, printSortedSchema(buildSchema(await loadConfig(values.config))));
process.stdout.write(`wrote ${values.out}\n`);
