/**
 * Provider verifiers, against each provider's own signing code where one exists: any
 * alteration (secret, body, timestamp, header, URL) is refused, with a reason.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import Stripe from 'stripe';
import twilio from 'twilio';
import { sign as githubSign } from '@octokit/webhooks-methods';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { Webhook as SvixWebhook } from 'svix';
import { AppError } from '../../src/domain/errors.js';
import { providerOf } from '../../src/domain/providers/index.js';
import { formObject, messagePayload, parseBody } from '../../src/domain/providers/body.js';
import { parsePath, toEventType, valueAt } from '../../src/domain/providers/mapping.js';
import { parseTemplate } from '../../src/domain/providers/generic.js';
import { portVariants } from '../../src/domain/providers/twilio.js';
import type { InboundRequest, Verification } from '../../src/domain/providers/types.js';

const NOW = 1_700_000_000_000;
const NOW_S = NOW / 1000;

interface Req {
  body: string | Buffer;
  headers?: Record<string, string>;
  url?: string;
  now?: number;
}

function request(r: Req): InboundRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = v;
  return { body: Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body), headers, url: r.url ?? 'https://hooks.example.com/ingest/in/tok', nowMs: r.now ?? NOW };
}

/** Parses the config and verifies the request the way the ingest service does. */
function check(type: string, config: Record<string, unknown>, r: Req): Verification {
  const spec = providerOf(type)!;
  const req = request(r);
  return spec.verify(req, parseBody(req.body, req.headers['content-type']), spec.parseConfig(config));
}

function refused(v: Verification, reason: RegExp): void {
  assert.equal(v.ok, false, 'refused');
  if (!v.ok) assert.match(v.reason, reason);
}

describe('Stripe (signed with stripe.webhooks.generateTestHeaderString)', () => {
  const secret = 'whsec_test_secret_for_switchboard';
  const payload = JSON.stringify({ id: 'evt_1', type: 'payment_intent.succeeded', data: { object: { amount: 2000 } } });
  const header = (p = payload, s = secret, timestamp = NOW_S) => Stripe.webhooks.generateTestHeaderString({ payload: p, secret: s, timestamp });

  it('accepts what Stripe signs, and agrees with Stripe\u2019s own verifier', () => {
    const h = header();
    assert.deepEqual(check('stripe', { secret }, { body: payload, headers: { 'Stripe-Signature': h } }), { ok: true });
    const event = Stripe.webhooks.constructEvent(payload, h, secret, 300, undefined, NOW_S);
    assert.equal(event.id, 'evt_1');
  });

  it('accepts any of several v1 signatures (secret rolling)', () => {
    const good = header().split(',v1=')[1]!;
    const h = `t=${NOW_S},v1=${'0'.repeat(64)},v1=${good},v0=ignored`;
    assert.deepEqual(check('stripe', { secret }, { body: payload, headers: { 'stripe-signature': h } }), { ok: true });
  });

  it('refuses a wrong secret, a tampered body, a stale or future timestamp, a missing or malformed header', () => {
    refused(check('stripe', { secret }, { body: payload, headers: { 'stripe-signature': header(payload, 'whsec_other') } }), /no Stripe-Signature v1 signature matches/);
    refused(check('stripe', { secret }, { body: payload.replace('2000', '2001'), headers: { 'stripe-signature': header() } }), /matches/);
    refused(check('stripe', { secret }, { body: payload, headers: { 'stripe-signature': header(payload, secret, NOW_S - 301) } }), /tolerance of 300 s/);
    refused(check('stripe', { secret }, { body: payload, headers: { 'stripe-signature': header(payload, secret, NOW_S + 301) } }), /tolerance/);
    assert.deepEqual(check('stripe', { secret }, { body: payload, headers: { 'stripe-signature': header(payload, secret, NOW_S - 299) } }), { ok: true });
    refused(check('stripe', { secret }, { body: payload }), /missing Stripe-Signature/);
    refused(check('stripe', { secret }, { body: payload, headers: { 'stripe-signature': 'v1=abc' } }), /no valid timestamp/);
    refused(check('stripe', { secret }, { body: payload, headers: { 'stripe-signature': `t=${NOW_S}` } }), /no v1 signature/);
  });

  it('takes the event type and id from the event', () => {
    const spec = providerOf('stripe')!;
    const req = request({ body: payload });
    const body = parseBody(req.body, 'application/json');
    assert.equal(spec.eventType(req, body, null), 'payment_intent.succeeded');
    assert.equal(spec.eventId(req, body, null), 'evt_1');
  });

  it('needs a secret', () => {
    assert.throws(() => providerOf('stripe')!.parseConfig({}), (e: unknown) => e instanceof AppError && e.status === 422);
  });
});

describe('GitHub (signed with @octokit/webhooks-methods)', () => {
  const secret = 'gh-secret';
  const payload = JSON.stringify({ action: 'opened', number: 1 });

  it('accepts what octokit signs', async () => {
    const sig = await githubSign(secret, payload);
    assert.deepEqual(check('github', { secret }, { body: payload, headers: { 'X-Hub-Signature-256': sig } }), { ok: true });
  });

  it('passes GitHub\u2019s published test vector', () => {
    const v = check('github', { secret: "It's a Secret to Everybody" }, {
      body: 'Hello, World!',
      headers: { 'x-hub-signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' },
    });
    assert.deepEqual(v, { ok: true });
  });

  it('refuses a wrong secret, a tampered body, a missing header, the SHA-1 header alone', async () => {
    refused(check('github', { secret }, { body: payload, headers: { 'x-hub-signature-256': await githubSign('other', payload) } }), /does not match/);
    refused(check('github', { secret }, { body: payload + ' ', headers: { 'x-hub-signature-256': await githubSign(secret, payload) } }), /does not match/);
    refused(check('github', { secret }, { body: payload }), /missing X-Hub-Signature-256/);
    const sha1 = 'sha1=' + createHmac('sha1', secret).update(payload).digest('hex');
    refused(check('github', { secret }, { body: payload, headers: { 'x-hub-signature': sha1 } }), /missing X-Hub-Signature-256/);
  });

  it('takes the event from X-GitHub-Event and the id from X-GitHub-Delivery', () => {
    const spec = providerOf('github')!;
    const req = request({ body: payload, headers: { 'X-GitHub-Event': 'pull_request', 'X-GitHub-Delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' } });
    const body = parseBody(req.body, 'application/json');
    assert.equal(spec.eventType(req, body, null), 'pull_request');
    assert.equal(spec.eventId(req, body, null), '72d3162e-cc78-11e3-81ab-4c9367dc0958');
  });
});

describe('Shopify (the documented algorithm: base64 HMAC-SHA256 of the body)', () => {
  // No small official signer exists (@shopify/shopify-api is a whole app framework); this is the algorithm as documented.
  const secret = 'shpss_secret';
  const payload = JSON.stringify({ id: 820982911946154500, email: 'jon@example.com' });
  const shopifySign = (body: string, key = secret) => createHmac('sha256', key).update(body, 'utf8').digest('base64');

  it('accepts a signed body, refuses alterations', () => {
    assert.deepEqual(check('shopify', { secret }, { body: payload, headers: { 'X-Shopify-Hmac-Sha256': shopifySign(payload) } }), { ok: true });
    refused(check('shopify', { secret }, { body: payload, headers: { 'X-Shopify-Hmac-Sha256': shopifySign(payload, 'other') } }), /does not match/);
    refused(check('shopify', { secret }, { body: payload.replace('jon', 'jim'), headers: { 'X-Shopify-Hmac-Sha256': shopifySign(payload) } }), /does not match/);
    refused(check('shopify', { secret }, { body: payload }), /missing X-Shopify-Hmac-Sha256/);
  });

  it('maps the topic to an event type', () => {
    const spec = providerOf('shopify')!;
    const req = request({ body: payload, headers: { 'X-Shopify-Topic': 'orders/create', 'X-Shopify-Webhook-Id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043' } });
    const body = parseBody(req.body, 'application/json');
    assert.equal(toEventType(spec.eventType(req, body, null), 'webhook'), 'orders.create');
    assert.equal(spec.eventId(req, body, null), 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043');
  });
});

describe('Slack (the published algorithm: v0=HMAC-SHA256 of "v0:ts:body")', () => {
  // Slack publishes the algorithm, not a standalone signer; this is it, step by step.
  const secret = '8f742231b10e8888abcd99yyyzzz85a5';
  const slackSign = (body: string, ts: number, key = secret) => 'v0=' + createHmac('sha256', key).update(`v0:${ts}:${body}`).digest('hex');
  const event = JSON.stringify({ type: 'event_callback', event_id: 'Ev0PV52K21', event: { type: 'app_mention', text: 'hi' } });

  it('accepts a signed request within 5 minutes, refuses alterations', () => {
    const h = (body: string, ts: number, key?: string) => ({ 'x-slack-signature': slackSign(body, ts, key), 'x-slack-request-timestamp': String(ts), 'content-type': 'application/json' });
    assert.deepEqual(check('slack', { secret }, { body: event, headers: h(event, NOW_S - 299) }), { ok: true });
    refused(check('slack', { secret }, { body: event, headers: h(event, NOW_S - 301) }), /tolerance of 300 s/);
    refused(check('slack', { secret }, { body: event, headers: h(event, NOW_S, 'other') }), /does not match/);
    refused(check('slack', { secret }, { body: event + ' ', headers: h(event, NOW_S) }), /does not match/);
    refused(check('slack', { secret }, { body: event, headers: { 'x-slack-signature': slackSign(event, NOW_S) } }), /X-Slack-Request-Timestamp/);
    // The timestamp is signed: changing it breaks the signature.
    refused(check('slack', { secret }, { body: event, headers: { ...h(event, NOW_S), 'x-slack-request-timestamp': String(NOW_S + 1) } }), /does not match/);
  });

  it('verifies form bodies (slash commands) over their exact bytes', () => {
    const form = 'token=x&team_id=T1&command=%2Fweather&text=94070&trigger_id=13345224609.738474920.8088930838d88f008e0';
    const headers = { 'x-slack-signature': slackSign(form, NOW_S), 'x-slack-request-timestamp': String(NOW_S), 'content-type': 'application/x-www-form-urlencoded' };
    assert.deepEqual(check('slack', { secret }, { body: form, headers }), { ok: true });
    const spec = providerOf('slack')!;
    const req = request({ body: form, headers });
    assert.equal(spec.eventType(req, parseBody(req.body, headers['content-type']), null), 'slash_command');
  });

  it('answers url_verification with its challenge; events get their type and id', () => {
    const spec = providerOf('slack')!;
    const challenge = JSON.stringify({ token: 't', challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P', type: 'url_verification' });
    const req = request({ body: challenge });
    assert.deepEqual(spec.challenge!(req, parseBody(req.body, 'application/json'), null), {
      contentType: 'application/json',
      body: JSON.stringify({ challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' }),
    });
    const ev = request({ body: event });
    const body = parseBody(ev.body, 'application/json');
    assert.equal(spec.challenge!(ev, body, null), null);
    assert.equal(spec.eventType(ev, body, null), 'app_mention');
    assert.equal(spec.eventId(ev, body, null), 'Ev0PV52K21');
  });
});

describe('Twilio (signed with twilio.getExpectedTwilioSignature)', () => {
  const token = '12345abcdef';
  const url = 'https://hooks.example.com/ingest/in/tok?x=1';
  const params = { CallSid: 'CA1234567890ABCDE', Caller: '+12349013030', Digits: '1234', From: '+12349013030', To: '+18005551212' };
  const form = new URLSearchParams(params).toString();
  const formHeaders = (sig: string) => ({ 'x-twilio-signature': sig, 'content-type': 'application/x-www-form-urlencoded' });

  it('accepts form posts signed over URL and sorted parameters; Twilio\u2019s validator agrees', () => {
    const sig = twilio.getExpectedTwilioSignature(token, url, params);
    assert.ok(twilio.validateRequest(token, sig, url, params));
    assert.deepEqual(check('twilio', { secret: token }, { body: form, url, headers: formHeaders(sig) }), { ok: true });
  });

  it('accepts repeated parameters as Twilio signs them', () => {
    const multi = 'To=%2B1&Media=b&Media=a&Media=b';
    const sig = twilio.getExpectedTwilioSignature(token, url, { To: '+1', Media: ['b', 'a', 'b'] });
    assert.deepEqual(check('twilio', { secret: token }, { body: multi, url, headers: formHeaders(sig) }), { ok: true });
  });

  it('accepts the URL with or without its default port (proxies add or drop it)', () => {
    const withPort = 'https://hooks.example.com:443/ingest/in/tok?x=1';
    const sig = twilio.getExpectedTwilioSignature(token, withPort, params);
    assert.deepEqual(check('twilio', { secret: token }, { body: form, url, headers: formHeaders(sig) }), { ok: true });
    assert.deepEqual(portVariants('http://h/x'), ['http://h/x', 'http://h:80/x']);
  });

  it('accepts HMAC-SHA256 when the signature settings header names it', () => {
    const sig = twilio.getExpectedTwilioSignature(token, url, params, 'HMAC_SHA256');
    const headers = { ...formHeaders(sig), 'x-twilio-webhooks-signature-settings': 'key=webhooks_sharedkey_1,algorithm=HMAC_SHA256' };
    assert.deepEqual(check('twilio', { secret: token }, { body: form, url, headers }), { ok: true });
    refused(check('twilio', { secret: token }, { body: form, url, headers: formHeaders(sig) }), /does not match/);
  });

  it('accepts JSON bodies signed over the URL with bodySHA256', () => {
    const json = JSON.stringify({ event: 'x', n: 1 });
    const jsonUrl = `https://hooks.example.com/ingest/in/tok?bodySHA256=${twilio.getExpectedBodyHash(json)}`;
    const sig = twilio.getExpectedTwilioSignature(token, jsonUrl, {});
    assert.ok(twilio.validateRequestWithBody(token, sig, jsonUrl, json));
    const headers = { 'x-twilio-signature': sig, 'content-type': 'application/json' };
    assert.deepEqual(check('twilio', { secret: token }, { body: json, url: jsonUrl, headers }), { ok: true });
    refused(check('twilio', { secret: token }, { body: json.replace('1', '2'), url: jsonUrl, headers }), /bodySHA256 does not match/);
  });

  it('refuses a wrong token, a changed parameter, another URL, a missing header', () => {
    const sig = twilio.getExpectedTwilioSignature(token, url, params);
    refused(check('twilio', { secret: 'other' }, { body: form, url, headers: formHeaders(sig) }), /does not match/);
    refused(check('twilio', { secret: token }, { body: form.replace('1234&', '1235&'), url, headers: formHeaders(sig) }), /does not match/);
    refused(check('twilio', { secret: token }, { body: form, url: url + '&y=2', headers: formHeaders(sig) }), /does not match/);
    refused(check('twilio', { secret: token }, { body: form, url }), /missing X-Twilio-Signature/);
  });

  it('takes the event type from the status and the id from I-Twilio-Idempotency-Token', () => {
    const spec = providerOf('twilio')!;
    const req = request({ body: 'MessageSid=SM1&MessageStatus=delivered', headers: { 'I-Twilio-Idempotency-Token': 'idem-1' } });
    const body = parseBody(req.body, 'application/x-www-form-urlencoded');
    assert.equal(spec.eventType(req, body, null), 'message.delivered');
    assert.equal(spec.eventId(req, body, null), 'idem-1');
  });
});

describe('Standard Webhooks and Svix (signed with standardwebhooks and svix)', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const payload = JSON.stringify({ type: 'user.created', data: { id: 'u1' } });

  it('accepts what standardwebhooks signs, under webhook-* headers', () => {
    const sig = new StandardWebhook(secret).sign('msg_1', new Date(NOW), payload);
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(NOW_S), 'webhook-signature': sig };
    assert.deepEqual(check('standard-webhooks', { secret }, { body: payload, headers }), { ok: true });
  });

  it('accepts what svix signs, under svix-* headers, for every Svix-signed provider type', () => {
    const sig = new SvixWebhook(secret).sign('msg_2', new Date(NOW), payload);
    const headers = { 'svix-id': 'msg_2', 'svix-timestamp': String(NOW_S), 'svix-signature': sig };
    for (const type of ['svix', 'clerk', 'resend', 'open-ai', 'replicate']) assert.deepEqual(check(type, { secret }, { body: payload, headers }), { ok: true }, type);
  });

  it('accepts any one of several signatures', () => {
    const good = new StandardWebhook(secret).sign('msg_1', new Date(NOW), payload);
    const other = new StandardWebhook('whsec_' + Buffer.alloc(24, 7).toString('base64')).sign('msg_1', new Date(NOW), payload);
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(NOW_S), 'webhook-signature': `${other} ${good}` };
    assert.deepEqual(check('svix', { secret }, { body: payload, headers }), { ok: true });
  });

  it('refuses a wrong secret, a changed id or body, a stale or future timestamp, missing headers', () => {
    const sig = (id: string, at: number) => new StandardWebhook(secret).sign(id, new Date(at), payload);
    const h = (id: string, at: number, s = sig(id, at)) => ({ 'webhook-id': id, 'webhook-timestamp': String(Math.floor(at / 1000)), 'webhook-signature': s });
    refused(check('svix', { secret: 'whsec_' + Buffer.alloc(24, 1).toString('base64') }, { body: payload, headers: h('msg_1', NOW) }), /no webhook-signature matches/);
    refused(check('svix', { secret }, { body: payload, headers: { ...h('msg_1', NOW), 'webhook-id': 'msg_2' } }), /matches/);
    refused(check('svix', { secret }, { body: payload + '\n', headers: h('msg_1', NOW) }), /matches/);
    refused(check('svix', { secret }, { body: payload, headers: h('msg_1', NOW - 301_000) }), /tolerance of 300 s/);
    refused(check('svix', { secret }, { body: payload, headers: h('msg_1', NOW + 301_000) }), /tolerance/);
    refused(check('svix', { secret }, { body: payload, headers: { 'webhook-id': 'msg_1' } }), /missing/);
  });

  it('refuses a secret that is not base64', () => {
    assert.throws(() => providerOf('svix')!.parseConfig({ secret: 'whsec_not base64!' }), (e: unknown) => e instanceof AppError && e.status === 422);
  });
});

describe('generic-hmac', () => {
  const body = JSON.stringify({ id: 'e1', kind: 'thing.done', data: { id: 7 } });

  it('verifies hex or base64 HMACs with a prefix, several algorithms', () => {
    for (const algorithm of ['sha1', 'sha256', 'sha512'] as const) {
      for (const encoding of ['hex', 'base64'] as const) {
        const sig = 'sig=' + createHmac(algorithm, 's3cret').update(body).digest(encoding);
        const config = { secret: 's3cret', header: 'X-Sig', algorithm, encoding, prefix: 'sig=' };
        assert.deepEqual(check('generic-hmac', config, { body, headers: { 'x-sig': sig } }), { ok: true }, `${algorithm}/${encoding}`);
        refused(check('generic-hmac', config, { body: body + ' ', headers: { 'x-sig': sig } }), /does not match/);
        refused(check('generic-hmac', config, { body, headers: { 'x-sig': sig.slice(4) } }), /does not match/);
      }
    }
  });

  it('signs a timestamp with the body when configured, within a tolerance', () => {
    const config = { secret: 'k', header: 'x-signature', timestampHeader: 'x-timestamp', toleranceSecs: 60, signedContent: '{timestamp}:{header:x-id}:{body}' };
    const at = (t: number, id = 'r1') => ({ 'x-timestamp': String(t), 'x-id': id, 'x-signature': createHmac('sha256', 'k').update(`${t}:${id}:${body}`).digest('hex') });
    assert.deepEqual(check('generic-hmac', config, { body, headers: at(NOW_S) }), { ok: true });
    refused(check('generic-hmac', config, { body, headers: at(NOW_S - 61) }), /tolerance of 60 s/);
    refused(check('generic-hmac', config, { body, headers: { ...at(NOW_S), 'x-id': 'r2' } }), /does not match/);
    refused(check('generic-hmac', config, { body, headers: { ...at(NOW_S), 'x-timestamp': String(NOW_S + 1) } }), /does not match/);
  });

  it('takes a base64 secret when told, and accepts any of several signatures', () => {
    const key = Buffer.from('binary-key-bytes');
    const config = { secret: key.toString('base64'), secretEncoding: 'base64', header: 'x-sig', encoding: 'base64' };
    const sig = createHmac('sha256', key).update(body).digest('base64');
    assert.deepEqual(check('generic-hmac', config, { body, headers: { 'x-sig': `bogus, ${sig}` } }), { ok: true });
  });

  it('refuses bad configs with a 422', () => {
    const bad = (c: Record<string, unknown>) => assert.throws(() => providerOf('generic-hmac')!.parseConfig(c), (e: unknown) => e instanceof AppError && e.status === 422);
    bad({ header: 'x' });
    bad({ secret: 's' });
    bad({ secret: 's', header: 'x', algorithm: 'md5' });
    bad({ secret: 's', header: 'x', signedContent: '{timestamp}.{body}' });
    bad({ secret: 's', header: 'x', signedContent: 'no body' });
    bad({ secret: 's', header: 'x', idPath: 'a..[' });
  });

  it('maps event type and id from paths and headers', () => {
    const spec = providerOf('generic-hmac')!;
    const config = spec.parseConfig({ secret: 's', header: 'x', eventTypePath: '$.kind', idPath: 'data.id' });
    const req = request({ body });
    const parsed = parseBody(req.body, 'application/json');
    assert.equal(spec.eventType(req, parsed, config), 'thing.done');
    assert.equal(spec.eventId(req, parsed, config), '7');
  });
});

describe('basic-auth and bearer', () => {
  it('checks Basic credentials', () => {
    const config = { username: 'hook', password: 'pa:ss' };
    const basic = (u: string, p: string) => ({ authorization: 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64') });
    assert.deepEqual(check('basic-auth', config, { body: '{}', headers: basic('hook', 'pa:ss') }), { ok: true });
    refused(check('basic-auth', config, { body: '{}', headers: basic('hook', 'pa:sx') }), /wrong username or password/);
    refused(check('basic-auth', config, { body: '{}' }), /missing Basic/);
  });

  it('checks a bearer token, in Authorization or a header of choice', () => {
    assert.deepEqual(check('bearer', { token: 't0k' }, { body: '{}', headers: { authorization: 'Bearer t0k' } }), { ok: true });
    refused(check('bearer', { token: 't0k' }, { body: '{}', headers: { authorization: 'Bearer t0x' } }), /wrong token/);
    assert.deepEqual(check('bearer', { token: 't0k', header: 'X-Api-Key' }, { body: '{}', headers: { 'x-api-key': 't0k' } }), { ok: true });
    refused(check('bearer', { token: 't0k', header: 'X-Api-Key' }, { body: '{}', headers: { authorization: 'Bearer t0k' } }), /missing x-api-key/);
  });
});

describe('bodies, paths and event types', () => {
  it('forwards a JSON object as the exact text received, wraps anything else', () => {
    const raw = Buffer.from('{ "big": 12345678901234567890, "a": 1 }');
    assert.equal(messagePayload(raw, parseBody(raw, 'application/json')), raw.toString());
    const form = Buffer.from('a=1&b=x&b=y');
    assert.deepEqual(JSON.parse(messagePayload(form, parseBody(form, 'application/x-www-form-urlencoded; charset=utf-8'))), {
      contentType: 'application/x-www-form-urlencoded',
      body: 'a=1&b=x&b=y',
      form: { a: '1', b: ['x', 'y'] },
    });
    const arr = Buffer.from('[1,2]');
    assert.deepEqual(JSON.parse(messagePayload(arr, parseBody(arr, 'application/json'))), { contentType: 'application/json', body: '[1,2]' });
    const bin = Buffer.from([0xff, 0xfe, 0x00]);
    assert.deepEqual(JSON.parse(messagePayload(bin, parseBody(bin, 'application/octet-stream'))), { contentType: 'application/octet-stream', bodyBase64: '//4A' });
    assert.deepEqual(formObject(new URLSearchParams('x=1')), { x: '1' });
  });

  it('parses JSON paths and reads values', () => {
    assert.deepEqual(parsePath('$.data.items[2].id'), ['data', 'items', 2, 'id']);
    assert.deepEqual(parsePath('a.0.b'), ['a', 0, 'b']);
    assert.equal(valueAt({ a: [{ b: 'x' }] }, parsePath('a[0].b')), 'x');
    assert.equal(valueAt({ a: 1 }, parsePath('__proto__.x')), undefined);
    assert.throws(() => parsePath('$'));
  });

  it('sanitises event types', () => {
    assert.equal(toEventType('orders/create', 'w'), 'orders.create');
    assert.equal(toEventType('', 'webhook'), 'webhook');
    assert.equal(toEventType(null, 'webhook'), 'webhook');
    assert.equal(toEventType('a b:c', 'w'), 'a.b.c');
  });

  it('parses signed-content templates', () => {
    assert.deepEqual(parseTemplate('{timestamp}.{body}'), [{ kind: 'timestamp' }, { kind: 'text', text: '.' }, { kind: 'body' }]);
    assert.deepEqual(parseTemplate('v0:{header:X-Id}:{body}{url}'), [
      { kind: 'text', text: 'v0:' },
      { kind: 'header', name: 'x-id' },
      { kind: 'text', text: ':' },
      { kind: 'body' },
      { kind: 'url' },
    ]);
  });
});
