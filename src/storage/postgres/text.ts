/**
 * Text as PostgreSQL keeps it. Its text type cannot hold the NUL character, which the API
 * accepts (SQLite stores it): text is stored with NUL written as U+FFFF "0" and U+FFFF
 * itself doubled, by the driver's text serializer, and read back through its text parser,
 * so every value comes back exactly as sent and equal values still compare equal.
 */

const ESC = '\uFFFF';

/** The stored form of a text value. */
export function encodeText(v: unknown): string {
  const s = String(v);
  if (!/[\0\uFFFF]/.test(s)) return s;
  return s.replace(/[\0\uFFFF]/g, (c) => (c === '\0' ? ESC + '0' : ESC + ESC));
}

/** A text value as it was sent. */
export function decodeText(s: string): string {
  if (!s.includes(ESC)) return s;
  return s.replace(/\uFFFF([0\uFFFF])/g, (_m, c: string) => (c === '0' ? '\0' : ESC));
}

/**
 * A JSON document parameter (for `json_to_recordset(${doc}::text::json)`). JSON escapes NUL
 * as `\u0000`, which PostgreSQL refuses to turn into text; it is put back as a raw NUL here so
 * that the text serializer stores it like any other NUL.
 */
export function jsonParam(value: unknown): string {
  const doc = JSON.stringify(value);
  if (!doc.includes('\\u0000')) return doc;
  // Escapes are read left to right, so an escaped backslash before "u0000" is left alone.
  return doc.replace(/\\(\\|u0000)/g, (m, c: string) => (c === '\\' ? m : '\0'));
}
