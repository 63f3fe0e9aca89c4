/**
 * Standard Webhooks signing: `v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{body}")>`,
 * secrets written `whsec_<base64>`.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';

/** A fresh signing secret (24 random bytes, as the reference implementation uses). */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(24).toString('base64');
}

/** The raw key bytes of a `whsec_` (or bare base64) secret. */
export function secretKey(secret: string): Buffer {
  const b64 = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  return Buffer.from(b64, 'base64');
}

/** One `v1,<base64>` signature of the message. */
export function sign(key: Buffer, msgId: string, timestampSec: number | string, body: string | Buffer): string {
  const h = createHmac('sha256', key);
  h.update(`${msgId}.${timestampSec}.`);
  h.update(body);
  return 'v1,' + h.digest('base64');
}

/** The `webhook-signature` header value: one signature per active key, space-separated. */
export function signatureHeader(keys: readonly Buffer[], msgId: string, timestampSec: number | string, body: string | Buffer): string {
  return keys.map((k) => sign(k, msgId, timestampSec, body)).join(' ');
}

/**
 * Verifies a `webhook-signature` header against one secret, in constant time per candidate.
 * Signatures are compared as base64 text, so a changed character never passes although
 * base64 decoders ignore the unused low bits of the last character.
 */
export function verifySignature(
  key: Buffer,
  msgId: string,
  timestampSec: number | string,
  body: string | Buffer,
  header: string,
): boolean {
  const expected = Buffer.from(sign(key, msgId, timestampSec, body).slice(3));
  for (const part of header.split(' ')) {
    const comma = part.indexOf(',');
    if (comma < 0 || part.slice(0, comma) !== 'v1') continue;
    const got = Buffer.from(part.slice(comma + 1));
    // The length is public (fixed by the algorithm); the bytes are compared in constant time.
    if (got.length === expected.length && timingSafeEqual(got, expected)) return true;
  }
  return false;
}

/** Seconds a webhook timestamp may be off from now, either way, by default. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export type WebhookVerification =
  | { ok: true }
  | { ok: false; reason: 'missing_headers' | 'invalid_timestamp' | 'timestamp_out_of_tolerance' | 'invalid_signature' };

/** The three Standard Webhooks headers of a request. */
export interface WebhookHeaders {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
}

/**
 * Verifies a Standard Webhooks request: the timestamp is within `toleranceSec` of `nowSec`
 * and one of the signatures matches one of the keys (several keys during a rotation).
 * The timestamp is signed as sent, digit for digit.
 */
export function verifyWebhook(
  keys: readonly Buffer[],
  h: WebhookHeaders,
  body: string | Buffer,
  nowSec: number,
  toleranceSec: number = DEFAULT_TOLERANCE_SECONDS,
): WebhookVerification {
  if (!h.id || !h.timestamp || !h.signature) return { ok: false, reason: 'missing_headers' };
  if (!/^[1-9]\d{0,14}$/.test(h.timestamp)) return { ok: false, reason: 'invalid_timestamp' };
  if (Math.abs(nowSec - Number(h.timestamp)) > toleranceSec) return { ok: false, reason: 'timestamp_out_of_tolerance' };
  for (const key of keys) if (verifySignature(key, h.id, h.timestamp, body, h.signature)) return { ok: true };
  return { ok: false, reason: 'invalid_signature' };
}
