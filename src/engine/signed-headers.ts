/** The headers of a delivery request, signed over the body actually sent. */
import { secretKey, signatureHeader } from '../domain/signature.js';
import type { ClaimedDelivery } from '../storage/contract/store.js';

/** The request headers: the endpoint's, a transformation's, then the signed ones the app's header style names. */
export function signedHeaders(c: ClaimedDelivery, nowMs: number, body: string, extra: Record<string, string> | null, userAgent: string): Record<string, string> {
  const ts = Math.floor(nowMs / 1000);
  const keys = c.endpoint.secrets.filter((s) => s.expiresAt === null || s.expiresAt > nowMs).map((s) => secretKey(s.key));
  const sig = signatureHeader(keys, c.message.id, ts, body);
  const h: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.endpoint.headers)) h[k.toLowerCase()] = v;
  // Headers set by a transformation take precedence over the endpoint's (never over the signed ones).
  if (extra) for (const [k, v] of Object.entries(extra)) h[k.toLowerCase()] = v;
  h['content-type'] = 'application/json';
  h['user-agent'] = userAgent;
  const style = c.app.headerStyle;
  if (style !== 'svix') {
    h['webhook-id'] = c.message.id;
    h['webhook-timestamp'] = String(ts);
    h['webhook-signature'] = sig;
  }
  if (style !== 'standard') {
    h['svix-id'] = c.message.id;
    h['svix-timestamp'] = String(ts);
    h['svix-signature'] = sig;
  }
  return h;
}
