/**
 * Stripe: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]`, each v1 an
 * HMAC-SHA256 keyed with the endpoint secret (the whole `whsec_...` string) over
 * `<t>.<raw body>`. Any v1 may match (Stripe sends several while a secret rolls);
 * the timestamp must be within 300 s.
 */
import { OK, header, hmac, jsonObject, refuse, requiredString, safeEqual, stringField, withinTolerance } from './util.js';
import type { ProviderSpec } from './types.js';

export const STRIPE_TOLERANCE_SEC = 300;

export interface StripeConfig {
  secret: string;
}

export const stripe: ProviderSpec<StripeConfig> = {
  parseConfig: (raw) => ({ secret: requiredString(raw, 'secret') }),
  publicConfig: () => ({}),
  verify(req, _body, c) {
    const h = header(req, 'stripe-signature');
    if (!h) return refuse('missing Stripe-Signature header');
    let t: string | undefined;
    const v1: string[] = [];
    for (const part of h.split(',')) {
      const eq = part.indexOf('=');
      if (eq < 0) continue;
      const k = part.slice(0, eq).trim();
      const v = part.slice(eq + 1).trim();
      if (k === 't' && t === undefined) t = v;
      else if (k === 'v1') v1.push(v);
    }
    if (t === undefined || !/^\d{1,12}$/.test(t)) return refuse('Stripe-Signature header has no valid timestamp');
    if (v1.length === 0) return refuse('Stripe-Signature header has no v1 signature');
    const expected = hmac('sha256', c.secret, [t, '.', req.body]).toString('hex');
    if (!v1.some((s) => safeEqual(s, expected))) return refuse('no Stripe-Signature v1 signature matches the payload');
    if (!withinTolerance(Number(t), req.nowMs, STRIPE_TOLERANCE_SEC)) return refuse(`Stripe-Signature timestamp is outside the tolerance of ${STRIPE_TOLERANCE_SEC} s`);
    return OK;
  },
  eventType: (_req, body) => stringField(jsonObject(body), 'type'),
  eventId: (_req, body) => stringField(jsonObject(body), 'id'),
};
