/**
 * Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256 of the raw body>` keyed with the
 * app's client secret. The topic (`orders/create`) is the event type.
 */
import { OK, header, hmac, refuse, requiredString, safeEqual } from './util.js';
import type { ProviderSpec } from './types.js';

export interface ShopifyConfig {
  secret: string;
}

export const shopify: ProviderSpec<ShopifyConfig> = {
  parseConfig: (raw) => ({ secret: requiredString(raw, 'secret') }),
  publicConfig: () => ({}),
  verify(req, _body, c) {
    const h = header(req, 'x-shopify-hmac-sha256');
    if (!h) return refuse('missing X-Shopify-Hmac-Sha256 header');
    const expected = hmac('sha256', c.secret, [req.body]).toString('base64');
    return safeEqual(h.trim(), expected) ? OK : refuse('X-Shopify-Hmac-Sha256 does not match the payload');
  },
  eventType: (req) => header(req, 'x-shopify-topic') ?? null,
  eventId: (req) => header(req, 'x-shopify-webhook-id') ?? header(req, 'x-shopify-event-id') ?? null,
};
