import { type FieldNode, Kind } from 'graphql';
import type { LiveState } from './live-view.js';
import type { LiveRow } from './order.js';

/**
 * What the urql exchange and the Apollo link hand the app on every event: the subscription's
 * own result shape (so generated types and normalised caches apply), holding the whole current
 * result: `kind: 'SNAPSHOT'`, every row in `added` in view order, `updated` and `removed` empty.
 * Fields the adapter added to the document and the app did not select are left out.
 */
export function currentResult<Row extends LiveRow>(
  state: LiveState<Row>,
  selected: ReadonlySet<string> | null,
): { readonly [field: string]: unknown } {
  const whole: { [field: string]: unknown } = {
    ...state.event,
    view: state.view,
    version: state.version,
    previousVersion: null,
    hash: state.hash,
    kind: 'SNAPSHOT',
    added: state.rows,
    updated: [],
    removed: [],
  };
  if (selected === null) return whole;
  return Object.fromEntries(Object.entries(whole).filter(([key]) => selected.has(key)));
}

/** The response keys the app selected on the root field, or null when fragments make it unknown. */
export function selectedKeys(root: FieldNode): ReadonlySet<string> | null {
  const keys = new Set<string>();
  for (const selection of root.selectionSet?.selections ?? []) {
    if (selection.kind !== Kind.FIELD) return null;
    keys.add(selection.alias?.value ?? selection.name.value);
  }
  return keys;
}
