import { type DocumentNode, type FieldNode, Kind, type OperationDefinitionNode, parse, print } from 'graphql';

/**
 * A view subscription's document with what a `LiveView` needs added to its root field when the
 * app left it out: `orderBy { field direction }` (so the client orders rows as the server does
 * without the app declaring it again) and the update's bookkeeping fields.
 */

const BOOKKEEPING = ['view', 'version', 'previousVersion', 'kind', 'hash', 'removed'] as const;

function field(name: string, selections?: readonly FieldNode[]): FieldNode {
  return {
    kind: Kind.FIELD,
    name: { kind: Kind.NAME, value: name },
    ...(selections === undefined ? {} : { selectionSet: { kind: Kind.SELECTION_SET, selections } }),
  };
}

const ORDER_BY = field('orderBy', [field('field'), field('direction')]);

/** The subscription operation of `document`, if it has exactly one root field. */
export function liveRootField(document: DocumentNode): { operation: OperationDefinitionNode; root: FieldNode } | null {
  const operations = document.definitions.filter(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  );
  const operation = operations[0];
  if (operations.length !== 1 || operation === undefined || operation.operation !== 'subscription') return null;
  const fields = operation.selectionSet.selections.filter((s): s is FieldNode => s.kind === Kind.FIELD);
  const root = fields[0];
  if (fields.length !== 1 || root === undefined || root.selectionSet === undefined) return null;
  return { operation, root };
}

/** The response key of the root field (its alias or name). */
export function responseKey(root: FieldNode): string {
  return root.alias?.value ?? root.name.value;
}

/** `document` with `orderBy` and the bookkeeping fields selected on its root field. */
export function withLiveFields(document: DocumentNode): DocumentNode {
  const found = liveRootField(document);
  if (found === null) return document;
  const { operation, root } = found;
  const selected = new Set(
    (root.selectionSet?.selections ?? []).flatMap((s) =>
      s.kind === Kind.FIELD && s.alias === undefined ? [s.name.value] : [],
    ),
  );
  const missing = [
    ...BOOKKEEPING.filter((name) => !selected.has(name)).map((name) => field(name)),
    ...(selected.has('orderBy') ? [] : [ORDER_BY]),
  ];
  if (missing.length === 0) return document;
  const newRoot: FieldNode = {
    ...root,
    selectionSet: { kind: Kind.SELECTION_SET, selections: [...(root.selectionSet?.selections ?? []), ...missing] },
  };
  const newOperation: OperationDefinitionNode = {
    ...operation,
    selectionSet: {
      ...operation.selectionSet,
      selections: operation.selectionSet.selections.map((s) => (s === root ? newRoot : s)),
    },
  };
  return { ...document, definitions: document.definitions.map((d) => (d === operation ? newOperation : d)) };
}

/** The same for a query text. */
export function withLiveFieldsText(query: string): string {
  const document = parse(query);
  const transformed = withLiveFields(document);
  return transformed === document ? query : print(transformed);
}
