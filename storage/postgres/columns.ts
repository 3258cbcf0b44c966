import { escapeIdentifier } from 'pg';

/** One column of a served table as PostgreSQL holds it. */
export interface ColumnSpec {
  readonly name: string;
  /** As `information_schema.columns.data_type` spells it: text, integer, double precision, boolean, jsonb. */
  readonly type: string;
  readonly nullable: boolean;
}

/** A served table: `id text PRIMARY KEY` and one column per field. */
export interface TableSpec {
  readonly name: string;
  /** The fields' columns (not `id`). */
  readonly columns: readonly ColumnSpec[];
}

/** `"name"`, quoted for SQL whatever it holds. */
export function quote(name: string): string {
  return escapeIdentifier(name);
}
