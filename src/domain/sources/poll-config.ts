/**
 * The configuration of a polling source: the request to make, how to find items in the
 * answer and when to emit them. Parsed and checked when a source is saved; shown back with
 * header values (secrets) left out.
 */
import { compileJsonata } from './jsonata.js';
import { invalid } from '../errors.js';
import { optionalEnum, optionalInt, optionalString, requiredString } from '../providers/util.js';
import { toEventType } from '../providers/mapping.js';

export const POLL_DEFAULT_EVENT_TYPE = 'poll.item';
/** Most items one run takes from a response. */
export const POLL_MAX_ITEMS = 10_000;

export interface PollConfig {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body: string | null;
  intervalSecs: number;
  eventType: string;
  items: string | null;
  itemId: string | null;
  emitOn: 'new' | 'changed' | 'both';
  emitInitial: boolean;
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Headers the client sets itself. */
const RESERVED = /^(host|content-length|transfer-encoding|connection|keep-alive|upgrade|te|trailer|if-none-match|if-modified-since)$/i;

function checkExpression(raw: Record<string, unknown>, key: string): string | null {
  const expr = optionalString(raw, key, 4096);
  if (expr === null) return null;
  try {
    compileJsonata(expr);
  } catch (e: unknown) {
    throw invalid(['body', 'config', key], `config.${key} is not a valid JSONata expression: ${(e as Error).message}`);
  }
  return expr;
}

/** Validates a polling source's config; throws a 422 naming the field. The URL's address is checked by the caller. */
export function parsePollConfig(raw: Record<string, unknown>): PollConfig {
  const url = requiredString(raw, 'url', 8192);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalid(['body', 'config', 'url'], 'config.url is not a valid absolute URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalid(['body', 'config', 'url'], 'config.url must use http or https');
  if (u.username || u.password) throw invalid(['body', 'config', 'url'], 'config.url must not carry credentials; use config.headers');
  const headersRaw = raw.headers ?? {};
  if (headersRaw === null || typeof headersRaw !== 'object' || Array.isArray(headersRaw)) throw invalid(['body', 'config', 'headers'], 'config.headers must be an object of strings');
  const entries = Object.entries(headersRaw as Record<string, unknown>);
  if (entries.length > 50) throw invalid(['body', 'config', 'headers'], 'config.headers has more than 50 headers');
  const headers = new Map<string, [string, string]>();
  for (const [name, value] of entries) {
    const loc = ['body', 'config', 'headers', name];
    if (!HEADER_NAME.test(name)) throw invalid(loc, `"${name}" is not a valid header name`);
    if (RESERVED.test(name)) throw invalid(loc, `header "${name}" is set by Switchboard`);
    if (typeof value !== 'string' || value.length > 8192 || /[\r\n\0]/.test(value)) throw invalid(loc, `header "${name}" has an invalid value`);
    headers.set(name.toLowerCase(), [name, value]);
  }
  const method = optionalEnum(raw, 'method', ['GET', 'POST'] as const, 'GET');
  const body = optionalString(raw, 'body', 1024 * 1024);
  if (body !== null && method === 'GET') throw invalid(['body', 'config', 'body'], 'config.body needs method POST');
  const emitInitial = raw.emitInitial ?? false;
  if (typeof emitInitial !== 'boolean') throw invalid(['body', 'config', 'emitInitial'], 'config.emitInitial must be a boolean');
  return {
    url,
    method,
    headers: Object.fromEntries(headers.values()),
    body,
    intervalSecs: optionalInt(raw, 'intervalSecs', 1, 7 * 86_400) ?? 60,
    eventType: toEventType(optionalString(raw, 'eventType', 256), POLL_DEFAULT_EVENT_TYPE),
    items: checkExpression(raw, 'items'),
    itemId: checkExpression(raw, 'itemId'),
    emitOn: optionalEnum(raw, 'emitOn', ['new', 'changed', 'both'] as const, 'new'),
    emitInitial,
  };
}

/** The config as shown back: header values are secrets, only their names are listed. */
export function publicPollConfig(c: PollConfig): Record<string, unknown> {
  return {
    url: c.url,
    method: c.method,
    headerNames: Object.keys(c.headers),
    ...(c.body !== null ? { body: c.body } : {}),
    intervalSecs: c.intervalSecs,
    eventType: c.eventType,
    ...(c.items !== null ? { items: c.items } : {}),
    ...(c.itemId !== null ? { itemId: c.itemId } : {}),
    emitOn: c.emitOn,
    emitInitial: c.emitInitial,
  };
}

/** JSON with object keys sorted, so equal content always hashes the same. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return '[' + v.map(canonicalJson).join(',') + ']';
  const o = v as Record<string, unknown>;
  return '{' + Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => JSON.stringify(k) + ':' + canonicalJson(o[k])).join(',') + '}';
}
