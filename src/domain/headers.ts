/** Custom request headers set on endpoints and by transformations: which names and values are allowed. */
import { invalid } from './errors.js';

/** Header names an endpoint may not set: they belong to the signed request. */
const RESERVED_HEADERS = /^(webhook-|svix-)|^(host|content-type|content-length|transfer-encoding|connection|user-agent|keep-alive|upgrade|te|trailer)$/i;
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Validates custom headers (legal names, none of the reserved ones, no line breaks).
 * Names are case-insensitive: `X-A` and `x-a` are one header, the last spelling given wins.
 */
export function checkHeaders(headers: Iterable<[string, string]>, loc: string[]): Record<string, string> {
  const out = new Map<string, [string, string]>();
  for (const [name, value] of headers) {
    if (!HEADER_NAME.test(name)) throw invalid([...loc, name], `"${name}" is not a valid header name`);
    if (RESERVED_HEADERS.test(name)) throw invalid([...loc, name], `header "${name}" is set by Switchboard and cannot be overridden`);
    if (typeof value !== 'string' || /[\r\n\0]/.test(value)) throw invalid([...loc, name], `header "${name}" has an invalid value`);
    out.set(name.toLowerCase(), [name, value]);
  }
  // fromEntries defines own properties, so a name like "__proto__" cannot reach a prototype.
  return Object.fromEntries(out.values());
}

/** Header names whose values are secrets; listed as `sensitive` when read back. */
const SENSITIVE_HEADERS = /^(authorization|proxy-authorization|cookie|x-api-key|api-key|x-auth-token)$/i;

/** Headers as read back: sensitive values are left out, only their names listed (as in the reference API). */
export function redactHeaders(all: Record<string, string>): { headers: Record<string, string>; sensitive: string[] } {
  const headers: Record<string, string> = {};
  const sensitive: string[] = [];
  for (const [k, v] of Object.entries(all)) {
    if (SENSITIVE_HEADERS.test(k)) sensitive.push(k);
    else headers[k] = v;
  }
  return { headers, sensitive };
}

/** `current` changed by `changes` (names case-insensitive, a null value removes a header; `merge` false replaces all), checked. */
export function mergeHeaders(current: Record<string, string>, changes: Record<string, string | null>, merge: boolean, loc: string[]): Record<string, string> {
  const next = new Map<string, [string, string]>(merge ? Object.entries(current).map(([k, v]) => [k.toLowerCase(), [k, v]]) : []);
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) next.delete(k.toLowerCase());
    else next.set(k.toLowerCase(), [k, v]);
  }
  return checkHeaders(next.values(), loc);
}
