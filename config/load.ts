import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import demo from './demo.js';
import { type CheckedConfig, ConfigError, checkConfig } from './validate.js';

/**
 * Loads and checks the application config: the demo when no file is given, else a `.json`
 * file or a module (`.ts`, `.js`, `.mjs`) whose default export is the config.
 * Throws `ConfigError` with every problem found.
 */
export async function loadConfig(file?: string): Promise<CheckedConfig> {
  if (file === undefined) return checkConfig(demo);
  const path = resolve(file);
  let value: unknown;
  try {
    if (path.endsWith('.json')) {
      value = JSON.parse(await readFile(path, 'utf8'));
    } else {
      const module = (await import(pathToFileURL(path).href)) as { default?: unknown };
      value = module.default;
    }
  } catch (error) {
    throw new ConfigError([`cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`]);
  }
  if (value === undefined) throw new ConfigError([`${path} has no default export`]);
  return checkConfig(value);
}
