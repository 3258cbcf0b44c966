import { isCombinator, type Predicate, type ViewDefinition } from '../engine/index.js';
import { isGraphQLName } from './names.js';
import { parseFieldType, type ScalarType, type TableConfig } from './types.js';

/**
 * The shape of a view's rows, derived from its definition the way the engine evaluates it
 * (DESIGN §3.2: from → join → where → group/aggregate or distinct → orderBy → select).
 * The schema turns a shape into GraphQL types; config validation reports every path that
 * does not resolve while deriving it.
 */

interface ScalarShape {
  readonly kind: 'scalar';
  readonly type: ScalarType;
  readonly nullable: boolean;
}

interface ObjectShape {
  readonly kind: 'object';
  readonly fields: Shape;
  readonly nullable: boolean;
  /** Set when the object is a whole record of this table (a join without `select`). */
  readonly table: string | undefined;
}

export type FieldShape = ScalarShape | ObjectShape;
export type Shape = ReadonlyMap<string, FieldShape>;

export interface ViewAnalysis {
  readonly view: ViewDefinition;
  /** The tables the view reads: `from`, then each joined table once. */
  readonly tables: readonly string[];
  readonly shape: Shape;
  readonly errors: readonly string[];
}

const ID: ScalarShape = { kind: 'scalar', type: 'ID', nullable: false };
const JSON_VALUE: ScalarShape = { kind: 'scalar', type: 'JSON', nullable: true };

/** A record of `table` as a shape: `id` then the configured fields. */
export function recordShape(table: TableConfig): Map<string, FieldShape> {
  const shape = new Map<string, FieldShape>([['id', ID]]);
  for (const [field, type] of Object.entries(table.fields)) {
    const { scalar, nullable } = parseFieldType(type);
    shape.set(field, { kind: 'scalar', type: scalar, nullable });
  }
  return shape;
}

export function analyzeView(tables: ReadonlyMap<string, TableConfig>, view: ViewDefinition): ViewAnalysis {
  const errors: string[] = [];
  const fail = (message: string): void => {
    errors.push(`view "${view.id}": ${message}`);
  };
  const read: string[] = [view.from];
  const from = tables.get(view.from);
  if (from === undefined) {
    fail(`unknown table "${view.from}" in from`);
    return { view, tables: read, shape: new Map([['id', ID]]), errors };
  }

  const scope = recordShape(from);
  for (const [i, join] of (view.join ?? []).entries()) {
    const table = tables.get(join.table);
    if (table === undefined) {
      fail(`unknown table "${join.table}" in join[${i}]`);
      continue;
    }
    if (!read.includes(table.name)) read.push(table.name);
    // A join's own `where` filters the joined table's records before they are matched.
    if (join.where !== undefined) checkPredicate(join.where, recordShape(table), `join[${i}].where`, fail);
    const left = resolvePath(scope, join.on.left);
    if (left === undefined) fail(`unknown field "${join.on.left}" in join[${i}].on.left${known(scope)}`);
    else if (left.kind === 'object') fail(`join[${i}].on.left "${join.on.left}" is an object, not a value`);
    if (join.on.right !== 'id' && !(join.on.right in table.fields)) {
      fail(`unknown field "${join.on.right}" of table "${table.name}" in join[${i}].on.right`);
    }
    if (!isGraphQLName(join.as)) fail(`join[${i}].as "${join.as}" is not a GraphQL name`);
    else if (scope.has(join.as)) fail(`join[${i}].as "${join.as}" collides with an existing field`);
    else {
      scope.set(join.as, {
        kind: 'object',
        fields: recordShape(table),
        nullable: join.kind === 'left',
        table: table.name,
      });
    }
  }

  if (view.where !== undefined) checkPredicate(view.where, scope, 'where', fail);

  let rows: Map<string, FieldShape> = scope;
  if (view.groupBy !== undefined && view.distinct !== undefined) fail('has both groupBy and distinct');
  if (view.distinct !== undefined && view.aggregate !== undefined) fail('has both distinct and aggregate');
  const groupFields = view.groupBy ?? view.distinct;
  if (groupFields !== undefined || view.aggregate !== undefined) {
    const label = view.groupBy !== undefined ? 'groupBy' : 'distinct';
    rows = new Map([['id', ID]]);
    for (const path of groupFields ?? []) {
      const field = resolvePath(scope, path);
      if (field === undefined) fail(`unknown field "${path}" in ${label}${known(scope)}`);
      else if (path === 'id') fail(`${label} cannot use "id": a group row's id is its key`);
      else insertPath(rows, path.split('.'), field);
    }
    for (const [alias, aggregate] of Object.entries(view.aggregate ?? {})) {
      if (!isGraphQLName(alias)) fail(`aggregate alias "${alias}" is not a GraphQL name`);
      else if (rows.has(alias)) fail(`aggregate alias "${alias}" collides with a group field`);
      const field = aggregate.field === undefined ? undefined : resolvePath(scope, aggregate.field);
      if (aggregate.field !== undefined && field === undefined) {
        fail(`unknown field "${aggregate.field}" in aggregate "${alias}"${known(scope)}`);
        continue;
      }
      const type = aggregateShape(aggregate.fn, field);
      if (typeof type === 'string') fail(`aggregate "${alias}": ${type}`);
      else rows.set(alias, type);
    }
  }

  for (const [i, key] of (view.orderBy ?? []).entries()) {
    if (resolvePath(rows, key.field) === undefined) fail(`unknown field "${key.field}" in orderBy[${i}]${known(rows)}`);
  }

  if (view.select === undefined) return { view, tables: read, shape: rows, errors };
  const selected = new Map<string, FieldShape>([['id', ID]]);
  const kept = [...view.select, ...(view.orderBy ?? []).map((key) => key.field)];
  for (const path of kept) {
    if (!copyPath(rows, path.split('.'), selected)) fail(`unknown field "${path}" in select${known(rows)}`);
  }
  return { view, tables: read, shape: selected, errors };
}

/** The shape at a dot path, or undefined. Paths may go on inside a JSON field. */
function resolvePath(shape: Shape, path: string): FieldShape | undefined {
  let fields = shape;
  let nullable = false;
  const steps = path.split('.');
  for (const [i, step] of steps.entries()) {
    const field = fields.get(step);
    if (field === undefined) return undefined;
    nullable ||= field.nullable;
    if (i === steps.length - 1) return nullable ? { ...field, nullable } : field;
    if (field.kind === 'scalar') return field.type === 'JSON' ? JSON_VALUE : undefined;
    fields = field.fields;
  }
  return undefined;
}

function aggregateShape(fn: string, field: FieldShape | undefined): FieldShape | string {
  const numeric = field?.kind === 'scalar' && (field.type === 'Int' || field.type === 'Float');
  switch (fn) {
    case 'count':
      return { kind: 'scalar', type: 'Int', nullable: false };
    case 'sum':
      // A sum of 32-bit Ints can leave the GraphQL Int range; Float holds integers exactly to 2^53.
      return numeric ? { kind: 'scalar', type: 'Float', nullable: false } : 'sum needs an Int or Float field';
    case 'avg':
      return numeric ? { kind: 'scalar', type: 'Float', nullable: true } : 'avg needs an Int or Float field';
    case 'min':
    case 'max':
      if (field === undefined) return `${fn} needs a field`;
      return field.kind === 'scalar' ? { ...field, nullable: true } : `${fn} needs a value field, not an object`;
    default:
      return `unknown function "${fn}"`;
  }
}

/** Writes `field` at `path` into `target`, creating the objects on the way. */
function insertPath(target: Map<string, FieldShape>, path: readonly string[], field: FieldShape): void {
  const [step, ...rest] = path;
  if (step === undefined) return;
  if (rest.length === 0) {
    target.set(step, field);
    return;
  }
  const existing = target.get(step);
  const fields = existing?.kind === 'object' ? new Map(existing.fields) : new Map<string, FieldShape>();
  insertPath(fields, rest, field);
  target.set(step, { kind: 'object', fields, nullable: existing?.nullable ?? field.nullable, table: undefined });
}

/** Copies the shape at `path` from `source` into `target`, keeping its nesting. */
function copyPath(source: Shape, path: readonly string[], target: Map<string, FieldShape>): boolean {
  const [step, ...rest] = path;
  if (step === undefined) return false;
  const field = source.get(step);
  if (field === undefined) return false;
  if (field.kind === 'scalar') {
    if (rest.length > 0 && field.type !== 'JSON') return false;
    target.set(step, field);
    return true;
  }
  if (rest.length === 0) {
    target.set(step, field);
    return true;
  }
  const existing = target.get(step);
  if (existing !== undefined && existing.kind === 'object' && existing.table !== undefined) return true;
  const fields = existing?.kind === 'object' ? new Map(existing.fields) : new Map<string, FieldShape>();
  if (!copyPath(field.fields, rest, fields)) return false;
  target.set(step, { kind: 'object', fields, nullable: field.nullable, table: undefined });
  return true;
}

const OPERATORS = new Set(['eq', 'ne', 'lt', 'lte', 'gt', 'gte', 'in', 'nin', 'contains', 'startsWith', 'isNull']);

function checkPredicate(predicate: Predicate, scope: Shape, at: string, fail: (message: string) => void): void {
  if (isCombinator(predicate)) {
    if ('not' in predicate) checkPredicate(predicate.not, scope, `${at}.not`, fail);
    else {
      const [key, list] = 'and' in predicate ? ['and', predicate.and] : ['or', predicate.or];
      for (const [i, inner] of list.entries()) checkPredicate(inner, scope, `${at}.${key}[${i}]`, fail);
    }
    return;
  }
  const entries = Object.entries(predicate);
  for (const [path, filter] of entries) {
    const field = resolvePath(scope, path);
    if (field === undefined) {
      fail(`unknown field "${path}" in ${at}${known(scope)}`);
      continue;
    }
    if (!isObject(filter)) {
      fail(`${at}.${path} must be an object of operators`);
      continue;
    }
    for (const [op, operand] of Object.entries(filter)) {
      if (!OPERATORS.has(op)) fail(`unknown operator "${op}" in ${at}.${path}`);
      else checkOperand(op, operand, field, `${at}.${path}.${op}`, fail);
    }
  }
}

function checkOperand(
  op: string,
  operand: unknown,
  field: FieldShape,
  at: string,
  fail: (message: string) => void,
): void {
  if (isObject(operand) && typeof operand['param'] === 'string' && Object.keys(operand).length === 1) return;
  if (op === 'isNull') {
    if (typeof operand !== 'boolean') fail(`${at} must be true or false`);
    return;
  }
  if (op === 'in' || op === 'nin') {
    if (!Array.isArray(operand)) fail(`${at} must be an array`);
    else for (const [i, value] of operand.entries()) checkLiteral(value, field, `${at}[${i}]`, fail);
    return;
  }
  if (op === 'contains' || op === 'startsWith') return;
  checkLiteral(operand, field, at, fail);
}

/** A literal compared with a typed field must have the field's type: `5` never equals `'5'`. */
function checkLiteral(value: unknown, field: FieldShape, at: string, fail: (message: string) => void): void {
  if (value === null || field.kind === 'object' || field.type === 'JSON') return;
  const expected =
    field.type === 'Int' || field.type === 'Float' ? 'number' : field.type === 'Boolean' ? 'boolean' : 'string';
  if (typeof value !== expected) fail(`${at}: ${JSON.stringify(value)} can never match a ${field.type} field`);
}

function isObject(value: unknown): value is { [key: string]: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function known(shape: Shape): string {
  return ` (fields: ${[...shape.keys()].join(', ')})`;
}
