import type { ArgBuilder as PothosArgBuilder } from '@pothos/core';
import type { LiveQueryArgs, LiveQueryLimits } from '../../app/index.js';
import { parseFieldType, type ViewConfig } from '../../config/types.js';
import type { OrderKey, Value, ViewParams } from '../../engine/index.js';
import type { Builder } from '../schema/index.js';
import type { LiveQueryTypeRefs } from '../schema/live-query-types.js';

type Types = Builder['$inferSchemaTypes'];
type ArgBuilder = PothosArgBuilder<Types>;
type Args = { [name: string]: PothosSchemaTypes.ArgumentRef<Types, unknown> };

/** The arguments of a view with parameters: one per parameter, of its declared type. */
export function paramArgs(t: { arg: ArgBuilder }, view: ViewConfig): Args {
  const args: Args = {};
  for (const [name, type] of Object.entries(view.params ?? {})) {
    const { scalar, nullable } = parseFieldType(type);
    args[name] = t.arg({ type: scalar as 'JSON', required: !nullable }) as PothosSchemaTypes.ArgumentRef<
      Types,
      unknown
    >;
  }
  return args;
}

/** `where`, `orderBy`, `limit`, `offset` of an ad-hoc query over one table. */
export function liveQueryArgs(t: { arg: ArgBuilder }, types: LiveQueryTypeRefs, limits: LiveQueryLimits): Args {
  return {
    where: t.arg({ type: types.where, description: 'Which records (all when absent).' }),
    orderBy: t.arg({ type: [types.orderBy], description: 'Sort keys, first to last; the id, ascending, breaks ties.' }),
    limit: t.arg.int({ description: `At most this many rows (0 to ${limits.maxLimit}; default ${limits.maxLimit}).` }),
    offset: t.arg.int({ description: `Rows to skip first (0 to ${limits.maxOffset}).` }),
  } as unknown as Args;
}

/** The ad-hoc query arguments out of a resolver's `args`. */
export function argsOf(args: { readonly [name: string]: unknown }): LiveQueryArgs {
  return args as LiveQueryArgs;
}

/** The sort keys of an ad-hoc query's arguments, as its view definition has them. */
export function orderKeysOf(args: LiveQueryArgs): OrderKey[] {
  return (args.orderBy ?? []).map((key) => ({ field: key.field, direction: key.direction ?? 'asc' }));
}

/** The parameter values of a view from its field's arguments (an absent nullable one is null). */
export function paramsOf(view: ViewConfig, args: { readonly [name: string]: unknown }): ViewParams {
  const params: { [name: string]: Value } = {};
  for (const name of Object.keys(view.params ?? {})) params[name] = (args[name] ?? null) as Value;
  return params;
}
