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
