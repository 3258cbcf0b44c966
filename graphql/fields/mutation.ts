import { randomUUID } from 'node:crypto';
import type { Access, Change } from '../../app/index.js';
import type { Viewer } from '../../config/rules.js';
import type { ViewUpdate } from '../../engine/index.js';
import { withGraphQLErrors } from '../errors.js';
import type { Builder, RecordPayloadShape, RequestContext, SchemaTypeRefs, ViewVersionShape } from '../schema/index.js';

/**
 * Mutation: `create<T>`, `update<T>` (a patch merged into the stored record), `delete<T>`
 * per table, and `ingestBatch`. Every write goes through the write path, which checks the
 * viewer's write rules, then publishes every update before the mutation answers with the
 * views it changed. With rules enforced, the answer lists only the views the viewer could
 * subscribe to itself, and the record only when the viewer may read it; records it may not
 * read are absent for its writes (update: NOT_FOUND, delete: nothing changes).
 */
export function addMutationFields(builder: Builder, refs: SchemaTypeRefs): void {
  builder.mutationType({});
  const versions = (access: Access, updates: readonly ViewUpdate[], viewer: Viewer | undefined): ViewVersionShape[] =>
    updates
      .filter((update) => access.visible(update.view, viewer))
      .map((update) => ({ view: update.view, version: update.version }));
  const write = (change: Change, context: RequestContext): Promise<RecordPayloadShape> =>
    withGraphQLErrors(async () => {
      const { access } = context;
      const viewer = access.viewerOf(context);
      const { updates, records } = await access.store.apply([change], access.authorizer(viewer), access.sees(viewer));
      const record = records[0];
      return {
        id: change.id,
        record: record !== undefined && access.readable(change.table, record, viewer) ? record : undefined,
        views: versions(access, updates, viewer),
      };
    });

  for (const [table, record] of refs.records) {
    builder.mutationField(record.names.create, (t) =>
      t.field({
        type: record.payload,
        description: `Creates a record of table \`${table}\`. CONFLICT if the id exists.`,
        args: { input: t.arg({ type: record.createInput, required: true }) },
        resolve: (_root, args, context) => {
          const { id, ...data } = args.input;
          return write({ table, op: 'CREATE', id: typeof id === 'string' ? id : randomUUID(), data }, context);
        },
      }),
    );
    builder.mutationField(record.names.update, (t) =>
      t.field({
        type: record.payload,
        description: `Merges \`patch\` into a record of table \`${table}\`. NOT_FOUND if there is none.`,
        args: { id: t.arg.id({ required: true }), patch: t.arg({ type: record.patchInput, required: true }) },
        resolve: (_root, args, context) => write({ table, op: 'UPDATE', id: args.id, data: args.patch }, context),
      }),
    );
    builder.mutationField(record.names.delete, (t) =>
      t.field({
        type: record.payload,
        description: `Deletes a record of table \`${table}\`; deleting a missing id changes nothing.`,
        args: { id: t.arg.id({ required: true }) },
        resolve: (_root, args, context) => write({ table, op: 'DELETE', id: args.id }, context),
      }),
    );
  }

  builder.mutationField('ingestBatch', (t) =>
    t.field({
      type: refs.meta.batchPayload,
      description: 'Applies the changes atomically (all or none), in order; each view gets at most one update.',
      args: { changes: t.arg({ type: [refs.meta.changeInput], required: true }) },
      resolve: (_root, args, context) =>
        withGraphQLErrors(async () => {
          const { access } = context;
          const viewer = access.viewerOf(context);
          const changes: Change[] = args.changes.map(({ table, op, id, data }) => ({ table, op, id, data }));
          const { updates } = await access.store.apply(changes, access.authorizer(viewer), access.sees(viewer));
          return { ids: [...new Set(changes.map((change) => change.id))], views: versions(access, updates, viewer) };
        }),
    }),
  );
}
