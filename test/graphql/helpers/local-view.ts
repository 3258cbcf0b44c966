import { compareValues, hashRows, type Row, type Value } from '../../../engine/index.js';

export interface UpdateEvent {
  readonly view: string;
  readonly version: number;
  readonly previousVersion?: number | null;
  readonly kind: 'SNAPSHOT' | 'DELTA';
  readonly added: readonly unknown[];
  readonly updated: readonly unknown[];
  readonly removed: readonly string[];
  readonly hash: string;
}

export interface OrderKey {
  readonly field: string;
  readonly direction: 'ASC' | 'DESC' | 'asc' | 'desc';
}

/**
 * A client's copy of a view, kept from its subscription events the way the README tells a
 * client to: a SNAPSHOT replaces the copy; a DELTA must apply to the copy's version
 * (`previousVersion` ≤ it < `version`; without `previousVersion`: the next version), then deletes
 * `removed`, inserts `added` and replaces `updated` by id.
 */
export class LocalView {
  readonly rows = new Map<string, Row>();
  version = -1;
  hash = '';
  readonly kinds: string[] = [];

  apply(event: UpdateEvent): void {
    this.kinds.push(event.kind);
    if (event.kind === 'SNAPSHOT') {
      this.rows.clear();
    } else if (event.version <= this.version || (event.previousVersion ?? event.version - 1) > this.version) {
      throw new Error(`${event.view}: delta ${event.version} does not follow ${this.version}`);
    }
    for (const id of event.removed) {
      if (!this.rows.delete(id)) throw new Error(`${event.view}: removed ${id} was not there`);
    }
    for (const row of event.added.map(plain)) {
      if (event.kind === 'DELTA' && this.rows.has(row['id'] as string))
        throw new Error(`${event.view}: added ${String(row['id'])} twice`);
      this.rows.set(row['id'] as string, row);
    }
    for (const row of event.updated.map(plain)) {
      if (!this.rows.has(row['id'] as string))
        throw new Error(`${event.view}: updated ${String(row['id'])} is unknown`);
      this.rows.set(row['id'] as string, row);
    }
    this.version = event.version;
    this.hash = event.hash;
  }

  /** The rows in view order: the view's orderBy, then id ascending. */
  sorted(orderBy: readonly OrderKey[] = []): Row[] {
    return [...this.rows.values()].sort((a, b) => {
      for (const key of orderBy) {
        const order = compareValues(a[key.field] ?? null, b[key.field] ?? null);
        if (order !== 0) return key.direction.toLowerCase() === 'desc' ? -order : order;
      }
      const [x, y] = [a['id'] as string, b['id'] as string];
      return x < y ? -1 : x > y ? 1 : 0;
    });
  }

  /** The hash of the local rows, computed as the server computes its own. */
  localHash(): string {
    return hashRows(this.rows.values());
  }
}

/** A row as JSON, without the `__typename` fields urql adds to every selection. */
export function plain(value: unknown): Row {
  return strip(value) as Row;
}

function strip(value: unknown): Value {
  if (Array.isArray(value)) return value.map(strip);
  if (value === null || typeof value !== 'object') return value as Value;
  const out: { [field: string]: Value } = {};
  for (const [key, field] of Object.entries(value)) if (key !== '__typename') out[key] = strip(field);
  return out;
}
