import type { ViewDefinition } from '../engine/types.js';
import type { TableConfig } from './types.js';

/**
 * The GraphQL names a config produces. The schema builds its types under these names and
 * config validation checks that they are all distinct, so both read them from here.
 */

/** Types and root fields every schema has, whatever the config. */
export const FIXED_TYPE_NAMES = {
  json: 'JSON',
  updateKind: 'ViewUpdateKind',
  viewVersion: 'ViewVersion',
  viewInfo: 'ViewInfo',
  orderKey: 'OrderKey',
  orderDirection: 'OrderDirection',
  changeInput: 'ChangeInput',
  changeOperation: 'ChangeOperation',
  tableName: 'TableName',
  batchPayload: 'BatchPayload',
  idFilter: 'IDFilter',
  stringFilter: 'StringFilter',
  intFilter: 'IntFilter',
  floatFilter: 'FloatFilter',
  booleanFilter: 'BooleanFilter',
  jsonFilter: 'JSONFilter',
} as const;

export const BUILT_IN_TYPE_NAMES = ['Query', 'Mutation', 'Subscription', 'ID', 'String', 'Int', 'Float', 'Boolean'];

export const FIXED_QUERY_FIELDS = ['views'];
export const FIXED_MUTATION_FIELDS = ['ingestBatch'];

export interface TableNames {
  /** Object type of a record, `User`. */
  readonly object: string;
  /** Query field looking a record up by id, `user`; also the record field of the payload. */
  readonly lookup: string;
  readonly createInput: string;
  readonly patchInput: string;
  readonly payload: string;
  readonly create: string;
  readonly update: string;
  readonly delete: string;
  /** Query and Subscription field of ad-hoc live queries over the table: its name, `posts`. */
  readonly list: string;
  /** What that subscription yields, `PostsUpdate`. */
  readonly listUpdate: string;
  /** The typed `where` input, `PostWhere`; the `orderBy` entry, `PostOrderBy`; the field enum, `PostField`. */
  readonly where: string;
  readonly orderBy: string;
  readonly field: string;
}

export function tableNames(table: TableConfig): TableNames {
  const type = table.type;
  return {
    list: table.name,
    listUpdate: `${upperFirst(table.name)}Update`,
    where: `${type}Where`,
    orderBy: `${type}OrderBy`,
    field: `${type}Field`,
    object: type,
    lookup: lowerFirst(type),
    createInput: `Create${type}Input`,
    patchInput: `${type}Patch`,
    payload: `${type}Payload`,
    create: `create${type}`,
    update: `update${type}`,
    delete: `delete${type}`,
  };
}

export interface ViewNames {
  /** The Query and Subscription field, equal to the view id. */
  readonly field: string;
  readonly row: string;
  readonly update: string;
}

export function viewNames(view: ViewDefinition): ViewNames {
  const base = upperFirst(view.id);
  return { field: view.id, row: `${base}Row`, update: `${base}Update` };
}

/** Name of the object type nested in a view row at `path` (`TopPostsRowAuthor`). */
export function nestedRowTypeName(view: ViewDefinition, path: readonly string[]): string {
  return viewNames(view).row + path.map(upperFirst).join('');
}

const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

/** A valid GraphQL name that is not reserved for introspection (`__`). */
export function isGraphQLName(name: string): boolean {
  return GRAPHQL_NAME.test(name) && !name.startsWith('__');
}

function upperFirst(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
