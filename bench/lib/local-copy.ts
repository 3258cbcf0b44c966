import type { Row } from '../../engine/index.js';

/** A subscriber's local copy of one view, as a client keeps it from SNAPSHOT and DELTA events. */
export interface LocalCopy {
  rows: Map<string, Row>;
  version: number;
  hash: string;
}

export interface ViewEventData {
  kind: string;
  version: number;
  added: Row[];
  updated: Row[];
  removed: string[];
  hash: string;
}

/** Applies one event to `copies` (a SNAPSHOT replaces the copy); throws on a version gap. */
export function applyEvent(copies: Map<string, LocalCopy>, view: string, update: ViewEventData, label = view): void {
  const copy = copies.get(view) ?? { rows: new Map<string, Row>(), version: 0, hash: '' };
  if (update.kind === 'SNAPSHOT') copy.rows.clear();
  else if (update.version !== copy.version + 1) throw new Error(`${label}: gap ${copy.version} → ${update.version}`);
  for (const id of update.removed) copy.rows.delete(id);
  for (const row of [...update.added, ...update.updated]) copy.rows.set(row['id'] as string, row);
  copy.version = update.version;
  copy.hash = update.hash;
  copies.set(view, copy);
}
