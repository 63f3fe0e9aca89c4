/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>` keyed with the
 * webhook secret. The legacy SHA-1 header is not accepted. A source without a secret is
 * not verified (GitHub sends no signature then).
 */
import { OK, header, hmac, optionalString, refuse, safeEqual } from './util.js';
import type { ProviderSpec } from './types.js';

export interface GithubConfig {
  secret: string | null;
}

export const github: ProviderSpec<GithubConfig> = {
  parseConfig: (raw) => ({ secret: optionalString(raw, 'secret') }),
  publicConfig: () => ({}),
  verify(req, _body, c) {
    if (c.secret === null) return OK;
    const h = header(req, 'x-hub-signature-256');
    if (!h) return refuse('missing X-Hub-Signature-256 header');
    const expected = 'sha256=' + hmac('sha256', c.secret, [req.body]).toString('hex');
    return safeEqual(h.trim(), expected) ? OK : refuse('X-Hub-Signature-256 does not match the payload');
  },
  eventType: (req) => header(req, 'x-github-event') ?? null,
  eventId: (req) => header(req, 'x-github-delivery') ?? null,
};
