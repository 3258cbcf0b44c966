/**
 * The size of `value` as JSON in UTF-8 bytes (what `JSON.stringify` would write), or
 * `undefined` as soon as it passes `max`: a result far over a limit is not walked whole, and
 * nothing is serialised to measure it.
 */
export function jsonBytesWithin(value: unknown, max: number): number | undefined {
  let total = 0;
  // Values to measure, last first; a result nests only as deep as its query and JSON values allow.
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    total += scalarBytes(item, stack);
    if (total > max) return undefined;
  }
  return total;
}

/** Bytes of a scalar, or of an object's or array's punctuation and keys (its values are pushed). */
function scalarBytes(item: unknown, stack: unknown[]): number {
  switch (typeof item) {
    case 'string':
      return stringBytes(item);
    case 'number':
      return Number.isFinite(item) ? String(item).length : 4;
    case 'boolean':
      return item ? 4 : 5;
    case 'bigint':
      return String(item).length;
    case 'object': {
      if (item === null) return 4;
      if (typeof (item as { toJSON?: unknown }).toJSON === 'function') {
        stack.push((item as { toJSON(): unknown }).toJSON());
        return 0;
      }
      if (Array.isArray(item)) {
        for (const element of item) stack.push(element === undefined || typeof element === 'function' ? null : element);
        return 2 + Math.max(0, item.length - 1);
      }
      let bytes = 2;
      let fields = 0;
      for (const [key, field] of Object.entries(item)) {
        if (field === undefined || typeof field === 'function' || typeof field === 'symbol') continue;
        bytes += stringBytes(key) + 1;
        fields++;
        stack.push(field);
      }
      return bytes + Math.max(0, fields - 1);
    }
    default:
      return 4; // undefined at the top: nothing is written; counted as null
  }
}

/** Bytes of a string as a JSON string: quoted, escaped where JSON escapes. */
function stringBytes(text: string): number {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters JSON escapes
  if (/["\\\u0000-\u001f\ud800-\udfff]/.test(text)) return Buffer.byteLength(JSON.stringify(text));
  return Buffer.byteLength(text) + 2;
}
