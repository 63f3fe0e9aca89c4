/**
 * Standard Webhooks (and Svix, which signs the same way with `svix-*` header names):
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, several
 * space-separated signatures allowed, keyed with the base64 bytes of a `whsec_` secret,
 * `webhook-timestamp` within 5 minutes either way.
 */
import { secretKey, verifySignature } from '../signature.js';
import { invalid } from '../errors.js';
import { OK, header, jsonObject, parseSeconds, refuse, requiredString, stringField, withinTolerance } from './util.js';
import type { InboundRequest, ProviderSpec } from './types.js';

export const STANDARD_TOLERANCE_SEC = 300;

export interface StandardConfig {
  secret: string;
  key: Buffer;
}

/** A `webhook-*` header, or its `svix-*` twin. */
function either(req: InboundRequest, name: string): string | undefined {
  return header(req, `webhook-${name}`) ?? header(req, `svix-${name}`);
}

export const standardWebhooks: ProviderSpec<StandardConfig> = {
  parseConfig(raw) {
    const secret = requiredString(raw, 'secret');
    const b64 = secret.replace(/^whsec_/, '');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || secretKey(secret).length === 0) throw invalid(['body', 'config', 'secret'], 'config.secret must be a base64 secret, optionally prefixed with whsec_');
    return { secret, key: secretKey(secret) };
  },
  publicConfig: () => ({}),
  verify(req, _body, c) {
    const id = either(req, 'id');
    const tsRaw = either(req, 'timestamp');
    const sig = either(req, 'signature');
    if (!id || !tsRaw || !sig) return refuse('missing webhook-id, webhook-timestamp or webhook-signature header');
    const ts = parseSeconds(tsRaw);
    if (ts === null) return refuse('invalid webhook-timestamp header');
    if (!verifySignature(c.key, id, ts, req.body, sig)) return refuse('no webhook-signature matches the payload');
    if (!withinTolerance(ts, req.nowMs, STANDARD_TOLERANCE_SEC)) return refuse(`webhook-timestamp is outside the tolerance of ${STANDARD_TOLERANCE_SEC} s`);
    return OK;
  },
  eventType(_req, body) {
    const j = jsonObject(body);
    return stringField(j, 'type') ?? stringField(j, 'eventType') ?? stringField(j, 'event_type');
  },
  eventId: (req) => either(req, 'id') ?? null,
};
