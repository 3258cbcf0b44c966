import { z } from 'zod';
import { paramsIn, viewDefinitionSchema } from '../engine/index.js';
import {
  BUILT_IN_TYPE_NAMES,
  FIXED_MUTATION_FIELDS,
  FIXED_QUERY_FIELDS,
  FIXED_TYPE_NAMES,
  isGraphQLName,
  nestedRowTypeName,
  tableNames,
  viewNames,
} from './names.js';
import { checkRules, type Rule } from './rules.js';
import { analyzeView, type Shape, type ViewAnalysis } from './shape.js';
import { type AppConfig, engineDefinition, SCALAR_TYPES, type TableConfig, type ViewConfig } from './types.js';

/** A config that cannot be served; `problems` lists every reason found, one line each. */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`invalid config:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** A validated config with what the schema needs to know about each view. */
export interface CheckedConfig {
  readonly config: AppConfig;
  readonly tables: ReadonlyMap<string, TableConfig>;
  readonly views: ReadonlyMap<string, ViewAnalysis>;
  /** Each table's `read` rule, by table name (tables without one are absent). */
  readonly readRules: ReadonlyMap<string, Rule>;
}

const name = z.string().refine(isGraphQLName, 'must be a GraphQL name ([_A-Za-z][_0-9A-Za-z]*, not starting with __)');
const fieldType = z.enum(SCALAR_TYPES.flatMap((type) => [type, `${type}!`]) as [string, ...string[]]);
const tableSchema = z.strictObject({
  name,
  type: name,
  fields: z.record(name, fieldType),
  rules: z.unknown().optional(),
});

/** The engine's view definition (one schema for both), plus what the config adds: a GraphQL name and params. */
const viewSchema = viewDefinitionSchema.extend({
  id: name,
  params: z.record(name, fieldType).optional(),
});

const configSchema = z.strictObject({
  tables: z.array(tableSchema).min(1),
  views: z.array(viewSchema),
});

/**
 * Checks a config's structure, then its meaning: every table and field a view names exists,
 * names are unique, and the GraphQL names it produces do not collide. Throws `ConfigError`.
 */
export function checkConfig(input: unknown): CheckedConfig {
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`));
  }
  const config = input as AppConfig;
  const problems: string[] = [];
  const tables = new Map<string, TableConfig>();
  for (const table of config.tables) {
    if (tables.has(table.name)) problems.push(`duplicate table name "${table.name}"`);
    tables.set(table.name, table);
    if ('id' in table.fields) problems.push(`table "${table.name}": "id" is implicit (ID!, the record key); remove it`);
    for (const reserved of ['and', 'or', 'not']) {
      if (reserved in table.fields)
        problems.push(`table "${table.name}": field name "${reserved}" is reserved (where: and/or/not)`);
    }
  }
  const readRules = new Map<string, Rule>();
  for (const table of config.tables) {
    if (table.rules === undefined) continue;
    const check = (where: Rule): string[] =>
      analyzeView(tables, { id: 'rule', from: table.name, where }).errors.map((error) =>
        error.replace(/^view "rule": /, ''),
      );
    problems.push(...checkRules(table.name, table.rules, check));
    if (table.rules.read !== undefined) readRules.set(table.name, table.rules.read);
  }
  const views = new Map<string, ViewAnalysis>();
  for (const view of config.views) {
    if (views.has(view.id)) problems.push(`duplicate view id "${view.id}"`);
    const analysis = analyzeView(tables, engineDefinition(view));
    problems.push(...analysis.errors, ...checkParams(view));
    views.set(view.id, analysis);
  }
  problems.push(...nameCollisions(config, views));
  if (problems.length > 0) throw new ConfigError(problems);
  return { config, tables, views, readRules };
}

/** Every `{ param }` a view reads is declared, and every declared parameter is read. */
function checkParams(view: ViewConfig): string[] {
  const declared = Object.keys(view.params ?? {});
  const used = new Set<string>();
  if (view.where !== undefined) for (const param of paramsIn(view.where)) used.add(param);
  const problems: string[] = [];
  for (const param of used) {
    if (!declared.includes(param))
      problems.push(`view "${view.id}": parameter "${param}" is used but not declared in params`);
  }
  for (const param of declared) {
    if (!used.has(param)) problems.push(`view "${view.id}": parameter "${param}" is declared but not used in where`);
    if (param === 'sinceVersion') problems.push(`view "${view.id}": parameter name "sinceVersion" is reserved`);
  }
  return problems;
}

function nameCollisions(config: AppConfig, views: ReadonlyMap<string, ViewAnalysis>): string[] {
  const problems: string[] = [];
  const claim = (names: Map<string, string>, name: string, owner: string): void => {
    const previous = names.get(name);
    if (previous !== undefined && previous !== owner)
      problems.push(`${owner} and ${previous} both produce the GraphQL name "${name}"`);
    names.set(name, owner);
  };
  const types = new Map<string, string>();
  for (const type of [...BUILT_IN_TYPE_NAMES, ...Object.values(FIXED_TYPE_NAMES)])
    types.set(type, 'the built-in schema');
  const query = new Map(FIXED_QUERY_FIELDS.map((field) => [field, 'the built-in schema']));
  const mutation = new Map(FIXED_MUTATION_FIELDS.map((field) => [field, 'the built-in schema']));
  for (const table of config.tables) {
    const owner = `table "${table.name}"`;
    const names = tableNames(table);
    for (const type of [names.object, names.createInput, names.patchInput, names.payload]) claim(types, type, owner);
    for (const type of [names.where, names.orderBy, names.field, names.listUpdate]) claim(types, type, owner);
    claim(query, names.lookup, owner);
    claim(query, names.list, owner);
    for (const field of [names.create, names.update, names.delete]) claim(mutation, field, owner);
  }
  for (const analysis of views.values()) {
    const owner = `view "${analysis.view.id}"`;
    const names = viewNames(analysis.view);
    claim(types, names.row, owner);
    claim(types, names.update, owner);
    for (const path of nestedObjectPaths(analysis.shape)) claim(types, nestedRowTypeName(analysis.view, path), owner);
    claim(query, names.field, owner);
  }
  return problems;
}

/** Paths of the objects in a row shape that need a type of their own (not whole records). */
function nestedObjectPaths(shape: Shape, prefix: readonly string[] = []): string[][] {
  const paths: string[][] = [];
  for (const [field, value] of shape) {
    if (value.kind !== 'object' || value.table !== undefined) continue;
    paths.push([...prefix, field], ...nestedObjectPaths(value.fields, [...prefix, field]));
  }
  return paths;
}

function formatPath(path: readonly PropertyKey[]): string {
  let text = '';
  for (const step of path)
    text += typeof step === 'number' ? `[${step}]` : text === '' ? String(step) : `.${String(step)}`;
  return text === '' ? '(root)' : text;
}
