/**
 * How a request of a generic source becomes a message: where its event type and its
 * dedupe id come from (a fixed value, a header, or a path into the JSON body).
 */
import { invalid } from '../errors.js';
import { header, jsonObject, optionalString, stringField } from './util.js';
import type { InboundRequest, ParsedBody } from './types.js';

/** Event type names allow these characters; others become '.'. */
const EVENT_TYPE_CHARS = /[^a-zA-Z0-9\-_.]/g;

/** A provider's event name as a valid event type (`orders/create` -> `orders.create`). */
export function toEventType(raw: string | null | undefined, fallback: string): string {
  const t = (raw ?? '').replace(EVENT_TYPE_CHARS, '.').slice(0, 256);
  return t.length > 0 ? t : fallback;
}

export interface Mapping {
  eventType: string | null;
  eventTypeHeader: string | null;
  eventTypePath: string | null;
  idHeader: string | null;
  idPath: string | null;
}

type Segment = string | number;

/** Parses `$.a.b[0].c` or `a.b.0.c` into segments; throws on anything else. */
export function parsePath(path: string): Segment[] {
  const p = path.startsWith('$.') ? path.slice(2) : path.startsWith('$') ? path.slice(1) : path;
  const out: Segment[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]/gy;
  let at = 0;
  while (at < p.length) {
    if (p[at] === '.') {
      at++;
      continue;
    }
    re.lastIndex = at;
    const m = re.exec(p);
    if (!m) throw new Error(`unexpected "${p[at]}" at ${at}`);
    out.push(m[2] !== undefined ? Number(m[2]) : /^\d+$/.test(m[1]!) ? Number(m[1]) : m[1]!);
    at = re.lastIndex;
  }
  if (out.length === 0) throw new Error('empty path');
  return out;
}

/** The value at a path, or undefined. */
export function valueAt(value: unknown, path: readonly Segment[]): unknown {
  let v: unknown = value;
  for (const s of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = typeof s === 'number' ? (Array.isArray(v) ? (v[s] as unknown) : (v as Record<string, unknown>)[String(s)]) : Object.hasOwn(v, s) ? (v as Record<string, unknown>)[s] : undefined;
  }
  return v;
}

function checkPath(raw: Record<string, unknown>, key: string): string | null {
  const v = optionalString(raw, key, 512);
  if (v === null) return null;
  try {
    parsePath(v);
  } catch (e: unknown) {
    throw invalid(['body', 'config', key], `config.${key} is not a valid JSON path: ${(e as Error).message}`);
  }
  return v;
}

/** Reads the mapping options of a generic source's config. */
export function parseMapping(raw: Record<string, unknown>): Mapping {
  return {
    eventType: optionalString(raw, 'eventType', 256),
    eventTypeHeader: optionalString(raw, 'eventTypeHeader', 256),
    eventTypePath: checkPath(raw, 'eventTypePath'),
    idHeader: optionalString(raw, 'idHeader', 256),
    idPath: checkPath(raw, 'idPath'),
  };
}

/** The mapping options, as shown back. */
export function publicMapping(m: Mapping): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(m)) if (v !== null) out[k] = v;
  return out;
}

function scalar(v: unknown): string | null {
  if (typeof v === 'string') return v.length > 0 ? v : null;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

/** Event type: from the header or path configured, else the fixed one, else the body's `type`. */
export function mappedEventType(req: InboundRequest, body: ParsedBody, m: Mapping): string | null {
  if (m.eventTypeHeader) {
    const h = header(req, m.eventTypeHeader);
    if (h) return h;
  }
  if (m.eventTypePath && body.isJson) {
    const v = scalar(valueAt(body.json, parsePath(m.eventTypePath)));
    if (v) return v;
  }
  return m.eventType ?? stringField(jsonObject(body), 'type');
}

/** Dedupe id: from the header or path configured; none otherwise. */
export function mappedEventId(req: InboundRequest, body: ParsedBody, m: Mapping): string | null {
  if (m.idHeader) {
    const h = header(req, m.idHeader);
    if (h) return h;
  }
  if (m.idPath && body.isJson) return scalar(valueAt(body.json, parsePath(m.idPath)));
  return null;
}
