/** Parsing a received body once, and turning it into a message payload. */
import type { ParsedBody } from './types.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The media type of a Content-Type header, lower case, without parameters. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

function isJsonType(t: string): boolean {
  return t === 'application/json' || t.endsWith('+json') || t === 'text/json';
}

/** Parses the body as its content type says (JSON, form); other bodies stay text. */
export function parseBody(body: Buffer, contentType: string | undefined): ParsedBody {
  const type = mediaType(contentType);
  let text: string | null;
  try {
    text = utf8.decode(body);
  } catch {
    text = null;
  }
  const out: ParsedBody = { contentType: type, text, json: undefined, isJson: false, form: null };
  if (text === null) return out;
  if (type === 'application/x-www-form-urlencoded') {
    out.form = new URLSearchParams(text);
    return out;
  }
  const first = text.trimStart()[0];
  if (isJsonType(type) || (type === '' && (first === '{' || first === '['))) {
    try {
      out.json = JSON.parse(text) as unknown;
      out.isJson = true;
    } catch {
      // Not JSON after all: forwarded as text.
    }
  }
  return out;
}

/** Form fields as an object; a repeated field becomes an array of its values. */
export function formObject(form: URLSearchParams): Record<string, string | string[]> {
  const out = new Map<string, string | string[]>();
  for (const [k, v] of form) {
    const prev = out.get(k);
    if (prev === undefined) out.set(k, v);
    else out.set(k, Array.isArray(prev) ? [...prev, v] : [prev, v]);
  }
  return Object.fromEntries(out);
}

/**
 * The message payload (JSON text) for a verified body. A JSON object is forwarded as the
 * exact text received. Anything else is wrapped:
 * `{"contentType": ..., "body": "<text>"}`, plus `"form": {...}` for form bodies, or
 * `"bodyBase64"` instead of `"body"` when the bytes are not UTF-8.
 */
export function messagePayload(raw: Buffer, body: ParsedBody): string {
  const j = body.json;
  if (body.isJson && j !== null && typeof j === 'object' && !Array.isArray(j) && body.text !== null) return body.text;
  const wrapped: Record<string, unknown> = { contentType: body.contentType || null };
  if (body.text === null) wrapped.bodyBase64 = raw.toString('base64');
  else wrapped.body = body.text;
  if (body.form) wrapped.form = formObject(body.form);
  return JSON.stringify(wrapped);
}
