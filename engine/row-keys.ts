import type { Value } from './types.js';
import { canonicalJson } from './values.js';

/**
 * Row keys of composite rows (DESIGN §3.2). Each encoding is injective, so two different
 * logical rows never share a key whatever their values (`null` and `"null"`, `5` and `"5"`,
 * ids containing `|` or quotes). Clients treat keys as opaque strings.
 */

/**
 * The key of a group. One string value that is not itself JSON text keys the group as is
 * (`"u1"` → `u1`, readable); any other single value is its canonical JSON (`null` → `null`,
 * `"null"` → `"null"` with its quotes, `5` → `5`, `"5"` → `"5"` with quotes). Raw strings are
 * never JSON text and encoded values always are, so the two forms cannot meet. Several
 * group values are the canonical JSON array of the values.
 */
export function groupRowKey(values: readonly Value[]): string {
  if (values.length !== 1) return canonicalJson(values as Value[]);
  const value = values[0] as Value;
  return typeof value === 'string' && !isJsonText(value) ? value : canonicalJson(value);
}

/** The key of a join match on a field other than `id`: the JSON array of both keys. */
export function joinRowKey(leftKey: string, rightId: string): string {
  return JSON.stringify([leftKey, rightId]);
}

/** JSON text starts (after whitespace) with one of these, so anything else skips the parse. */
const JSON_START = /^[\s]*[[{"\-0-9tfn]/;

function isJsonText(text: string): boolean {
  if (!JSON_START.test(text)) return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
