/** Refuses input the schemas let through but the handlers cannot take. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ValidationIssue } from '../domain/errors.js';
import { sendError } from './errors.js';

/** Deepest JSON nesting accepted in a request body (serde_json, behind the reference API, stops at 128). */
export const MAX_JSON_DEPTH = 128;

/**
 * Finds nesting deeper than MAX_JSON_DEPTH (JSON.stringify would overflow the stack) and
 * numbers that overflowed to ±Infinity (`1e400` passes Ajv's integer, minimum and maximum
 * checks). Iterative, so a hostile body cannot overflow the stack here either.
 */
export function unacceptableInput(value: unknown, where: string): ValidationIssue | null {
  // Almost every input is fine: a quick walk that builds nothing says so; only a refusal pays
  // for the walk below, which keeps each value's place to name it.
  if (acceptable(value, 0)) return null;
  interface Item {
    v: unknown;
    depth: number;
    key: string | number;
    parent: Item | null;
  }
  const locOf = (i: Item): (string | number)[] => {
    const loc: (string | number)[] = [];
    for (let at: Item | null = i; at; at = at.parent) loc.unshift(at.key);
    return loc;
  };
  const stack: Item[] = [{ v: value, depth: 0, key: where, parent: null }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    const v = item.v;
    if (typeof v === 'number' && !Number.isFinite(v)) return { loc: locOf(item), msg: 'number out of range', type: 'value_error.number' };
    if (v === null || typeof v !== 'object') continue;
    if (item.depth >= MAX_JSON_DEPTH) return { loc: locOf(item), msg: `nested deeper than ${MAX_JSON_DEPTH} levels`, type: 'value_error.depth' };
    const depth = item.depth + 1;
    if (Array.isArray(v)) v.forEach((x, i) => stack.push({ v: x, depth, key: i, parent: item }));
    else for (const [k, x] of Object.entries(v)) stack.push({ v: x, depth, key: k, parent: item });
  }
  return null;
}

/**
 * Whether `v` (at nesting `depth`) holds no number out of range and no nesting deeper than
 * MAX_JSON_DEPTH. Recursive, but never deeper than MAX_JSON_DEPTH + 1 calls.
 */
function acceptable(v: unknown, depth: number): boolean {
  if (typeof v === 'number') return Number.isFinite(v);
  if (v === null || typeof v !== 'object') return true;
  if (depth >= MAX_JSON_DEPTH) return false;
  if (Array.isArray(v)) {
    for (const x of v as unknown[]) if (!acceptable(x, depth + 1)) return false;
    return true;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) if (Object.hasOwn(o, k) && !acceptable(o[k], depth + 1)) return false;
  return true;
}

/**
 * Installs the check of bodies and query strings. It runs after schema validation and must
 * be added before the idempotency hook, so a refused request stores nothing.
 */
export function registerInputLimits(app: FastifyInstance): void {
  app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    const issue = unacceptableInput(req.body, 'body') ?? unacceptableInput(req.query, 'query');
    if (issue) return sendError(reply, 'validation', [issue]);
  });
}
