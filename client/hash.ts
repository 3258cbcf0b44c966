/**
 * The server's result hash, reproduced for clients (they cannot import the engine): a row
 * hashes to cyrb53 of its canonical JSON (keys sorted by UTF-16 code units), a result to two
 * 32-bit lane sums of its rows' hashes, printed as 16 hex digits. `__typename` keys are
 * skipped: GraphQL clients add them, the server's rows never have them. A property test checks
 * that this equals the engine's `hashRows` on hostile values.
 */

const TYPENAME = '__typename';

function cyrb53(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** JSON text with object keys sorted, `__typename` and undefined fields left out. */
function canonicalText(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalText).join(',')}]`;
  const object = value as { readonly [key: string]: unknown };
  const keys = Object.keys(object)
    .filter((key) => key !== TYPENAME && object[key] !== undefined)
    .sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalText(object[key])}`).join(',')}}`;
}

/** A row's 53-bit content hash, as the server computes it. */
export function hashRow(row: object): number {
  return cyrb53(canonicalText(row));
}

/** The order-independent hash of a set of rows, equal to the server's `hash` for the same rows. */
export function hashRows(rows: Iterable<object>): string {
  let high = 0;
  let low = 0;
  for (const row of rows) {
    const hash = hashRow(row);
    high = (high + Math.floor(hash / 4294967296)) >>> 0;
    low = (low + (hash >>> 0)) >>> 0;
  }
  return high.toString(16).padStart(8, '0') + low.toString(16).padStart(8, '0');
}
