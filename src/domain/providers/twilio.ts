/**
 * Twilio: `X-Twilio-Signature: <base64 HMAC of the full URL followed by every form
 * parameter name and value, sorted by name>`, keyed with the auth token; HMAC-SHA1, or
 * HMAC-SHA256 when `X-Twilio-Webhooks-Signature-Settings` says `algorithm=HMAC_SHA256`.
 * JSON bodies are signed over the URL alone, whose `bodySHA256` query parameter must be
 * the hex SHA-256 of the body. The URL is checked with and without the default port, as
 * proxies add or drop it.
 */
import { createHash } from 'node:crypto';
import { OK, header, hmac, refuse, requiredString, safeEqual } from './util.js';
import type { ProviderSpec } from './types.js';

export interface TwilioConfig {
  secret: string;
}

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The signed string: the URL, then `name` + `value` of each parameter, names sorted, values sorted and unique. */
export function twilioSignedData(url: string, params: URLSearchParams | null): string {
  if (!params) return url;
  const names = [...new Set(params.keys())].sort(byCodeUnit);
  let data = url;
  for (const name of names) for (const v of [...new Set(params.getAll(name))].sort(byCodeUnit)) data += name + v;
  return data;
}

/** The URL with and without its scheme's default port. */
export function portVariants(url: string): string[] {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/is.exec(url);
  if (!m) return [url];
  const [, scheme, authority, rest] = m as unknown as [string, string, string, string];
  const portAt = authority.indexOf(':', authority.lastIndexOf(']') + 1);
  const host = portAt < 0 ? authority : authority.slice(0, portAt);
  const defaultPort = scheme.toLowerCase() === 'https://' ? ':443' : ':80';
  return [...new Set([scheme + host + rest, scheme + host + defaultPort + rest, url])];
}

function algorithmOf(settings: string | undefined): 'sha1' | 'sha256' | null {
  for (const part of (settings ?? '').split(',')) {
    const [k, v] = part.split('=', 2).map((s) => s.trim());
    if (k === 'algorithm' && v) return v.toUpperCase() === 'HMAC_SHA256' ? 'sha256' : v.toUpperCase() === 'HMAC_SHA1' ? 'sha1' : null;
  }
  return 'sha1';
}

export const twilio: ProviderSpec<TwilioConfig> = {
  parseConfig: (raw) => ({ secret: requiredString(raw, 'secret') }),
  publicConfig: () => ({}),
  verify(req, body, c) {
    const sig = header(req, 'x-twilio-signature');
    if (!sig) return refuse('missing X-Twilio-Signature header');
    const algorithm = algorithmOf(header(req, 'x-twilio-webhooks-signature-settings'));
    if (!algorithm) return refuse('unsupported algorithm in X-Twilio-Webhooks-Signature-Settings');
    let bodyHash: string | null = null;
    try {
      bodyHash = new URL(req.url).searchParams.get('bodySHA256');
    } catch {
      return refuse('request URL cannot be parsed');
    }
    const params = bodyHash === null ? body.form : null;
    const matches = portVariants(req.url).some((u) => safeEqual(sig.trim(), hmac(algorithm, c.secret, [twilioSignedData(u, params)]).toString('base64')));
    if (!matches) return refuse('X-Twilio-Signature does not match the URL and parameters');
    if (bodyHash !== null && !safeEqual(bodyHash, createHash('sha256').update(req.body).digest('hex'))) {
      return refuse('bodySHA256 does not match the body');
    }
    return OK;
  },
  eventType(_req, body) {
    const f = body.form;
    const status = f?.get('MessageStatus') ?? f?.get('SmsStatus');
    if (status) return `message.${status}`;
    const call = f?.get('CallStatus');
    if (call) return `call.${call}`;
    return null;
  },
  eventId: (req) => header(req, 'i-twilio-idempotency-token') ?? null,
};
