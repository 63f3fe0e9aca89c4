/**
 * The JSON body parser of routes that carry a sender's own document in `payload` (publishing
 * a message). Fastify's parser refuses any `__proto__` or `constructor.prototype` key, which
 * are ordinary keys of someone's webhook payload: here they are kept inside `payload` and
 * still refused everywhere else in the body.
 *
 * Why this is safe: JSON.parse defines every key as an own data property (it never calls the
 * `__proto__` setter), so parsing pollutes nothing. The danger is later code copying such an
 * object key by key with assignments; the route turns `payload` back into JSON text at once
 * and nothing reads it as an object after that, while the other fields, which do reach the
 * services as objects, keep Fastify's refusal.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Keys that reach an object's prototype when a naive merge assigns them. */
const PROTOTYPE_KEY = /"(?:__proto__|constructor|prototype)"\s*:/;

/** A 400 the error handler answers as `invalid_json`. */
function invalidJson(message: string): SyntaxError & { statusCode: number } {
  return Object.assign(new SyntaxError(message), { statusCode: 400 });
}

/** The path of the first `__proto__` key, or `constructor` key holding a `prototype`, in `value`; null if none. */
export function prototypeKeyPath(value: unknown): string | null {
  const stack: { v: unknown; path: string }[] = [{ v: value, path: '' }];
  while (stack.length > 0) {
    const { v, path } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const at = `${path}/${k}`;
      if (k === '__proto__') return at;
      if (k === 'constructor' && x !== null && typeof x === 'object' && Object.hasOwn(x, 'prototype')) return at;
      stack.push({ v: x, path: at });
    }
  }
  return null;
}

/** Parses a request body whose `payload` member may hold any keys at all. */
export function parsePayloadBody(text: string): unknown {
  if (text === '') throw invalidJson("Body cannot be empty when content-type is set to 'application/json'");
  const body: unknown = JSON.parse(text);
  // Most bodies have no such key anywhere: the walk is only for those that might.
  if (!PROTOTYPE_KEY.test(text) || body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (k === 'payload') continue;
    // A computed key defines an own property, so a `__proto__` member is looked at, not followed.
    const found = prototypeKeyPath({ [k]: v });
    if (found !== null) throw invalidJson(`the key ${JSON.stringify(found)} may reach an object prototype; such keys are accepted only inside payload`);
  }
  return body;
}

/** Installs the parser for JSON bodies in `scope` (an encapsulated plugin holding the payload routes). */
export function usePayloadJsonParser(scope: FastifyInstance): void {
  scope.removeContentTypeParser('application/json');
  scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_req: FastifyRequest, text, done) => {
    try {
      done(null, parsePayloadBody(text as string));
    } catch (e: unknown) {
      done(e instanceof SyntaxError ? Object.assign(e, { statusCode: 400 }) : (e as Error), undefined);
    }
  });
}
