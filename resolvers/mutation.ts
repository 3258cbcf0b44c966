import { randomUUID } from 'node:crypto';
import type { ViewUpdate } from '../engine/index.js';
import type { Builder, RecordPayloadShape, SchemaTypeRefs, ViewVersionShape } from '../schema/index.js';
import { withGraphQLErrors } from './errors.js';
import type { Change, LiveStore } from './live-store.js';

/**
 * Mutation: `create<T>`, `update<T>` (a patch merged into the stored record), `delete<T>`
 * per table, and `ingestBatch`. Every write goes through `store.apply`, which publishes
 * every update before the mutation answers with the views it changed.
 */
export function addMutationFields(builder: Builder, refs: SchemaTypeRefs, store: LiveStore): void {
  builder.mutationType({});
  const write = (change: Change): Promise<RecordPayloadShape> =>
    withGraphQLErrors(async () => {
      const { updates, records } = await store.apply([change]);
      return { id: change.id, record: records[0], views: versions(updates) };
    });

  for (const [table, record] of refs.records) {
    builder.mutationField(record.names.create, (t) =>
      t.field({
        type: record.payload,
        description: `Creates a record of table \`${table}\`. CONFLICT if the id exists.`,
        args: { input: t.arg({ type: record.createInput, required: true }) },
        resolve: (_root, args) => {
          const { id, ...data } = args.input;
          return write({ table, op: 'CREATE', id: typeof id === 'string' ? id : randomUUID(), data });
        },
      }),
    );
    builder.mutationField(record.names.update, (t) =>
      t.field({
        type: record.payload,
        description: `Merges \`patch\` into a record of table \`${table}\`. NOT_FOUND if there is none.`,
        args: { id: t.arg.id({ required: true }), patch: t.arg({ type: record.patchInput, required: true }) },
        resolve: (_root, args) => write({ table, op: 'UPDATE', id: args.id, data: args.patch }),
      }),
    );
    builder.mutationField(record.names.delete, (t) =>
      t.field({
        type: record.payload,
        description: `Deletes a record of table \`${table}\`; deleting a missing id changes nothing.`,
        args: { id: t.arg.id({ required: true }) },
        resolve: (_root, args) => write({ table, op: 'DELETE', id: args.id }),
      }),
    );
  }

  builder.mutationField('ingestBatch', (t) =>
    t.field({
      type: refs.meta.batchPayload,
      description: 'Applies the changes atomically (all or none), in order; each view gets at most one update.',
      args: { changes: t.arg({ type: [refs.meta.changeInput], required: true }) },
      resolve: (_root, args) =>
        withGraphQLErrors(async () => {
          const changes: Change[] = args.changes.map(({ table, op, id, data }) => ({ table, op, id, data }));
          const { updates } = await store.apply(changes);
          return { ids: [...new Set(changes.map((change) => change.id))], views: versions(updates) };
        }),
    }),
  );
}

function versions(updates: readonly ViewUpdate[]): ViewVersionShape[] {
  return updates.map((update) => ({ view: update.view, version: update.version }));
}
