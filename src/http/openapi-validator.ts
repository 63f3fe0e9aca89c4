/**
 * Optional check that every JSON response matches the schema its route documents
 * (`SWITCHBOARD_VALIDATE_RESPONSES`, on in the test suite). A 2xx JSON body needs a
 * documented schema for its status; an error body without one must have the common error
 * shape. Violations are logged and kept for the test suite to assert on.
 */
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import * as formatsModule from 'ajv-formats';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_RESPONSE_SCHEMA } from './openapi.js';

export interface Violation {
  method: string;
  route: string;
  status: number;
  problem: string;
}

const violations: Violation[] = [];

/** Returns and forgets the violations recorded so far in this process. */
export function takeViolations(): Violation[] {
  return violations.splice(0);
}

// ajv-formats is CommonJS: its default export arrives wrapped under ESM.
const addFormats = ((formatsModule as unknown as { default: unknown }).default ?? formatsModule) as (ajv: Ajv) => Ajv;

type ResponseMap = Record<string, unknown>;

/** The documented schema for `status`, in Fastify's lookup order: exact, `2xx`, `default`. */
function documented(responses: ResponseMap | undefined, status: number, contentType: string): { schema: object | null; found: boolean } {
  if (!responses) return { schema: null, found: false };
  const entry = responses[String(status)] ?? responses[`${String(status)[0]}xx`] ?? responses[`${String(status)[0]}XX`] ?? responses.default;
  if (entry === undefined || entry === null || typeof entry !== 'object') return { schema: null, found: false };
  const content = (entry as { content?: Record<string, { schema?: object }> }).content;
  if (content) {
    const media = content[contentType] ?? content['application/json'] ?? Object.values(content)[0];
    return { schema: media?.schema ?? null, found: true };
  }
  return { schema: entry, found: true };
}

/** A schema's compiled check, or why it does not compile; shared by every app of the process (tests start many). */
const compiled = new Map<string, ValidateFunction | string>();
/** The same, by schema object, to skip serialising a schema met before. */
const compiledByObject = new WeakMap<object, ValidateFunction | string>();
let shared: Ajv | undefined;

function newAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true, allowUnionTypes: true });
  addFormats(ajv);
  return ajv;
}

export class ResponseValidator {
  private compile(schema: object): ValidateFunction | string {
    const known = compiledByObject.get(schema);
    if (known !== undefined) return known;
    const key = JSON.stringify(schema);
    let v = compiled.get(key);
    if (v === undefined) {
      try {
        v = (shared ??= newAjv()).compile(schema);
      } catch (e: unknown) {
        // The same $id in two distinct objects: compile this one on its own.
        try {
          v = newAjv().compile(schema);
        } catch {
          v = `schema does not compile: ${e instanceof Error ? e.message : String(e)}`;
        }
      }
      compiled.set(key, v);
    }
    compiledByObject.set(schema, v);
    return v;
  }

  /** Checks one response; returns the problem, or null. */
  check(responses: ResponseMap | undefined, status: number, contentType: string, body: string): string | null {
    const json = /[/+]json\b/.test(contentType);
    const doc = documented(responses, status, contentType);
    if (!json || body.length === 0) {
      if (status >= 200 && status < 300 && responses && !doc.found) return `status ${status} is not documented`;
      return null;
    }
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      return 'body is not valid JSON';
    }
    let schema = doc.schema;
    if (!doc.found) {
      if (status < 400) return `status ${status} with a JSON body is not documented`;
      schema = ERROR_RESPONSE_SCHEMA;
    }
    if (!schema) return null;
    const validate = this.compile(schema);
    if (typeof validate === 'string') return validate;
    if (validate(value)) return null;
    return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'invalid'}`).join('; ');
  }

  /** Installs the check on every response of the app; call before routes are added. */
  register(app: FastifyInstance): void {
    app.addHook('onSend', async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
      if (payload !== null && typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload;
      if (req.method === 'HEAD' || reply.statusCode === 304) return payload;
      // No route matched: the not-found handler answers, in the error shape.
      const route = req.routeOptions.url ?? '(no route)';
      const contentType = String(reply.getHeader('content-type') ?? '').split(';')[0]!.trim();
      const body = payload === null ? '' : payload.toString();
      const responses = (req.routeOptions.schema?.response ?? undefined) as ResponseMap | undefined;
      const problem = this.check(responses, reply.statusCode, contentType, body);
      if (problem) {
        const v: Violation = { method: req.method, route, status: reply.statusCode, problem };
        violations.push(v);
        req.log.error({ violation: v }, 'response does not match its documented schema');
      }
      return payload;
    });
  }
}
