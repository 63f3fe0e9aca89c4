/** Helpers shared by the provider verifiers: constant-time comparison, HMAC, config reading. */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { BinaryLike } from 'node:crypto';
import { invalid } from '../errors.js';
import type { InboundRequest, ParsedBody, Verification } from './types.js';

export const OK: Verification = { ok: true };

/** A refusal with its reason. */
export const refuse = (reason: string): Verification => ({ ok: false, reason });

/**
 * Compares two strings in constant time. Lengths may differ (the expected one is public:
 * it is fixed by the algorithm), so both are hashed first and the digests compared.
 */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** HMAC over the concatenation of `parts`. */
export function hmac(algorithm: string, key: BinaryLike, parts: readonly (string | Buffer)[]): Buffer {
  const h = createHmac(algorithm, key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** A header's value, or undefined when absent or empty. */
export function header(req: InboundRequest, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return v === undefined || v === '' ? undefined : v;
}

/** Whether a Unix timestamp (seconds) is within `toleranceSec` of now, either way. */
export function withinTolerance(timestampSec: number, nowMs: number, toleranceSec: number): boolean {
  return Math.abs(nowMs / 1000 - timestampSec) <= toleranceSec;
}

/** Parses a timestamp header of whole seconds; null if it is not one. */
export function parseSeconds(v: string | undefined): number | null {
  if (v === undefined || !/^\d{1,12}$/.test(v.trim())) return null;
  return Number(v.trim());
}

/** The top-level JSON object of the body, or null. */
export function jsonObject(body: ParsedBody): Record<string, unknown> | null {
  const j = body.json;
  return body.isJson && j !== null && typeof j === 'object' && !Array.isArray(j) ? (j as Record<string, unknown>) : null;
}

/** A string field of a JSON object, or null. */
export function stringField(obj: Record<string, unknown> | null, key: string): string | null {
  const v = obj?.[key];
  return typeof v === 'string' && v.length > 0 ? v : null;
}

/** Reads a required non-empty string from a config. */
export function requiredString(raw: Record<string, unknown>, key: string, maxLength = 4096): string {
  const v = raw[key];
  if (typeof v !== 'string' || v.length === 0) throw invalid(['body', 'config', key], `config.${key} is required (a non-empty string)`, 'value_error.missing');
  if (v.length > maxLength) throw invalid(['body', 'config', key], `config.${key} is longer than ${maxLength} characters`);
  return v;
}

/** Reads an optional string from a config (null when absent or null). */
export function optionalString(raw: Record<string, unknown>, key: string, maxLength = 4096): string | null {
  const v = raw[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') throw invalid(['body', 'config', key], `config.${key} must be a string`, 'type_error.str');
  if (v.length > maxLength) throw invalid(['body', 'config', key], `config.${key} is longer than ${maxLength} characters`);
  return v.length > 0 ? v : null;
}

/** Reads an optional integer in [min, max] from a config. */
export function optionalInt(raw: Record<string, unknown>, key: string, min: number, max: number): number | null {
  const v = raw[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw invalid(['body', 'config', key], `config.${key} must be an integer from ${min} to ${max}`, 'type_error.integer');
  }
  return v;
}

/** Reads an optional value from a fixed set. */
export function optionalEnum<T extends string>(raw: Record<string, unknown>, key: string, values: readonly T[], def: T): T {
  const v = raw[key];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) {
    throw invalid(['body', 'config', key], `config.${key} must be one of ${values.join(', ')}`, 'type_error.enum');
  }
  return v as T;
}
