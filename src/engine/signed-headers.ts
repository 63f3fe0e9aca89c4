/**
 * The headers of a delivery request. The thread that claims the delivery builds them from the
 * endpoint, a transformation and the app's header style; the thread that sends it adds the
 * signatures over the body actually sent (`withSignatures`), so the HMACs are computed
 * beside the socket, on a send worker when there are some.
 */
import { secretKey, signatureHeader } from '../domain/signature.js';
import type { ClaimedDelivery } from '../storage/contract/store.js';

/** What signing a request takes: plain data, so it can cross to a worker thread. */
export interface SignatureInput {
  messageId: string;
  /** Seconds since the epoch, as sent in `webhook-timestamp`. */
  timestamp: number;
  /** The endpoint's secrets active at `timestamp` (`whsec_...`); one signature each. */
  secrets: string[];
  /** The headers that carry the signature (`webhook-signature`, `svix-signature` or both). */
  headers: string[];
}

/** The request headers but the signatures: the endpoint's, a transformation's, then the ids the app's header style names. */
export function deliveryHeaders(c: ClaimedDelivery, nowMs: number, extra: Record<string, string> | null, userAgent: string): { headers: Record<string, string>; signature: SignatureInput } {
  const ts = Math.floor(nowMs / 1000);
  const secrets: string[] = [];
  for (const s of c.endpoint.secrets) if (s.expiresAt === null || s.expiresAt > nowMs) secrets.push(s.key);
  const h: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.endpoint.headers)) h[k.toLowerCase()] = v;
  // Headers set by a transformation take precedence over the endpoint's (never over the signed ones).
  if (extra) for (const [k, v] of Object.entries(extra)) h[k.toLowerCase()] = v;
  h['content-type'] = 'application/json';
  h['user-agent'] = userAgent;
  const style = c.app.headerStyle;
  const signed: string[] = [];
  if (style !== 'svix') {
    h['webhook-id'] = c.message.id;
    h['webhook-timestamp'] = String(ts);
    signed.push('webhook-signature');
  }
  if (style !== 'standard') {
    h['svix-id'] = c.message.id;
    h['svix-timestamp'] = String(ts);
    signed.push('svix-signature');
  }
  return { headers: h, signature: { messageId: c.message.id, timestamp: ts, secrets, headers: signed } };
}

/** The headers with the signature headers added: one `v1,` signature per secret over `body`. */
export function withSignatures(headers: Record<string, string>, s: SignatureInput, body: string): Record<string, string> {
  const sig = signatureHeader(s.secrets.map(secretKey), s.messageId, s.timestamp, body);
  const out = { ...headers };
  for (const name of s.headers) out[name] = sig;
  return out;
}
