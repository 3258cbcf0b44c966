import type { ArgBuilder as PothosArgBuilder } from '@pothos/core';
import { parseFieldType, type ViewConfig } from '../config/types.js';
import type { Builder } from '../schema/index.js';
import type { LiveQueryTypeRefs } from '../schema/live-query-types.js';
import type { LiveQueryArgs, LiveQueryLimits } from './live-query-input.js';

type Types = Builder['$inferSchemaTypes'];
type ArgBuilder = PothosArgBuilder<Types>;
type Args = { [name: string]: PothosSchemaTypes.ArgumentRef<Types, unknown> };

/** The arguments of a view with parameters: one per parameter, of its declared type. */
export function paramArgs(t: { arg: ArgBuilder }, view: ViewConfig): Args {
  const args: Args = {};
  for (const [name, type] of Object.entries(view.params ?? {})) {
    const { scalar, nullable } = parseFieldType(type);
    args[name] = t.arg({ type: scalar as 'JSON', required: !nullable }) as PothosSchemaTypes.ArgumentRef<Types, unknown>;
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
