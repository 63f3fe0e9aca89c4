/**
 * Event types from an OpenAPI document: each webhook of `webhooks` (OpenAPI 3.1) or
 * `x-webhooks` becomes an event type with the JSON schema of its JSON request body (and the
 * body's examples as the schema's `examples`). Pure: used by `POST /api/v1/event-type/import/openapi`
 * and the `switchboard event-type import` command alike.
 */
import { createRequire } from 'node:module';
import type { parse } from 'yaml';

export interface ImportedEventType {
  name: string;
  description: string;
  deprecated: boolean;
  schemas: Record<string, unknown> | null;
}

export interface ImportResult {
  eventTypes: ImportedEventType[];
  /** Webhooks that could not be turned into an event type, with the reason. */
  skipped: { webhook: string; reason: string }[];
}

const NAME = /^[a-zA-Z0-9\-_.]{1,256}$/;
const METHODS = ['post', 'put', 'patch', 'get', 'delete'];
const MAX_DEPTH = 64;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/** Parses JSON or YAML text into a document. */
export function parseDocument(text: string): Obj {
  let doc: unknown;
  try {
    // The YAML parser is loaded only for a YAML document.
    doc = text.trimStart().startsWith('{') ? JSON.parse(text) : (createRequire(import.meta.url)('yaml') as { parse: typeof parse }).parse(text);
  } catch (e: unknown) {
    throw new Error(`not a JSON or YAML document: ${(e as Error).message}`);
  }
  if (!isObj(doc)) throw new Error('the document is not an object');
  if (typeof doc.openapi !== 'string' && typeof doc.swagger !== 'string') throw new Error('not an OpenAPI document (no "openapi" field)');
  return doc;
}

/** Follows a local `#/...` JSON pointer. */
function pointer(doc: Obj, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let at: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObj(at) && !Array.isArray(at)) return undefined;
    at = (at as Obj)[key];
  }
  return at;
}

/** Inlines local `$ref`s; a reference cycle is cut with an open schema. */
function inline(doc: Obj, v: unknown, seen: readonly string[] = [], depth = 0): unknown {
  if (depth > MAX_DEPTH) return {};
  if (Array.isArray(v)) return v.map((x) => inline(doc, x, seen, depth + 1));
  if (!isObj(v)) return v;
  if (typeof v.$ref === 'string') {
    const ref = v.$ref;
    if (seen.includes(ref)) return {};
    const target = pointer(doc, ref);
    if (target === undefined) throw new Error(`unresolvable $ref ${ref}`);
    return inline(doc, target, [...seen, ref], depth + 1);
  }
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) out[k] = inline(doc, x, seen, depth + 1);
  return out;
}

/** The event type name: `x-event-type`, else a single-valued `type` property of the payload, else the webhook's key. */
function nameOf(key: string, op: Obj, schema: unknown): string {
  if (typeof op['x-event-type'] === 'string') return op['x-event-type'];
  const type = isObj(schema) && isObj(schema.properties) ? schema.properties.type : undefined;
  if (isObj(type)) {
    if (typeof type.const === 'string') return type.const;
    if (Array.isArray(type.enum) && type.enum.length === 1 && typeof type.enum[0] === 'string') return type.enum[0];
  }
  return key;
}

/** The body's `example` / `examples` values as the schema's `examples`, unless it has its own. */
function withExamples(schema: Obj | null, media: unknown): Obj | null {
  if (!schema || !isObj(media) || schema.examples !== undefined || schema.example !== undefined) return schema;
  const found: unknown[] = [];
  if (media.example !== undefined) found.push(media.example);
  if (isObj(media.examples)) for (const e of Object.values(media.examples)) if (isObj(e) && e.value !== undefined) found.push(e.value);
  return found.length > 0 ? { ...schema, examples: found } : schema;
}

/** Finds the event types a document describes. */
export function eventTypesFromOpenApi(doc: Obj): ImportResult {
  const hooks = { ...(isObj(doc['x-webhooks']) ? doc['x-webhooks'] : {}), ...(isObj(doc.webhooks) ? doc.webhooks : {}) };
  const result: ImportResult = { eventTypes: [], skipped: [] };
  const names = new Set<string>();
  for (const [key, rawItem] of Object.entries(hooks)) {
    try {
      const item = inline(doc, rawItem);
      if (!isObj(item)) throw new Error('not a path item');
      const method = METHODS.find((m) => isObj(item[m]));
      if (!method) throw new Error('no operation');
      const op = item[method] as Obj;
      const body = isObj(op.requestBody) ? op.requestBody : {};
      const content = isObj(body.content) ? body.content : {};
      const media = Object.entries(content).find(([type]) => /json/.test(type))?.[1];
      const schema = withExamples(isObj(media) && isObj(media.schema) ? media.schema : null, media);
      const name = nameOf(key, op, schema);
      if (!NAME.test(name)) throw new Error(`"${name}" is not a valid event type name (letters, digits, - _ .)`);
      if (names.has(name)) throw new Error(`event type "${name}" appears twice`);
      names.add(name);
      const text = [op.summary, op.description].filter((x): x is string => typeof x === 'string' && x.length > 0);
      result.eventTypes.push({
        name,
        description: (text[1] ?? text[0] ?? '').slice(0, 65536),
        deprecated: op.deprecated === true,
        schemas: schema ? { '1': schema } : null,
      });
    } catch (e: unknown) {
      result.skipped.push({ webhook: key, reason: (e as Error).message });
    }
  }
  return result;
}
