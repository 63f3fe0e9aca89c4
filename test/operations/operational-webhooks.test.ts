/**
 * Operational webhooks: endpoints managed with the official `svix` SDK, events caused by
 * real deliveries (failing, exhausted, recovered) and endpoint changes (disabled by 410 or by
 * a caller, enabled again), each verified with the `standardwebhooks` reference verifier;
 * retries of a failing operational endpoint; and the storage contract.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException, Svix } from 'svix';
import { Webhook } from 'standardwebhooks';
import { eventually, sleep } from '../helpers/eventually.js';
import { rawRows } from '../helpers/raw-db.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { Receiver } from '../helpers/receiver.js';
import type { Received } from '../helpers/receiver.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

describe('operational webhooks', () => {
  let clock: FakeClock;
  let server: TestServer;
  let rx: Receiver;
  let ops: Receiver;
  let svix: Svix;
  let appId: string;
  let secret: string;

  /** Operational events received on `/ops`, verified and parsed. */
  const events = (type?: string): { type: string; data: any; timestamp: string; raw: Received }[] =>
    ops
      .at('/ops')
      .map((r) => ({ ...(new Webhook(secret).verify(r.body, r.headers as Record<string, string>) as any), raw: r }))
      .filter((e) => type === undefined || e.type === type);

  before(async () => {
    clock = new FakeClock();
    rx = await new Receiver().start();
    ops = await new Receiver().start();
    // Circuit breakers off: the failing endpoints of these tests share the receiver's origin, and
    // an origin circuit opened by their failures would hold the next test's deliveries until a
    // cool-down this injected clock never reaches (circuits are tested in engine/circuit-breaker).
    server = await startServer(
      { SWITCHBOARD_RETRY_SCHEDULE: '0,0,0,0', SWITCHBOARD_CIRCUIT_FAILURES: '0' },
      { clock, random: () => 0.5, sweepIntervalMs: 10 * 86_400_000 },
    );
    svix = new Svix(server.token, { serverUrl: server.url });
    appId = (await svix.application.create({ name: 'ops', uid: 'ops-app' })).id;
  });
  after(async () => {
    await server.close();
    await rx.close();
    await ops.close();
  });

  it('manages operational webhook endpoints with the svix SDK', async () => {
    const ep = await svix.operationalWebhookEndpoint.create({ url: ops.url('/ops'), description: 'all events', metadata: { team: 'sre' } });
    assert.match(ep.id, /^ep_/);
    assert.equal(ep.description, 'all events');
    assert.deepEqual(ep.metadata, { team: 'sre' });
    secret = (await svix.operationalWebhookEndpoint.getSecret(ep.id)).key;
    assert.match(secret, /^whsec_/);
    const row = (await rawRows(server.sb.store, 'SELECT secret FROM operational_endpoints WHERE id = ?', ep.id))[0] as { secret: string };
    assert.match(row.secret, /^sbenc:v1:/, 'the secret is encrypted at rest');
    const only = await svix.operationalWebhookEndpoint.create({ url: ops.url('/enabled-only'), uid: 'enabled-only', filterTypes: ['endpoint.enabled'] });
    assert.deepEqual(only.filterTypes, ['endpoint.enabled']);
    assert.equal((await svix.operationalWebhookEndpoint.get('enabled-only')).id, only.id);
    const list = await svix.operationalWebhookEndpoint.list();
    assert.deepEqual(list.data.map((e) => e.id).sort(), [ep.id, only.id].sort());
    const updated = await svix.operationalWebhookEndpoint.update(only.id, { url: ops.url('/enabled-only'), uid: 'enabled-only', filterTypes: ['endpoint.enabled'], description: 'x' });
    assert.equal(updated.description, 'x');
    await svix.operationalWebhookEndpoint.updateHeaders(only.id, { headers: { 'x-team': 'sre', Authorization: 'Bearer hidden' } });
    const h = await svix.operationalWebhookEndpoint.getHeaders(only.id);
    assert.deepEqual(h.headers, { 'x-team': 'sre' });
    assert.deepEqual(h.sensitive, ['Authorization']);

    const temp = await svix.operationalWebhookEndpoint.create({ url: ops.url('/temp') });
    await svix.operationalWebhookEndpoint.rotateSecret(temp.id, {});
    assert.notEqual((await svix.operationalWebhookEndpoint.getSecret(temp.id)).key, undefined);
    await svix.operationalWebhookEndpoint.delete(temp.id);
    await assert.rejects(svix.operationalWebhookEndpoint.get(temp.id), (e: unknown) => e instanceof ApiException && e.code === 404);
    await assert.rejects(
      svix.operationalWebhookEndpoint.create({ url: ops.url('/x'), filterTypes: ['message.attempt.nope'] }),
      (e: unknown) => e instanceof ApiException && e.code === 422,
    );
    await assert.rejects(svix.operationalWebhookEndpoint.create({ url: ops.url('/x'), uid: 'enabled-only' }), (e: unknown) => e instanceof ApiException && e.code === 409);
  });

  it('is for organisation admins only', async () => {
    const res = await fetch(server.url + '/api/v1/operational-webhook/endpoint');
    assert.equal(res.status, 401);
  });

  async function endpoint(path: string, eventType: string): Promise<string> {
    return (await svix.endpoint.create(appId, { url: rx.url(path), uid: path.slice(1), filterTypes: [eventType] })).id;
  }

  it('reports a delivery failing four times, then recovered', async () => {
    rx.on('/flaky', (_r, res, n) => void res.writeHead(n <= 4 ? 500 : 200).end());
    const ep = await endpoint('/flaky', 'flaky.t');
    const msg = await svix.message.create(appId, { eventType: 'flaky.t', eventId: 'evt-flaky', payload: { a: 1 } });
    await eventually(() => events('message.attempt.recovered').length === 1, 'recovered');
    const [failing] = events('message.attempt.failing');
    assert.ok(failing);
    assert.deepEqual({ ...failing.data, lastAttempt: undefined }, { appId, appUid: 'ops-app', msgId: msg.id, msgEventId: 'evt-flaky', endpointId: ep, lastAttempt: undefined });
    assert.equal(failing.data.lastAttempt.responseStatusCode, 500);
    assert.match(failing.data.lastAttempt.id, /^atmpt_/);
    const [recovered] = events('message.attempt.recovered');
    assert.equal(recovered!.data.lastAttempt.responseStatusCode, 200);
    assert.equal(events('message.attempt.exhausted').length, 0);
  });

  it('reports a delivery that exhausted its retries', async () => {
    rx.on('/dead', (_r, res) => void res.writeHead(503).end());
    const ep = await endpoint('/dead', 'dead.t');
    const msg = await svix.message.create(appId, { eventType: 'dead.t', payload: { a: 1 } });
    await eventually(() => events('message.attempt.exhausted').length === 1, 'exhausted');
    const [e] = events('message.attempt.exhausted');
    assert.equal(e!.data.msgId, msg.id);
    assert.equal(e!.data.endpointId, ep);
    assert.equal(e!.data.msgEventId, null);
    assert.equal(events('message.attempt.failing').filter((x) => x.data.msgId === msg.id).length, 1);
  });

  it('reports a failed delivery recovered by a manual resend, and not a resend of a delivered one', async () => {
    let up = false;
    rx.on('/later', (_r, res) => void res.writeHead(up ? 200 : 503).end());
    const ep = await endpoint('/later', 'later.t');
    const msg = await svix.message.create(appId, { eventType: 'later.t', payload: { a: 1 } });
    const ofMsg = (type: string) => events(type).filter((x) => x.data.msgId === msg.id);
    await eventually(() => ofMsg('message.attempt.exhausted').length === 1, 'exhausted');
    const attempts = rx.at('/later').length;

    up = true;
    // Attempts are told apart by time (identifiers sort by their millisecond): let some pass.
    clock.advance(1000);
    await svix.messageAttempt.resend(appId, msg.id, ep);
    await eventually(() => ofMsg('message.attempt.recovered').length === 1, 'recovered by the resend');
    assert.equal(ofMsg('message.attempt.recovered')[0]!.data.lastAttempt.responseStatusCode, 200);

    // The attempt before this resend delivered: nothing recovers.
    clock.advance(1000);
    await svix.messageAttempt.resend(appId, msg.id, ep);
    await eventually(() => rx.at('/later').length === attempts + 2, 'the second resend');
    await eventually(async () => (await svix.messageAttempt.listByMsg(appId, msg.id)).data.length === attempts + 2, 'its attempt recorded');
    await sleep(200); // a window in which no event may come
    assert.equal(ofMsg('message.attempt.recovered').length, 1);
  });

  it('reports an endpoint disabled by 410 Gone, disabled by a caller, and enabled again', async () => {
    rx.on('/gone', (_r, res) => void res.writeHead(410).end());
    const ep = await endpoint('/gone', 'gone.t');
    await svix.message.create(appId, { eventType: 'gone.t', payload: {} });
    await eventually(() => events('endpoint.disabled').length === 1, 'endpoint.disabled');
    const [auto] = events('endpoint.disabled');
    assert.equal(auto!.data.endpointId, ep);
    assert.equal(auto!.data.endpointUid, 'gone');
    assert.equal(auto!.data.trigger, 'automatic');
    assert.ok(!Number.isNaN(Date.parse(auto!.data.failSince)));

    await svix.endpoint.patch(appId, ep, { disabled: false });
    await eventually(() => events('endpoint.enabled').length === 1 && ops.at('/enabled-only').length === 1, 'endpoint.enabled');
    const enabledOnly = ops.at('/enabled-only')[0]!;
    assert.equal(enabledOnly.headers['x-team'], 'sre');
    assert.equal(enabledOnly.headers.authorization, 'Bearer hidden');
    assert.equal(JSON.parse(enabledOnly.body).type, 'endpoint.enabled');

    await svix.endpoint.patch(appId, ep, { disabled: true });
    await eventually(() => events('endpoint.disabled').length === 2, 'manual endpoint.disabled');
    assert.equal(events('endpoint.disabled')[1]!.data.trigger, 'manual');
    assert.equal(ops.at('/enabled-only').length, 1, 'filterTypes respected');
  });

  it('retries a failing operational endpoint with the same webhook-id', async () => {
    ops.on('/retry', (_r, res, n) => void res.writeHead(n === 1 ? 500 : 200).end());
    const ep = await svix.operationalWebhookEndpoint.create({ url: ops.url('/retry'), filterTypes: ['endpoint.enabled'] });
    const appEp = await endpoint('/again', 'again.t');
    await svix.endpoint.patch(appId, appEp, { disabled: true });
    await svix.endpoint.patch(appId, appEp, { disabled: false });
    await eventually(() => ops.at('/retry').length === 1, 'first operational request');
    // The failure is counted as the retry is scheduled: only then does moving the clock fire it.
    await eventually(async () => /^switchboard_operational_webhooks_total\{event_type="endpoint\.enabled",outcome="retry"\} 1$/m.test(await (await fetch(server.url + '/metrics')).text()), 'the retry to be scheduled');
    clock.advance(5000);
    await eventually(() => ops.at('/retry').length === 2, 'the retry');
    const [a, b] = ops.at('/retry');
    assert.equal(a!.headers['webhook-id'], b!.headers['webhook-id']);
    const key = (await svix.operationalWebhookEndpoint.getSecret(ep.id)).key;
    new Webhook(key).verify(b!.body, b!.headers as Record<string, string>);
    await server.sb.operationalWebhooks.idle();
  });
});

