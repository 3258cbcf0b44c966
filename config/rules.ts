import {
  canonicalJson,
  compilePredicate,
  conjuncts,
  foldPredicate,
  isParam,
  mapFilters,
  paramsIn,
  predicateSchema,
} from '../engine/index.js';
import type { FieldFilter, Predicate, Record, Value, ViewDefinition, ViewParams } from '../engine/types.js';

/**
 * Row-level rules. A table's rules are predicates in the view `where` syntax
 * (DESIGN §3.2) over one record of the table, where
 * - an operand `{ viewer: 'sub' }` or `{ viewer: 'role' }` stands for a claim of the viewer's
 *   token (`sub` is the user id), and
 * - a path `$viewer.sub` / `$viewer.role` tests the viewer itself
 *   (`{ '$viewer.role': { eq: 'admin' } }`).
 *
 * `read` is ANDed into everything that reads the table: the `where` of a view over it, the
 * `where` of every join of it (an unreadable joined record is then `null` in a left join) and
 * so the rows feeding aggregates. Conditions on the viewer are decided when the rule is bound
 * to a viewer, and `{ viewer }` operands become the parameters `$viewer.sub` / `$viewer.role`,
 * so a per-viewer view is an engine view like any other, shared by the viewers whose bound
 * values are equal (an admin exempted by the rule gets the unrestricted, shared view).
 *
 * Write rules are checked against the stored record before a change (`old`) and the record
 * after it (`new`): `create` against the new record, `update` against both, `delete` against
 * the old one; `write` is the rule of every operation that has none of its own. A missing
 * rule allows everything.
 */
export interface TableRules {
  readonly read?: Rule;
  readonly write?: Rule;
  readonly create?: Rule;
  readonly update?: Rule;
  readonly delete?: Rule;
}

/** A predicate over a record that may read the viewer's claims (see above). */
export type Rule = Predicate;

const VIEWER_CLAIMS = ['sub', 'role'] as const;
type ViewerClaim = (typeof VIEWER_CLAIMS)[number];

/** Who is asking, from a verified token: `sub` (user id) and `role` (null when absent). */
export interface Viewer {
  readonly sub: string;
  readonly role: string | null;
}

const RULE_KINDS = ['read', 'write', 'create', 'update', 'delete'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

/** Prefix of the engine parameters that carry the viewer's claims into a view. */
const VIEWER_PARAM_PREFIX = '$viewer.';

/** A rule bound to a viewer: `true` / `false` when it does not depend on the row. */
export type BoundRule = Predicate | boolean;

/**
 * Binds a rule to a viewer: conditions on `$viewer.*` are evaluated, the predicate is
 * simplified, and `{ viewer }` operands become `{ param: '$viewer.<claim>' }` (`params`
 * gets the values actually used) — or, with `literal`, the values themselves.
 */
export function bindRule(
  rule: Rule,
  viewer: Viewer,
  literal = false,
): { rule: BoundRule; params: { [name: string]: Value } } {
  const params: { [name: string]: Value } = {};
  const operand = (value: Value): Value => {
    const claim = viewerClaim(value);
    if (claim === undefined) return value;
    if (literal) return viewer[claim];
    params[VIEWER_PARAM_PREFIX + claim] = viewer[claim];
    return { param: VIEWER_PARAM_PREFIX + claim };
  };
  const bound = foldPredicate<BoundRule>(rule, {
    and,
    or,
    not: (inner) => (typeof inner === 'boolean' ? !inner : { not: inner }),
    field: (path, filter) => {
      if (!path.startsWith(VIEWER_PARAM_PREFIX)) return { [path]: mapOperands(filter, operand) };
      // A condition on the viewer itself: decided now, with the engine's semantics.
      const claim = path.slice(VIEWER_PARAM_PREFIX.length) as ViewerClaim;
      const test = compilePredicate({ claim: mapOperands(filter, (value) => literalOf(value, viewer)) });
      return test({ id: '-', claim: viewer[claim] });
    },
  });
  // Only the parameters that survived simplification.
  const used = typeof bound === 'boolean' ? new Set<string>() : paramsIn(bound);
  for (const name of Object.keys(params)) if (!used.has(name)) delete params[name];
  return { rule: bound, params };
}

/** Whether a bound rule holds for a record. */
export function ruleHolds(rule: BoundRule, record: Record): boolean {
  return typeof rule === 'boolean' ? rule : compilePredicate(rule)(record);
}

/**
 * A view as one viewer may see it: the `read` rule of its `from` table ANDed into `where`,
 * and that of each joined table into the join's `where`. Returns the definition and the
 * parameters to register it with: the view's own plus the viewer's claims the rules read.
 *
 * A rule that the view's own `where` already implies is left out (`topPosts` asks for
 * published posts, which everyone may read), so such a view stays one view for everyone
 * instead of one per viewer.
 */
export function scopeView(
  definition: ViewDefinition,
  params: ViewParams,
  readRules: ReadonlyMap<string, Rule>,
  viewer: Viewer,
): { definition: ViewDefinition; params: ViewParams } {
  const all: { [name: string]: Value } = { ...params };
  const restrict = (table: string, where: Predicate | undefined): Predicate | undefined => {
    const rule = readRules.get(table);
    if (rule === undefined) return where;
    const literal = bindRule(rule, viewer, true).rule;
    if (literal === true || (typeof literal !== 'boolean' && implied(literal, where, params))) return where;
    const bound = bindRule(rule, viewer);
    Object.assign(all, bound.params);
    return conjoin(where, bound.rule);
  };
  const where = restrict(definition.from, definition.where);
  const join = definition.join?.map((entry) => {
    const joined = restrict(entry.table, entry.where);
    const { where: _where, ...rest } = entry;
    return joined === undefined ? rest : { ...rest, where: joined };
  });
  const { where: _where, join: _join, ...rest } = definition;
  return {
    definition: { ...rest, ...(where === undefined ? {} : { where }), ...(join === undefined ? {} : { join }) },
    params: all,
  };
}

/** Whether `where` (its params bound) implies `rule`: some disjunct of the rule is among its conjuncts. */
function implied(rule: Predicate, where: Predicate | undefined, params: ViewParams): boolean {
  if (where === undefined) return false;
  const have = new Set(conjuncts(substituteParams(where, params)).map((p) => canonicalJson(p as Value)));
  const disjuncts =
    Object.keys(rule).length === 1 && 'or' in rule && Array.isArray(rule.or) ? (rule.or as Predicate[]) : [rule];
  return disjuncts.some((disjunct) => conjuncts(disjunct).every((p) => have.has(canonicalJson(p as Value))));
}

function substituteParams(p: Predicate, params: ViewParams): Predicate {
  return mapFilters(p, (_path, filter) =>
    mapOperands(filter, (value) =>
      isParam(value) && typeof value.param === 'string' ? (params[value.param] ?? value) : value,
    ),
  );
}

/**
 * Problems of a table's rules against its fields, each a line naming the rule. `check`
 * validates an ordinary predicate over the table (the config's view checker); this function
 * handles what only rules have (`$viewer.*` paths, `{ viewer }` operands).
 */
export function checkRules(table: string, rules: unknown, check: (where: Predicate) => readonly string[]): string[] {
  if (!isObject(rules)) return [`table "${table}": rules must be an object`];
  const problems: string[] = [];
  for (const [kind, rule] of Object.entries(rules)) {
    const at = `table "${table}": rules.${kind}`;
    if (!(RULE_KINDS as readonly string[]).includes(kind)) {
      problems.push(`${at}: unknown rule (${RULE_KINDS.join(', ')})`);
      continue;
    }
    const parsed = predicateSchema.safeParse(rule);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      problems.push(`${at} must be a predicate: ${issue?.message ?? 'invalid'} at "${issue?.path.join('.') ?? ''}"`);
      continue;
    }
    const viewerProblems: string[] = [];
    const rewritten = stripViewer(parsed.data, (message) => viewerProblems.push(`${at}: ${message}`));
    problems.push(...viewerProblems);
    problems.push(...check(rewritten).map((problem) => `${at}: ${problem}`));
  }
  return problems;
}

// ---- helpers ----

function and(parts: BoundRule[]): BoundRule {
  if (parts.includes(false)) return false;
  const rest = parts.filter((p): p is Predicate => p !== true);
  if (rest.length === 0) return true;
  return rest.length === 1 ? (rest[0] as Predicate) : { and: rest };
}

function or(parts: BoundRule[]): BoundRule {
  if (parts.includes(true)) return true;
  const rest = parts.filter((p): p is Predicate => p !== false);
  if (rest.length === 0) return false;
  return rest.length === 1 ? (rest[0] as Predicate) : { or: rest };
}

/** `where AND rule`; `false` becomes `{ or: [] }`, which no row satisfies. */
function conjoin(where: Predicate | undefined, rule: BoundRule): Predicate | undefined {
  if (rule === true) return where;
  const predicate: Predicate = rule === false ? { or: [] } : rule;
  return where === undefined ? predicate : { and: [where, predicate] };
}

function literalOf(value: Value, viewer: Viewer): Value {
  const claim = viewerClaim(value);
  return claim === undefined ? value : viewer[claim];
}

function viewerClaim(value: unknown): ViewerClaim | undefined {
  if (!isObject(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1 || keys[0] !== 'viewer') return undefined;
  const claim = value['viewer'];
  return (VIEWER_CLAIMS as readonly unknown[]).includes(claim) ? (claim as ViewerClaim) : undefined;
}

/** A field filter with each operand replaced. */
function mapOperands(filter: FieldFilter, map: (value: Value) => Value): FieldFilter {
  const mapped: { [op: string]: Value } = {};
  for (const [op, value] of Object.entries(filter)) mapped[op] = map(value as Value);
  return mapped as FieldFilter;
}

/**
 * The rule with `$viewer.*` conditions dropped and `{ viewer }` operands replaced by a
 * parameter, for the ordinary predicate checks; reports unknown claims.
 */
function stripViewer(rule: Predicate, fail: (message: string) => void): Predicate {
  const isClaim = (claim: unknown): boolean => (VIEWER_CLAIMS as readonly unknown[]).includes(claim);
  const stripped = foldPredicate<Predicate | undefined>(rule, {
    and: (parts) => ({ and: parts.filter((p): p is Predicate => p !== undefined) }),
    or: (parts) => ({ or: parts.filter((p): p is Predicate => p !== undefined) }),
    not: (part) => (part === undefined ? undefined : { not: part }),
    field: (path, filter) => {
      const operands = mapOperands(filter, (value) => {
        if (!isObject(value) || Object.keys(value).length !== 1 || !('viewer' in value)) return value;
        if (!isClaim(value['viewer'])) {
          fail(`unknown viewer claim ${JSON.stringify(value['viewer'])} (${VIEWER_CLAIMS.join(', ')})`);
        }
        return { param: VIEWER_PARAM_PREFIX.slice(0, -1) };
      });
      if (!path.startsWith(VIEWER_PARAM_PREFIX)) return { [path]: operands };
      if (!isClaim(path.slice(VIEWER_PARAM_PREFIX.length))) {
        const claims = VIEWER_CLAIMS.map((c) => VIEWER_PARAM_PREFIX + c).join(', ');
        fail(`unknown viewer claim in path "${path}" (${claims})`);
      }
      return undefined;
    },
    fields: (parts) => Object.assign({}, ...parts.filter((p) => p !== undefined)) as Predicate,
  });
  return stripped ?? {};
}

function isObject(value: unknown): value is { [key: string]: unknown } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
