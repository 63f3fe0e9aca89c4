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
export function sign(key: Buffer, msgId: string, timestampSec: number, body: string | Buffer): string {
  const h = createHmac('sha256', key);
  h.update(`${msgId}.${timestampSec}.`);
  h.update(body);
  return 'v1,' + h.digest('base64');
}

/** The `webhook-signature` header value: one signature per active key, space-separated. */
export function signatureHeader(keys: readonly Buffer[], msgId: string, timestampSec: number, body: string | Buffer): string {
  return keys.map((k) => sign(k, msgId, timestampSec, body)).join(' ');
}

/** Verifies a `webhook-signature` header against one secret, in constant time per candidate. */
export function verifySignature(
  key: Buffer,
  msgId: string,
  timestampSec: number,
  body: string | Buffer,
  header: string,
): boolean {
  const expected = Buffer.from(sign(key, msgId, timestampSec, body).slice(3), 'base64');
  for (const part of header.split(' ')) {
    const [version, sig] = part.split(',', 2);
    if (version !== 'v1' || !sig) continue;
    const got = Buffer.from(sig, 'base64');
    if (got.length === expected.length && timingSafeEqual(got, expected)) return true;
  }
  return false;
}
