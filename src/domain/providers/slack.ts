/**
 * Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:<timestamp>:<raw body>">` keyed
 * with the signing secret, `X-Slack-Request-Timestamp` within 5 minutes. Events API
 * bodies are JSON; slash commands and interactivity are forms. A verified
 * `url_verification` request is answered with its challenge and not forwarded.
 */
import { OK, header, hmac, jsonObject, parseSeconds, refuse, requiredString, safeEqual, stringField, withinTolerance } from './util.js';
import type { ParsedBody, ProviderSpec } from './types.js';

export const SLACK_TOLERANCE_SEC = 300;

export interface SlackConfig {
  secret: string;
}

/** The JSON of an interactivity form post (`payload=<json>`), if it is one. */
function interactive(body: ParsedBody): Record<string, unknown> | null {
  const p = body.form?.get('payload');
  if (!p) return null;
  try {
    const v = JSON.parse(p) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export const slack: ProviderSpec<SlackConfig> = {
  parseConfig: (raw) => ({ secret: requiredString(raw, 'secret') }),
  publicConfig: () => ({}),
  verify(req, _body, c) {
    const sig = header(req, 'x-slack-signature');
    if (!sig) return refuse('missing X-Slack-Signature header');
    const tsRaw = header(req, 'x-slack-request-timestamp');
    const ts = parseSeconds(tsRaw);
    if (ts === null) return refuse('missing or invalid X-Slack-Request-Timestamp header');
    const expected = 'v0=' + hmac('sha256', c.secret, [`v0:${tsRaw!.trim()}:`, req.body]).toString('hex');
    if (!safeEqual(sig.trim(), expected)) return refuse('X-Slack-Signature does not match the payload');
    if (!withinTolerance(ts, req.nowMs, SLACK_TOLERANCE_SEC)) return refuse(`X-Slack-Request-Timestamp is outside the tolerance of ${SLACK_TOLERANCE_SEC} s`);
    return OK;
  },
  eventType(_req, body) {
    const j = jsonObject(body);
    if (j) {
      const type = stringField(j, 'type');
      if (type === 'event_callback') {
        const ev = j.event;
        const inner = ev !== null && typeof ev === 'object' ? stringField(ev as Record<string, unknown>, 'type') : null;
        return inner ?? type;
      }
      return type;
    }
    const i = interactive(body);
    if (i) return stringField(i, 'type');
    if (body.form?.get('command')) return 'slash_command';
    return null;
  },
  eventId(_req, body) {
    return stringField(jsonObject(body), 'event_id');
  },
  challenge(_req, body) {
    const j = jsonObject(body);
    if (!j || stringField(j, 'type') !== 'url_verification') return null;
    return { contentType: 'application/json', body: JSON.stringify({ challenge: stringField(j, 'challenge') ?? '' }) };
  },
};
