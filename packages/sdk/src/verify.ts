/**
 * Webhook verification for any framework: give it the raw body, the headers and the
 * endpoint secret. Standard Webhooks (`webhook-*`) and `svix-*` header names; several
 * signatures (during secret rotation); a timestamp tolerance against replays. Uses Web
 * Crypto, so it runs on Node.js, Deno, Bun, browsers and edge runtimes.
 */

export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

/** Headers as a `Headers` object or a plain record (Node's `req.headers`, any case). */
export type HeaderSource = Headers | Record<string, string | readonly string[] | undefined>;

export interface VerifyOptions {
  /** How far the signed timestamp may be from now (default 300 s); 0 does not check. */
  toleranceSeconds?: number;
  /** The current time (tests). */
  now?: Date;
}

const enc = new TextEncoder();

function header(h: HeaderSource, name: string): string | undefined {
  if (typeof (h as Headers).get === 'function') return (h as Headers).get(name) ?? undefined;
  for (const [k, v] of Object.entries(h as Record<string, string | readonly string[] | undefined>)) {
    if (k.toLowerCase() === name) return Array.isArray(v) ? (v as readonly string[])[0] : (v as string | undefined);
  }
  return undefined;
}

function base64ToBytes(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function bytesToBase64(bytes: Uint8Array): string {
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** Compares without an early exit, so timing does not tell how much matched. */
function equal(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** The expected `v1,` signature of a message. */
export async function signature(secret: string, id: string, timestampSeconds: number, body: string | Uint8Array): Promise<string> {
  let key: Uint8Array<ArrayBuffer>;
  try {
    key = base64ToBytes(secret.startsWith('whsec_') ? secret.slice(6) : secret);
  } catch {
    throw new WebhookVerificationError('the secret is not valid base64');
  }
  const k = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const bodyBytes = typeof body === 'string' ? enc.encode(body) : body;
  const prefix = enc.encode(`${id}.${timestampSeconds}.`);
  const signed = new Uint8Array(prefix.length + bodyBytes.length);
  signed.set(prefix);
  signed.set(bodyBytes, prefix.length);
  return 'v1,' + bytesToBase64(new Uint8Array(await crypto.subtle.sign('HMAC', k, signed)));
}

/**
 * Verifies a webhook and returns its parsed JSON payload; throws WebhookVerificationError
 * if a header is missing, the timestamp is too old or too new, or no signature matches.
 * Pass the body exactly as received (the raw bytes or text, not re-serialised JSON).
 */
export async function verifyWebhook<T = unknown>(secret: string, body: string | Uint8Array, headers: HeaderSource, o: VerifyOptions = {}): Promise<T> {
  const id = header(headers, 'webhook-id') ?? header(headers, 'svix-id');
  const ts = header(headers, 'webhook-timestamp') ?? header(headers, 'svix-timestamp');
  const sigs = header(headers, 'webhook-signature') ?? header(headers, 'svix-signature');
  if (!id || !ts || !sigs) throw new WebhookVerificationError('missing webhook-id, webhook-timestamp or webhook-signature header');
  if (!/^\d{1,12}$/.test(ts)) throw new WebhookVerificationError('invalid webhook-timestamp');
  const seconds = Number(ts);
  const tolerance = o.toleranceSeconds ?? 300;
  const now = (o.now ?? new Date()).getTime() / 1000;
  if (tolerance > 0 && seconds < now - tolerance) throw new WebhookVerificationError('the webhook timestamp is too old');
  if (tolerance > 0 && seconds > now + tolerance) throw new WebhookVerificationError('the webhook timestamp is in the future');
  const expected = (await signature(secret, id, seconds, body)).slice(3);
  const ok = sigs.split(' ').some((part) => {
    const [version, sig] = part.split(',', 2);
    return version === 'v1' && sig !== undefined && equal(sig, expected);
  });
  if (!ok) throw new WebhookVerificationError('no matching signature');
  const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new WebhookVerificationError('the body is not JSON');
  }
}
