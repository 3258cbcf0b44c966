import type { Row, Value } from './types.js';

/**
 * cyrb53 of a value's canonical JSON (keys sorted), computed by feeding the characters
 * of that text into the hash state as they would be written, without building the text.
 * Equal to `cyrb53(canonicalJson(value))` for every JSON value.
 */
let h1 = 0;
let h2 = 0;

function feed(ch: number): void {
  h1 = Math.imul(h1 ^ ch, 2654435761);
  h2 = Math.imul(h2 ^ ch, 1597334677);
}

function feedAscii(text: string): void {
  let a = h1;
  let b = h2;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    a = Math.imul(a ^ ch, 2654435761);
    b = Math.imul(b ^ ch, 1597334677);
  }
  h1 = a;
  h2 = b;
}

const HEX = '0123456789abcdef';

/** The decimal digits of a safe integer, as `String(n)` writes them, without the string. */
function feedInteger(n: number): void {
  if (n < 0) {
    feed(45);
    n = -n;
  }
  let divisor = 1;
  while (divisor * 10 <= n) divisor *= 10;
  let a = h1;
  let b = h2;
  for (; divisor >= 1; divisor /= 10) {
    const digit = Math.floor(n / divisor) % 10;
    const ch = 48 + digit;
    a = Math.imul(a ^ ch, 2654435761);
    b = Math.imul(b ^ ch, 1597334677);
  }
  h1 = a;
  h2 = b;
}

function feedString(text: string): void {
  let a = Math.imul(h1 ^ 34, 2654435761);
  let b = Math.imul(h2 ^ 34, 1597334677);
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch < 0x20 || ch === 34 || ch === 92 || (ch >= 0xd800 && ch <= 0xdfff)) {
      h1 = a;
      h2 = b;
      feedStringSlow(text, i);
      return;
    }
    a = Math.imul(a ^ ch, 2654435761);
    b = Math.imul(b ^ ch, 1597334677);
  }
  h1 = Math.imul(a ^ 34, 2654435761);
  h2 = Math.imul(b ^ 34, 1597334677);
}

/** The rest of a string from `start`, with JSON's escapes (the opening quote is fed). */
function feedStringSlow(text: string, start: number): void {
  for (let i = start; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch >= 0x20 && ch !== 34 && ch !== 92 && (ch < 0xd800 || ch > 0xdfff)) {
      feed(ch);
      continue;
    }
    if (ch >= 0xd800 && ch <= 0xdfff) {
      // JSON.stringify keeps a well-formed surrogate pair and escapes a lone surrogate.
      const next = text.charCodeAt(i + 1);
      if (ch <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        feed(ch);
        feed(next);
        i++;
        continue;
      }
      const prev = text.charCodeAt(i - 1);
      if (ch >= 0xdc00 && i > 0 && prev >= 0xd800 && prev <= 0xdbff) {
        feed(ch);
        continue;
      }
    }
    feedAscii(escapeChar(ch));
  }
  feed(34);
}

function escapeChar(ch: number): string {
  switch (ch) {
    case 34:
      return '\\"';
    case 92:
      return '\\\\';
    case 8:
      return '\\b';
    case 12:
      return '\\f';
    case 10:
      return '\\n';
    case 13:
      return '\\r';
    case 9:
      return '\\t';
    default:
      return `\\u${HEX[(ch >> 12) & 15]}${HEX[(ch >> 8) & 15]}${HEX[(ch >> 4) & 15]}${HEX[ch & 15]}`;
  }
}

function feedValue(value: Value): void {
  if (value === null) {
    feedAscii('null');
    return;
  }
  switch (typeof value) {
    case 'string':
      feedString(value);
      return;
    case 'number':
      if (Number.isSafeInteger(value) && !Object.is(value, -0)) feedInteger(value);
      else feedAscii(Number.isFinite(value) ? String(value) : 'null');
      return;
    case 'boolean':
      feedAscii(value ? 'true' : 'false');
      return;
  }
  if (Array.isArray(value)) {
    feed(91);
    for (let i = 0; i < value.length; i++) {
      if (i > 0) feed(44);
      feedValue(value[i] === undefined ? null : (value[i] as Value));
    }
    feed(93);
    return;
  }
  const keys = Object.keys(value);
  // insertion sort: rows have few keys, and this beats Array.prototype.sort on small arrays
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i] as string;
    let j = i - 1;
    while (j >= 0 && (keys[j] as string) > key) {
      keys[j + 1] = keys[j] as string;
      j--;
    }
    keys[j + 1] = key;
  }
  feed(123);
  let first = true;
  for (const key of keys) {
    const field = value[key];
    if (field === undefined) continue;
    if (!first) feed(44);
    first = false;
    feedString(key);
    feed(58);
    feedValue(field);
  }
  feed(125);
}

export function hashRowStreaming(row: Row): number {
  h1 = 0xdeadbeef;
  h2 = 0x41c6ce57;
  feedValue(row as Value);
  let a = h1;
  let b = h2;
  a = Math.imul(a ^ (a >>> 16), 2246822507);
  a ^= Math.imul(b ^ (b >>> 13), 3266489909);
  b = Math.imul(b ^ (b >>> 16), 2246822507);
  b ^= Math.imul(a ^ (a >>> 13), 3266489909);
  return 4294967296 * (2097151 & b) + (a >>> 0);
}
