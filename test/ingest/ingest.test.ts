/**
 * Receiving webhooks end to end: real HTTP into a real server, requests signed with the
 * providers' own libraries, forwarding to a real loopback receiver. Forged, stale,
 * tampered and cross-source requests are refused and logged; duplicates are answered 2xx
 * and forwarded once; the provider is answered before any forwarding.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import Stripe from 'stripe';
import twilio from 'twilio';
import { sign as githubSign } from '@octokit/webhooks-methods';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { eventually, sleep } from '../helpers/eventually.js';
import { Receiver } from '../helpers/receiver.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

const nowS = () => Math.floor(Date.now() / 1000);

describe('ingest: receiving webhooks', () => {
  let server: TestServer;
  let rx: Receiver;

  before(async () => {
    rx = await new Receiver().start();
    server = await startServer();
  });
  after(async () => {
    await server.close();
    await rx.close();
  });

  async function source(type: string, config: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<{ id: string; ingestUrl: string }> {
    const r = await server.api('POST', '/ingest/api/v1/source', { name: `${type} source`, type, config, ...extra });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body;
  }

  async function endpoint(sourceId: string, path: string, extra: Record<string, unknown> = {}): Promise<{ id: string; secret: string }> {
    const r = await server.api('POST', `/ingest/api/v1/source/${sourceId}/endpoint`, { url: rx.url(path), ...extra });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const s = await server.api('GET', `/ingest/api/v1/source/${sourceId}/endpoint/${r.body.id}/secret`);
    return { id: r.body.id, secret: s.body.key };
  }

  async function post(url: string, body: string | Buffer, headers: Record<string, string>): Promise<{ status: number; body: any; text: string }> {
    const res = await fetch(url, { method: 'POST', headers, body });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed, text };
  }

  async function logs(sourceId: string): Promise<any[]> {
    const r = await server.api('GET', `/ingest/api/v1/source/${sourceId}/log`);
    assert.equal(r.status, 200);
    return r.body.data;
  }

  async function messages(sourceId: string): Promise<any[]> {
    const r = await server.api('GET', `/api/v1/app/${sourceId}/msg`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.data;
  }

  describe('Stripe', () => {
    const secret = 'whsec_stripe_test_secret';
    let src: { id: string; ingestUrl: string };
    let ep: { id: string; secret: string };
    // Odd spacing on purpose: the signature covers these exact bytes.
    const payload = '{\n  "id": "evt_123",  "type": "invoice.paid",\n  "data": {"object": {"amount_paid": 1999}}\n}';
    const sign = (p: string, s = secret, timestamp = nowS()) => Stripe.webhooks.generateTestHeaderString({ payload: p, secret: s, timestamp });

    before(async () => {
      src = await source('stripe', { secret });
      ep = await endpoint(src.id, '/stripe');
    });

    it('shows the source with its ingest URL and without its secret', async () => {
      const r = await server.api('GET', `/ingest/api/v1/source/${src.id}`);
      assert.equal(r.status, 200);
      assert.equal(r.body.type, 'stripe');
      assert.deepEqual(r.body.config, {});
      assert.match(r.body.ingestUrl, /\/ingest\/in\/[A-Za-z0-9_-]{32}$/);
      assert.ok(!JSON.stringify(r.body).includes(secret));
    });

    it('accepts a request Stripe signed, forwards the exact body, signed by Switchboard', async () => {
      const r = await post(src.ingestUrl, payload, { 'content-type': 'application/json', 'stripe-signature': sign(payload) });
      assert.equal(r.status, 200, r.text);
      assert.match(r.body.id, /^msg_/);
      await eventually(() => rx.at('/stripe').length === 1, 'stripe delivery');
      const got = rx.at('/stripe')[0]!;
      assert.equal(got.body, payload);
      const headers = Object.fromEntries(Object.entries(got.headers).map(([k, v]) => [k, String(v)]));
      new StandardWebhook(ep.secret).verify(got.body, headers);
      const [m] = await messages(src.id);
      assert.equal(m.eventType, 'invoice.paid');
      assert.equal(m.eventId, 'evt_123');
    });

    it('refuses and logs a wrong secret, a tampered body, a stale timestamp and a missing header; forwards none', async () => {
      const before = rx.at('/stripe').length;
      const cases: [string, string, Record<string, string>, RegExp][] = [
        ['wrong secret', payload, { 'stripe-signature': sign(payload, 'whsec_wrong') }, /no Stripe-Signature v1 signature matches/],
        ['tampered', payload.replace('1999', '9999'), { 'stripe-signature': sign(payload) }, /matches/],
        ['stale', payload, { 'stripe-signature': sign(payload, secret, nowS() - 600) }, /tolerance/],
        ['missing', payload, {}, /missing Stripe-Signature/],
      ];
      for (const [what, body, headers, reason] of cases) {
        const r = await post(src.ingestUrl, body, { 'content-type': 'application/json', ...headers });
        assert.equal(r.status, 401, what);
        assert.equal(r.body.code, 'unauthorized');
        assert.match(r.body.detail, reason, what);
      }
      const log = await logs(src.id);
      assert.equal(log.length, 4);
      assert.deepEqual(log.map((l) => l.status_code), [401, 401, 401, 401]);
      assert.match(log[0].error_text, /missing Stripe-Signature/, 'newest first');
      assert.match(log[3].error_text, /no Stripe-Signature v1 signature matches/);
      assert.equal(log[1].payload, payload);
      assert.equal(log[0].source_id, src.id);
      assert.equal(log[0].headers['content-type'], 'application/json');
      assert.equal((await messages(src.id)).length, 1, 'nothing stored');
      await sleep(100); // a window in which nothing may be forwarded
      assert.equal(rx.at('/stripe').length, before, 'nothing forwarded');
    });

    it('refuses a request signed for another source', async () => {
      const other = await source('stripe', { secret: 'whsec_other_source' });
      const body = JSON.stringify({ id: 'evt_other', type: 'x' });
      const r = await post(src.ingestUrl, body, { 'content-type': 'application/json', 'stripe-signature': sign(body, 'whsec_other_source') });
      assert.equal(r.status, 401);
      const ok = await post(other.ingestUrl, body, { 'content-type': 'application/json', 'stripe-signature': sign(body, 'whsec_other_source') });
      assert.equal(ok.status, 200);
    });

    it('answers 100 concurrent copies of one event 2xx and forwards it once', async () => {
      const body = JSON.stringify({ id: 'evt_dup', type: 'charge.succeeded' });
      const results = await Promise.all(
        Array.from({ length: 100 }, () => post(src.ingestUrl, body, { 'content-type': 'application/json', 'stripe-signature': sign(body) })),
      );
      assert.ok(results.every((r) => r.status === 200), JSON.stringify(results.map((r) => r.status)));
      assert.equal(results.filter((r) => !r.body.duplicate).length, 1);
      const ids = new Set(results.map((r) => r.body.id));
      assert.equal(ids.size, 1, 'every copy names the one message');
      await eventually(() => rx.at('/stripe').some((x) => x.body === body), 'the one delivery');
      // A retry by the provider later is a duplicate too.
      const again = await post(src.ingestUrl, body, { 'content-type': 'application/json', 'stripe-signature': sign(body) });
      assert.equal(again.status, 200);
      assert.equal(again.body.duplicate, true);
      await sleep(200); // a window in which no second delivery may arrive
      assert.equal(rx.at('/stripe').filter((x) => x.body === body).length, 1);
      assert.equal((await messages(src.id)).filter((m) => m.eventId === 'evt_dup').length, 1);
    });
  });

  it('answers the provider before the receiver answers', async () => {
    const src = await source('github', { secret: 'gh' });
    await endpoint(src.id, '/slow');
    let release: (() => void) | undefined;
    rx.on('/slow', (_req, res) => {
      release = () => res.writeHead(200).end('ok');
      return undefined;
    });
    const body = JSON.stringify({ action: 'opened' });
    const r = await post(src.ingestUrl, body, {
      'content-type': 'application/json',
      'x-hub-signature-256': await githubSign('gh', body),
      'x-github-event': 'issues',
      'x-github-delivery': 'd-1',
    });
    assert.equal(r.status, 200);
    await eventually(() => release !== undefined, 'the forwarded request');
    // The receiver still holds the request open: the provider was answered without waiting for it.
    release!();
    const [m] = await messages(src.id);
    assert.equal(m.eventType, 'issues');
    assert.equal(m.eventId, 'd-1');
  });

  it('GitHub: verifies X-Hub-Signature-256, refuses alterations', async () => {
    const src = await source('github', { secret: 'gh-secret' });
    const body = JSON.stringify({ zen: 'Design for failure.' });
    const h = async (b: string, s = 'gh-secret') => ({ 'content-type': 'application/json', 'x-github-event': 'ping', 'x-github-delivery': 'g-' + b.length, 'x-hub-signature-256': await githubSign(s, b) });
    assert.equal((await post(src.ingestUrl, body, await h(body))).status, 200);
    assert.equal((await post(src.ingestUrl, body, await h(body, 'nope'))).status, 401);
    assert.equal((await post(src.ingestUrl, body + ' ', await h(body))).status, 401);
  });

  it('Shopify: verifies X-Shopify-Hmac-Sha256, maps the topic', async () => {
    const src = await source('shopify', { secret: 'shp' });
    const body = JSON.stringify({ id: 1, total: '10.00' });
    const hmac = createHmac('sha256', 'shp').update(body).digest('base64');
    const r = await post(src.ingestUrl, body, { 'content-type': 'application/json', 'x-shopify-hmac-sha256': hmac, 'x-shopify-topic': 'orders/create', 'x-shopify-webhook-id': 'w-1' });
    assert.equal(r.status, 200);
    const [m] = await messages(src.id);
    assert.equal(m.eventType, 'orders.create');
    assert.equal(m.eventId, 'w-1');
    assert.equal((await post(src.ingestUrl, body, { 'content-type': 'application/json', 'x-shopify-hmac-sha256': hmac.replace(/^./, 'A') })).status, 401);
  });

  describe('Slack', () => {
    const secret = 'slack-signing-secret';
    const h = (body: string, ts = nowS(), contentType = 'application/json') => ({
      'content-type': contentType,
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': 'v0=' + createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex'),
    });

    it('answers url_verification with the challenge and forwards nothing', async () => {
      const src = await source('slack', { secret });
      const body = JSON.stringify({ token: 'x', challenge: 'c-123', type: 'url_verification' });
      const r = await post(src.ingestUrl, body, h(body));
      assert.equal(r.status, 200);
      assert.deepEqual(r.body, { challenge: 'c-123' });
      assert.equal((await messages(src.id)).length, 0);
      // An unsigned challenge is refused like anything else.
      assert.equal((await post(src.ingestUrl, body, { 'content-type': 'application/json' })).status, 401);
    });

    it('takes events, and slash commands as form bodies verified over their bytes', async () => {
      const src = await source('slack', { secret });
      const ev = JSON.stringify({ type: 'event_callback', event_id: 'Ev1', event: { type: 'message', text: 'hi' } });
      assert.equal((await post(src.ingestUrl, ev, h(ev))).status, 200);
      const form = 'command=%2Fdeploy&text=prod+now&user_id=U1';
      assert.equal((await post(src.ingestUrl, form, h(form, nowS(), 'application/x-www-form-urlencoded'))).status, 200);
      assert.equal((await post(src.ingestUrl, form, h(form, nowS() - 400, 'application/x-www-form-urlencoded'))).status, 401);
      const ms = await messages(src.id);
      assert.deepEqual(ms.map((m) => m.eventType).sort(), ['message', 'slash_command']);
      const slash = ms.find((m) => m.eventType === 'slash_command');
      assert.deepEqual(slash.payload.form, { command: '/deploy', text: 'prod now', user_id: 'U1' });
      assert.equal(slash.payload.body, form);
    });
  });

  it('Twilio: verifies a form post over the public URL and sorted parameters', async () => {
    const token = 'twilio-auth-token';
    const src = await source('twilio', { secret: token });
    const params = { MessageSid: 'SM1', MessageStatus: 'delivered', To: '+15551234567', Body: 'Hi there & welcome' };
    const form = new URLSearchParams(params).toString();
    const sig = twilio.getExpectedTwilioSignature(token, src.ingestUrl, params);
    const r = await post(src.ingestUrl, form, { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': sig, 'i-twilio-idempotency-token': 'tw-1' });
    assert.equal(r.status, 200, r.text);
    const [m] = await messages(src.id);
    assert.equal(m.eventType, 'message.delivered');
    assert.equal(m.eventId, 'tw-1');
    assert.deepEqual(m.payload.form, params);
    const forged = await post(src.ingestUrl, form.replace('Hi', 'Ho'), { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': sig });
    assert.equal(forged.status, 401);
  });

  it('Standard Webhooks: verifies, dedupes by webhook-id', async () => {
    const secret = 'whsec_' + Buffer.alloc(24, 9).toString('base64');
    const src = await source('standard-webhooks', { secret });
    const body = JSON.stringify({ type: 'invoice.created', data: {} });
    const send = (id: string, at = new Date()) =>
      post(src.ingestUrl, body, {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': new StandardWebhook(secret).sign(id, at, body),
      });
    assert.equal((await send('wh_1')).status, 200);
    assert.equal((await send('wh_1')).body.duplicate, true);
    assert.equal((await send('wh_2')).status, 200);
    assert.equal((await send('wh_3', new Date(Date.now() - 600_000))).status, 401);
    assert.deepEqual((await messages(src.id)).map((m) => m.eventId).sort(), ['wh_1', 'wh_2']);
  });

  it('generic sources: basic-auth, bearer, generic-hmac with a JSON-path dedupe id; no content type', async () => {
    const basic = await source('basic-auth', { username: 'u', password: 'p', eventType: 'thing.happened' });
    const auth = 'Basic ' + Buffer.from('u:p').toString('base64');
    assert.equal((await post(basic.ingestUrl, '{"a":1}', { 'content-type': 'application/json', authorization: auth })).status, 200);
    assert.equal((await post(basic.ingestUrl, '{"a":1}', { 'content-type': 'application/json', authorization: 'Basic eDp5' })).status, 401);
    assert.equal((await messages(basic.id))[0].eventType, 'thing.happened');

    const bearer = await source('bearer', { token: 'tkn' });
    assert.equal((await post(bearer.ingestUrl, 'plain text', { 'content-type': 'text/plain', authorization: 'Bearer tkn' })).status, 200);
    const [wrapped] = await messages(bearer.id);
    assert.deepEqual(wrapped.payload, { contentType: 'text/plain', body: 'plain text' });

    const hmac = await source('generic-hmac', { secret: 'k', header: 'x-sig', prefix: 'sha256=', idPath: '$.event.id', eventTypePath: 'event.kind' });
    const body = JSON.stringify({ event: { id: 'E-1', kind: 'order.paid' } });
    const sig = 'sha256=' + createHmac('sha256', 'k').update(body).digest('hex');
    // No content type at all: still read as bytes and verified.
    assert.equal((await post(hmac.ingestUrl, Buffer.from(body), { 'x-sig': sig })).status, 200);
    assert.equal((await post(hmac.ingestUrl, Buffer.from(body), { 'x-sig': sig })).body.duplicate, true);
    const [m] = await messages(hmac.id);
    assert.equal(m.eventType, 'order.paid');
    assert.equal(m.eventId, 'E-1');
  });

  it('forwards a burst at the endpoint\u2019s rate limit, every event once', async () => {
    const secret = 'whsec_rate';
    const src = await source('stripe', { secret });
    await endpoint(src.id, '/rated', { throttleRate: 10 });
    const n = 25;
    const sent = await Promise.all(
      Array.from({ length: n }, (_, i) => {
        const body = JSON.stringify({ id: `evt_r${i}`, type: 'burst' });
        return post(src.ingestUrl, body, { 'content-type': 'application/json', 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: body, secret }) });
      }),
    );
    assert.ok(sent.every((r) => r.status === 200));
    await eventually(() => rx.at('/rated').length >= n, 'all rated deliveries');
    const got = rx.at('/rated');
    assert.equal(new Set(got.map((g) => g.body)).size, n, 'each event once');
    // 10 per second with a burst of 10: the last 15 take at least 1.5 s to drain.
    const span = got[got.length - 1]!.at - got[0]!.at;
    assert.ok(span >= 1000, `drained in ${span} ms`);
  });

  it('404 for an unknown token; the URL token rotates with a grace period', async () => {
    assert.equal((await post(server.url + '/ingest/in/nope', '{}', { 'content-type': 'application/json' })).status, 404);
    const src = await source('bearer', { token: 't' });
    const send = (url: string) => post(url, '{}', { 'content-type': 'application/json', authorization: 'Bearer t' });
    const r1 = await server.api('POST', `/ingest/api/v1/source/${src.id}/token/rotate`);
    assert.equal(r1.status, 200);
    assert.notEqual(r1.body.ingestUrl, src.ingestUrl);
    assert.equal((await send(src.ingestUrl)).status, 200, 'the old URL works during the grace period');
    assert.equal((await send(r1.body.ingestUrl)).status, 200);
    assert.equal((await server.api('GET', `/ingest/api/v1/source/${src.id}`)).body.ingestUrl, r1.body.ingestUrl);
    assert.equal((await server.api('POST', `/ingest/api/v1/source/${src.id}/token/rotate`)).status, 200);
    assert.equal((await server.api('POST', `/ingest/api/v1/source/${src.id}/token/rotate`)).status, 200);
    const fourth = await server.api('POST', `/ingest/api/v1/source/${src.id}/token/rotate`);
    assert.equal(fourth.status, 409);
  });

  it('refuses a body over the size limit with 413', async () => {
    const src = await source('bearer', { token: 't' });
    const big = Buffer.alloc(1024 * 1024 + 10, 'a');
    const r = await post(src.ingestUrl, big, { 'content-type': 'application/octet-stream', authorization: 'Bearer t' });
    assert.equal(r.status, 413);
  });

  it('stores ingested events as messages of the source\u2019s application (pull API)', async () => {
    const src = await source('bearer', { token: 't' });
    await post(src.ingestUrl, '{"n":1}', { 'content-type': 'application/json', authorization: 'Bearer t' });
    const app = await server.api('GET', `/api/v1/app/${src.id}`);
    assert.equal(app.status, 200);
    assert.equal(app.body.uid, src.id);
    const ms = await eventually(async () => {
      const m = await messages(src.id);
      return m.length === 1 ? m : null;
    }, 'the message');
    assert.deepEqual(ms[0].payload, { n: 1 });
  });
});

describe('ingest behind a proxy (SWITCHBOARD_PUBLIC_URL)', () => {
  it('builds ingest URLs on the public URL and checks Twilio signatures against it', async () => {
    const server = await startServer({ SWITCHBOARD_PUBLIC_URL: 'https://hooks.example.com/sb' });
    try {
      const token = 'tw-token';
      const created = await server.api('POST', '/ingest/api/v1/source', { name: 'sms', type: 'twilio', config: { secret: token } });
      assert.equal(created.status, 201);
      const publicUrl = created.body.ingestUrl as string;
      assert.match(publicUrl, /^https:\/\/hooks\.example\.com\/sb\/ingest\/in\/[A-Za-z0-9_-]+$/);
      const params = { SmsSid: 'SM9', SmsStatus: 'received', Body: 'hello' };
      const sig = twilio.getExpectedTwilioSignature(token, publicUrl + '?lang=en', params);
      // The proxy strips /sb and forwards to this server.
      const local = server.url + new URL(publicUrl).pathname.replace(/^\/sb/, '') + '?lang=en';
      const send = (signature: string) =>
        fetch(local, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature }, body: new URLSearchParams(params).toString() });
      assert.equal((await send(sig)).status, 200);
      const signedForLocal = twilio.getExpectedTwilioSignature(token, local, params);
      assert.equal((await send(signedForLocal)).status, 401, 'a signature over the internal URL is not the one Twilio makes');
    } finally {
      await server.close();
    }
  });
});
