/**
 * The TypeScript SDK (packages/sdk) against a real server: the webhook verifier on real
 * deliveries (and against the reference verifier), long polls, SSE streams resumed with
 * Last-Event-ID, polling endpoints and poller tokens, sources, API keys, OAuth client
 * credentials, operational webhooks, and errors.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { Svix } from 'svix';
import { Switchboard, SwitchboardError, WebhookVerificationError, clientCredentials, parseEventStream, signature, verifyWebhook } from '../../packages/sdk/src/index.js';
import type { StreamedMessage } from '../../packages/sdk/src/index.js';
import { eventually } from '../helpers/eventually.js';
import { Receiver } from '../helpers/receiver.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

/** Takes `n` items from an async iterator, then stops it. */
async function take<T>(it: AsyncGenerator<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  if (n === 0) return out;
  for await (const x of it) {
    out.push(x);
    if (out.length === n) break;
  }
  return out;
}

describe('SDK against a running server', () => {
  let server: TestServer;
  let rx: Receiver;
  let sb: Switchboard;
  let svix: Svix;
  let appId: string;

  before(async () => {
    rx = await new Receiver().start();
    server = await startServer();
    sb = new Switchboard({ serverUrl: server.url, token: server.token });
    svix = new Svix(server.token, { serverUrl: server.url });
    appId = (await svix.application.create({ name: 'sdk', uid: 'sdk-app' })).id;
  });
  after(async () => {
    await server.close();
    await rx.close();
  });

  it('verifies real deliveries, with either header style, and refuses tampering', async () => {
    const ep = await svix.endpoint.create(appId, { url: rx.url('/sdk'), filterTypes: ['sdk.verify'] });
    const secret = (await svix.endpoint.getSecret(appId, ep.id)).key;
    await svix.message.create(appId, { eventType: 'sdk.verify', payload: { n: 1, text: 'h\u00e9llo' } });
    await eventually(() => rx.at('/sdk').length === 1, 'a delivery');
    const got = rx.at('/sdk')[0]!;
    const headers = got.headers as Record<string, string>;
    assert.deepEqual(await verifyWebhook(secret, got.body, headers), { n: 1, text: 'h\u00e9llo' });
    assert.deepEqual(await verifyWebhook(secret, new TextEncoder().encode(got.body), new Headers(headers)), { n: 1, text: 'h\u00e9llo' });
    const svixStyle = { 'svix-id': headers['webhook-id']!, 'svix-timestamp': headers['webhook-timestamp']!, 'svix-signature': headers['webhook-signature']! };
    assert.deepEqual(await verifyWebhook(secret, got.body, svixStyle), { n: 1, text: 'h\u00e9llo' });
    await assert.rejects(verifyWebhook(secret, got.body.replace('1', '2'), headers), WebhookVerificationError);
    await assert.rejects(verifyWebhook('whsec_' + Buffer.from('another-secret-of-32-bytes-long!').toString('base64'), got.body, headers), /no matching signature/);
    await assert.rejects(verifyWebhook(secret, got.body, headers, { now: new Date(Date.now() + 3600_000) }), /too old/);
    await assert.rejects(verifyWebhook(secret, got.body, { 'webhook-id': 'x' }), /missing/);

    // Rotation: both secrets sign until the grace period ends; the SDK accepts either.
    await svix.endpoint.rotateSecret(appId, ep.id, {});
    const fresh = (await svix.endpoint.getSecret(appId, ep.id)).key;
    await svix.message.create(appId, { eventType: 'sdk.verify', payload: { n: 2 } });
    await eventually(() => rx.at('/sdk').length === 2, 'a second delivery');
    const second = rx.at('/sdk')[1]!;
    assert.equal(String(second.headers['webhook-signature']).split(' ').length, 2);
    assert.deepEqual(await verifyWebhook(secret, second.body, second.headers as Record<string, string>), { n: 2 });
    assert.deepEqual(await verifyWebhook(fresh, second.body, second.headers as Record<string, string>), { n: 2 });
  });

  it('signs exactly as the reference implementation verifies', async () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const ts = Math.floor(Date.now() / 1000);
    const sig = await signature(secret, 'msg_x', ts, '{"a":1}');
    new Webhook(secret).verify('{"a":1}', { 'webhook-id': 'msg_x', 'webhook-timestamp': String(ts), 'webhook-signature': sig });
    const ref = new Webhook(secret).sign('msg_y', new Date(ts * 1000), '{"b":2}');
    assert.deepEqual(await verifyWebhook(secret, '{"b":2}', { 'webhook-id': 'msg_y', 'webhook-timestamp': String(ts), 'webhook-signature': ref }), { b: 2 });
  });

  it('long-polls the message list until a message arrives', async () => {
    const app = (await svix.application.create({ name: 'sdk-wait' })).id;
    const waitingBefore = server.sb.pull.waiting;
    const waiting = sb.messages.list(app, { wait: 10 });
    await eventually(() => server.sb.pull.waiting > waitingBefore, 'the list to wait');
    const sent = await svix.message.create(app, { eventType: 'sdk.wait', payload: { hi: true } });
    const page = await waiting;
    assert.deepEqual(
      page.data.map((m) => m.id),
      [sent.id],
    );
    assert.deepEqual(page.data[0]!.payload, { hi: true });
    const empty = await sb.messages.list(app, { wait: 0, after: new Date(Date.now() + 60_000) });
    assert.deepEqual(empty.data, []);
  });

  it('streams messages and resumes after the last one seen, with no gap and no duplicate', async () => {
    const app = (await svix.application.create({ name: 'sdk-stream' })).id;
    const ac = new AbortController();
    const streamsBefore = server.sb.pull.streamCount;
    const stream = sb.messages.stream(app, { signal: ac.signal, eventTypes: ['s.t'] });
    const first3 = take(stream, 3);
    await eventually(() => server.sb.pull.streamCount > streamsBefore, 'the stream to open');
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await svix.message.create(app, { eventType: 's.t', payload: { i } })).id);
    await svix.message.create(app, { eventType: 'other.t', payload: {} });
    const got: StreamedMessage[] = await first3;
    assert.deepEqual(
      got.map((m) => m.id),
      ids,
    );
    assert.deepEqual(got[2]!.payload, { i: 2 });
    ac.abort();
    const later: string[] = [];
    for (let i = 3; i < 5; i++) later.push((await svix.message.create(app, { eventType: 's.t', payload: { i } })).id);
    const resumed = await take(sb.messages.stream(app, { lastEventId: got[2]!.position, eventTypes: ['s.t'] }), 2);
    assert.deepEqual(
      resumed.map((m) => m.id),
      later,
    );
  });

  it('manages polling endpoints and reads them as a consumer, also with a poller token', async () => {
    const pe = await sb.pollingEndpoints.create(appId, { uid: 'sdk-poller', filterTypes: ['poll.t'], description: 'for the sdk' });
    assert.equal((await sb.pollingEndpoints.get(appId, 'sdk-poller')).id, pe.id);
    assert.ok((await sb.pollingEndpoints.list(appId)).data.some((p) => p.id === pe.id));
    assert.equal((await sb.pollingEndpoints.update(appId, pe.id, { description: 'changed' })).description, 'changed');
    const sent: string[] = [];
    for (let i = 0; i < 3; i++) sent.push((await svix.message.create(appId, { eventType: 'poll.t', payload: { i } })).id);
    const page = await sb.pollingEndpoints.poll(appId, pe.id, { after: new Date(Date.now() - 60_000) });
    assert.deepEqual(
      page.data.map((m) => m.id),
      sent,
    );

    const token = await sb.pollingEndpoints.token(appId, pe.id);
    const reader = new Switchboard({ serverUrl: server.url, token: token.token });
    await reader.pollingEndpoints.seek(appId, pe.id, 'c1', new Date(Date.now() - 60_000));
    const p1 = await reader.pollingEndpoints.consumerPoll(appId, pe.id, 'c1', { limit: 2 });
    assert.deepEqual(
      p1.data.map((m) => m.id),
      sent.slice(0, 2),
    );
    const p2 = await reader.pollingEndpoints.consumerPoll(appId, pe.id, 'c1', { iterator: p1.iterator });
    assert.deepEqual(
      p2.data.map((m) => m.id),
      sent.slice(2),
    );
    await assert.rejects(reader.messages.list(appId), (e: unknown) => e instanceof SwitchboardError && e.status === 403);
    const rotated = await sb.pollingEndpoints.rotateToken(appId, pe.id);
    assert.notEqual(rotated.token, token.token);
    await sb.pollingEndpoints.delete(appId, pe.id);
    await assert.rejects(sb.pollingEndpoints.get(appId, pe.id), (e: unknown) => e instanceof SwitchboardError && e.status === 404 && e.code === 'not_found');
  });

  it('manages polling and cron sources', async () => {
    const cron = await sb.sources.createCron('nightly', { schedule: '0 3 * * *', payload: '{"report":"nightly"}' }, { uid: 'sdk-cron' });
    assert.equal(cron.type, 'cron');
    const poll = await sb.sources.createPolling('orders', { url: rx.url('/orders'), intervalSecs: 3600, eventType: 'order.changed', items: 'data', itemId: 'id' });
    assert.equal(poll.type, 'poll');
    assert.equal(poll.ingestUrl ?? null, null);
    const read = await sb.sources.get('sdk-cron');
    assert.ok(read.run?.nextRunAt);
    assert.ok((await sb.sources.list()).data.some((s) => s.id === poll.id));
    assert.equal((await sb.sources.update(poll.id, { name: 'open orders' })).name, 'open orders');
    assert.ok(Array.isArray((await sb.sources.log(poll.id)).data));
    await sb.sources.delete(poll.id);
    await sb.sources.delete(cron.id);
  });

  it('creates, uses and revokes API keys', async () => {
    const created = await sb.apiKeys.create({ name: 'sdk reader', scopes: ['read'], appId });
    assert.ok(created.key);
    const scoped = new Switchboard({ serverUrl: server.url, token: created.key });
    assert.ok(Array.isArray((await scoped.messages.list(appId)).data));
    assert.equal((await sb.apiKeys.get(created.id)).name, 'sdk reader');
    assert.ok((await sb.apiKeys.list({ appId })).data.some((k) => k.id === created.id));
    await sb.apiKeys.revoke(created.id);
    await assert.rejects(scoped.messages.list(appId), (e: unknown) => e instanceof SwitchboardError && e.status === 401);
  });

  it('gets OAuth access tokens with client credentials', async () => {
    const client = await sb.oauth.createClient({ name: 'sdk client', scopes: ['read'], appId });
    assert.ok(client.clientSecret);
    const token = await sb.oauth.token({ clientId: client.id, clientSecret: client.clientSecret });
    assert.equal(token.token_type.toLowerCase(), 'bearer');
    const viaOAuth = new Switchboard({ serverUrl: server.url, token: clientCredentials(server.url, { clientId: client.id, clientSecret: client.clientSecret }) });
    assert.ok(Array.isArray((await viaOAuth.messages.list(appId)).data));
    const jwks = await sb.oauth.jwks();
    assert.ok(jwks.keys.length >= 1);
    await sb.oauth.revokeClient(client.id);
    await assert.rejects(sb.oauth.token({ clientId: client.id, clientSecret: client.clientSecret }), SwitchboardError);
  });

  it('manages operational webhook endpoints', async () => {
    const ep = await sb.operationalWebhooks.create({ url: rx.url('/ops'), filterTypes: ['endpoint.disabled'] });
    assert.deepEqual((await sb.operationalWebhooks.get(ep.id)).filterTypes, ['endpoint.disabled']);
    assert.match(await sb.operationalWebhooks.secret(ep.id), /^whsec_/);
    assert.ok((await sb.operationalWebhooks.list()).data.some((e) => e.id === ep.id));
    await sb.operationalWebhooks.delete(ep.id);
    assert.equal(await sb.healthy(), true);
  });
});

describe('SDK client-credentials token source', () => {
  it('shares one request between concurrent callers and renews before expiry', async () => {
    let calls = 0;
    let expiresIn = 3600;
    const fakeFetch = (async (_url: string | URL | Request, init?: RequestInit) => {
      calls++;
      const body = JSON.parse(init?.body as string);
      assert.equal(body.grant_type, 'client_credentials');
      return new Response(JSON.stringify({ access_token: `t${calls}`, token_type: 'Bearer', expires_in: expiresIn, scope: 'read' }), { status: 200 });
    }) as typeof fetch;
    const source = clientCredentials('http://oauth.test', { clientId: 'c', clientSecret: 's' }, { fetch: fakeFetch });
    assert.deepEqual(await Promise.all([source(), source()]), ['t1', 't1']);
    assert.equal(await source(), 't1');
    assert.equal(calls, 1);
    expiresIn = 0.002;
    const quick = clientCredentials('http://oauth.test', { clientId: 'c', clientSecret: 's' }, { fetch: fakeFetch });
    assert.equal(await quick(), 't2');
    // The token lives 2 ms by the system clock, which the SDK reads: wait until that has passed.
    const received = Date.now();
    await eventually(() => Date.now() > received + 2, 'the token to expire', { intervalMs: 1 });
    assert.equal(await quick(), 't3');
  });
});

describe('SDK event-stream parser', () => {
  it('handles CRLF, multi-line data, comments, ids and retry hints split across chunks', async () => {
    const text = ': hello\r\nretry: 1500\r\nid: 7\r\n\r\nid: 8\ndata: {"a":\ndata: 1}\n\nevent: error\ndata: x\r\r';
    const bytes = new TextEncoder().encode(text);
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < bytes.length; i += 5) c.enqueue(bytes.subarray(i, i + 5));
        c.close();
      },
    });
    const events = [];
    for await (const e of parseEventStream(body)) events.push(e);
    assert.deepEqual(events, [
      { id: '7', event: 'message', data: '', retry: 1500 },
      { id: '8', event: 'message', data: '{"a":\n1}', retry: undefined },
      { id: '8', event: 'error', data: 'x', retry: undefined },
    ]);
  });
});
