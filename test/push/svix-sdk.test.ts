/**
 * The official `svix` SDK drives the whole push flow against a real Switchboard and a
 * real loopback receiver. Every request that reaches the receiver is checked with the
 * npm `standardwebhooks` verifier, and its `webhook-id` must be the message id.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ApiException, MessageAttemptTriggerType, MessageStatus, MessageStatusText, Svix } from 'svix';
import type { EndpointOut, MessageAttemptOut, MessageIn, MessageOut } from 'svix';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { eventually } from '../helpers/eventually.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { Receiver } from '../helpers/receiver.js';
import type { Received } from '../helpers/receiver.js';

/** A header the receiver got, which must be present exactly once. */
function header(r: Received, name: string): string {
  const v = r.headers[name];
  assert.equal(typeof v, 'string', `header ${name} on ${r.path}`);
  return v as string;
}

/** Verifies a delivered request with the reference verifier; returns the parsed payload. */
function verify(r: Received, secret: string): unknown {
  return new Webhook(secret).verify(r.body, {
    'webhook-id': header(r, 'webhook-id'),
    'webhook-timestamp': header(r, 'webhook-timestamp'),
    'webhook-signature': header(r, 'webhook-signature'),
  });
}

/** Asserts an SDK call failed with this HTTP status (and error code, for `{code, detail}` bodies). */
function apiError(status: number, code?: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof ApiException, `expected an ApiException, got ${String(e)}`);
    assert.equal(e.code, status, JSON.stringify(e.body));
    if (code !== undefined) {
      const body = e.body as { code?: unknown; detail?: unknown };
      assert.equal(body.code, code);
      assert.equal(typeof body.detail, 'string');
    }
    return true;
  };
}

const sameSet = (actual: Iterable<string>, expected: Iterable<string>, what: string): void =>
  assert.deepEqual([...actual].sort(), [...expected].sort(), what);

const newSecret = (): string => 'whsec_' + randomBytes(24).toString('base64');

describe('svix SDK against a real Switchboard', () => {
  let server: TestServer;
  let receiver: Receiver;
  let svix: Svix;
  /** Every HTTP exchange the SDK made. */
  const calls: { method: string; url: string; status: number }[] = [];
  const lastStatus = (): number => calls[calls.length - 1]!.status;
  /** Message id -> the exact JSON text receivers must get. */
  const sent = new Map<string, { body: string; eventType: string; appId: string }>();
  /** Receiver path -> every signing secret its endpoint has had. */
  const secretsOf = new Map<string, string[]>();
  let t0: Date;

  let appId = '';
  let otherAppId = '';
  let main: EndpointOut;
  let all: EndpointOut;
  let late: EndpointOut;
  const msgs: Record<string, MessageOut> = {};

  const arrivals = (path: string, msgId: string): Received[] => receiver.at(path).filter((r) => r.headers['webhook-id'] === msgId);
  const idsAt = (path: string): string[] => receiver.at(path).map((r) => header(r, 'webhook-id'));

  /** Waits until every `[path, msgId]` pair has arrived, then until every attempt is recorded. */
  async function delivered(pairs: [string, string][], what: string): Promise<void> {
    await eventually(() => pairs.every(([p, id]) => arrivals(p, id).length > 0), what);
    await server.sb.dispatcher.idle();
  }

  /** Sends a message with the SDK and remembers it; returns once the server clock has moved on. */
  async function send(id: string, msg: MessageIn, idempotencyKey?: string, app = appId): Promise<MessageOut> {
    const m = await svix.message.create(app, msg, idempotencyKey ? { idempotencyKey } : undefined);
    assert.equal(lastStatus(), 202);
    assert.match(m.id, /^msg_[0-9A-Za-z]{27}$/);
    sent.set(m.id, { body: JSON.stringify(msg.payload), eventType: msg.eventType, appId: app });
    msgs[id] = m;
    // The next message gets a later timestamp, so before/after filters have something to separate.
    await eventually(() => Date.now() > m.timestamp.getTime(), 'the clock to pass the message timestamp', { intervalMs: 1 });
    return m;
  }

  /** Checks a delivery: signed with `secret`, `webhook-id` = message id, body = the payload sent. */
  function checkDelivery(r: Received, secret: string): void {
    const id = header(r, 'webhook-id');
    const m = sent.get(id);
    assert.ok(m, `delivery to ${r.path} carries an unknown webhook-id ${id}`);
    assert.equal(r.body, m.body, `body of ${id}`);
    assert.deepEqual(verify(r, secret), JSON.parse(m.body));
    assert.equal(header(r, 'content-type'), 'application/json');
    assert.equal(r.headers['svix-id'], undefined, 'standard header style sends no svix-* headers');
  }

  before(async () => {
    receiver = await new Receiver().start();
    // One quick retry (50 ms ± 20 %), so the recover scenario fails fast and for good.
    server = await startServer({ SWITCHBOARD_RETRY_SCHEDULE: '0.05' });
    const recordingFetch: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      calls.push({ method: init?.method ?? 'GET', url: input instanceof Request ? input.url : String(input), status: res.status });
      return res;
    };
    // No SDK retries: a 5xx must surface as an error, not be retried away.
    svix = new Svix(server.token, { serverUrl: server.url, retryScheduleInMs: [], fetch: recordingFetch });
    t0 = new Date();
  });

  after(async () => {
    await server?.close();
    await receiver?.close();
  });

  it('health answers', async () => {
    await svix.health.get();
    assert.equal(lastStatus(), 204);
  });

  it('creates applications, also get-or-create', async () => {
    const app = await svix.application.create({ name: 'Acme', uid: 'acme', metadata: { plan: 'pro' } });
    assert.equal(lastStatus(), 201);
    assert.match(app.id, /^app_[0-9A-Za-z]{27}$/);
    assert.equal(app.uid, 'acme');
    assert.equal(app.name, 'Acme');
    assert.deepEqual(app.metadata, { plan: 'pro' });
    assert.ok(!Number.isNaN(app.createdAt.getTime()) && !Number.isNaN(app.updatedAt.getTime()));
    appId = app.id;

    const same = await svix.application.getOrCreate({ name: 'Acme again', uid: 'acme' });
    assert.equal(lastStatus(), 200);
    assert.equal(same.id, appId);
    assert.equal(same.name, 'Acme', 'get-or-create returns the existing application unchanged');

    const other = await svix.application.getOrCreate({ name: 'Other', uid: 'other' });
    assert.equal(lastStatus(), 201);
    assert.notEqual(other.id, appId);
    otherAppId = other.id;

    await assert.rejects(svix.application.create({ name: 'Dup', uid: 'acme' }), apiError(409, 'conflict'));

    assert.equal((await svix.application.get('acme')).id, appId);
    assert.equal((await svix.application.get(appId)).uid, 'acme');

    const seen: string[] = [];
    let iterator: string | null | undefined;
    for (let page = 0; page < 10; page++) {
      const res = await svix.application.list({ limit: 1, iterator });
      seen.push(...res.data.map((a) => a.id));
      if (res.done) break;
      iterator = res.iterator;
    }
    sameSet(seen, [appId, otherAppId], 'listed applications');
  });

  const invoiceExample = { invoiceId: 'inv_example', amount: 4200, currency: 'EUR' };
  const invoiceSchema = {
    type: 'object',
    title: 'Invoice paid',
    properties: { invoiceId: { type: 'string' }, amount: { type: 'integer' }, currency: { type: 'string' } },
    required: ['invoiceId', 'amount'],
    examples: [invoiceExample],
  };

  it('creates event types with JSON schemas', async () => {
    const et = await svix.eventType.create({ name: 'invoice.paid', description: 'An invoice was paid', schemas: { '1': invoiceSchema } });
    assert.equal(lastStatus(), 201);
    assert.equal(et.name, 'invoice.paid');
    assert.equal(et.archived, false);
    assert.equal(et.deprecated, false);
    assert.deepEqual(et.schemas, { '1': invoiceSchema });
    await svix.eventType.create({ name: 'user.created', description: 'A user signed up' });
    await svix.eventType.create({ name: 'user.deleted', description: 'A user left' });
    await assert.rejects(svix.eventType.create({ name: 'user.created', description: 'again' }), apiError(409, 'conflict'));

    assert.deepEqual((await svix.eventType.get('invoice.paid')).schemas, { '1': invoiceSchema });
    const withContent = await svix.eventType.list({ withContent: true });
    sameSet(withContent.data.map((e) => e.name), ['invoice.paid', 'user.created', 'user.deleted'], 'event types');
    assert.deepEqual(withContent.data.find((e) => e.name === 'invoice.paid')!.schemas, { '1': invoiceSchema });
  });

  it('creates endpoints with filter types, channels, metadata, headers and secrets', async () => {
    main = await svix.endpoint.create(appId, {
      url: receiver.url('/main'),
      uid: 'main',
      description: 'billing',
      filterTypes: ['invoice.paid', 'user.created'],
      channels: ['eu', 'us'],
      metadata: { team: 'billing' },
      headers: { 'X-Tenant': 'acme' },
    });
    assert.equal(lastStatus(), 201);
    assert.match(main.id, /^ep_[0-9A-Za-z]{27}$/);
    assert.equal(main.uid, 'main');
    assert.equal(main.url, receiver.url('/main'));
    assert.equal(main.description, 'billing');
    assert.equal(main.disabled, false);
    assert.deepEqual(main.filterTypes, ['invoice.paid', 'user.created']);
    assert.deepEqual(main.channels, ['eu', 'us']);
    assert.deepEqual(main.metadata, { team: 'billing' });

    const allSecret = newSecret();
    all = await svix.endpoint.create(appId, { url: receiver.url('/all'), description: 'everything', secret: allSecret });
    assert.equal(all.filterTypes, undefined);
    assert.equal(all.channels, undefined);

    assert.equal((await svix.endpoint.get(appId, 'main')).id, main.id);
    sameSet((await svix.endpoint.list(appId)).data.map((e) => e.id), [main.id, all.id], 'endpoints');

    const mainSecret = (await svix.endpoint.getSecret(appId, main.id)).key;
    assert.match(mainSecret, /^whsec_[A-Za-z0-9+/=]{32,}$/);
    assert.equal((await svix.endpoint.getSecret(appId, all.id)).key, allSecret);
    secretsOf.set('/main', [mainSecret]);
    secretsOf.set('/all', [allSecret]);
  });

  it('sends messages to the matching endpoints, signed', async () => {
    await send('m1', { eventType: 'invoice.paid', eventId: 'evt-1', channels: ['eu'], tags: ['vip'], payload: { invoiceId: 'inv_1', amount: 100, note: 'ünïcødé ✓ 😀' } });
    await send('m2', { eventType: 'user.created', eventId: 'evt-2', channels: ['us'], payload: { userId: 'u_2', nested: { list: [1, 2, { deep: true }] } } });
    await send('m3', { eventType: 'user.deleted', channels: ['eu'], payload: { userId: 'u_3' } }); // filtered out of main by type
    await send('m4', { eventType: 'invoice.paid', payload: { invoiceId: 'inv_4', amount: 4 } }); // no channel: not for main
    await send('m5', { eventType: 'invoice.paid', channels: ['asia'], payload: { invoiceId: 'inv_5', amount: 5 } }); // other channel
    const m6 = await send('m6', { eventType: 'user.created', channels: ['eu'], payload: { userId: 'u_6' } }, 'create-m6');

    // The same idempotency key gives back the same response and publishes nothing new.
    const replayed = await svix.message.create(appId, { eventType: 'user.created', channels: ['eu'], payload: { userId: 'u_6' } }, { idempotencyKey: 'create-m6' });
    assert.equal(lastStatus(), 202);
    assert.equal(replayed.id, m6.id);
    assert.equal(replayed.timestamp.getTime(), m6.timestamp.getTime());

    // A second message with an eventId already used is refused.
    await assert.rejects(svix.message.create(appId, { eventType: 'invoice.paid', eventId: 'evt-1', payload: { again: true } }), apiError(409, 'conflict'));

    const { m1, m2, m3, m4, m5 } = msgs;
    assert.equal(m1!.eventId, 'evt-1');
    assert.deepEqual(m1!.channels, ['eu']);
    assert.deepEqual(m1!.tags, ['vip']);
    assert.equal(m1!.eventType, 'invoice.paid');

    await delivered(
      [
        ...[m1!, m2!, m6].map((m) => ['/main', m.id] as [string, string]),
        ...[m1!, m2!, m3!, m4!, m5!, m6].map((m) => ['/all', m.id] as [string, string]),
      ],
      'first deliveries',
    );
    sameSet(idsAt('/main'), [m1!.id, m2!.id, m6.id], 'main got exactly the matching messages, once each');
    sameSet(idsAt('/all'), [m1!.id, m2!.id, m3!.id, m4!.id, m5!.id, m6.id], 'all got every message once');
    for (const r of receiver.at('/main')) {
      checkDelivery(r, secretsOf.get('/main')![0]!);
      assert.equal(header(r, 'x-tenant'), 'acme', 'custom endpoint header is sent');
    }
    for (const r of receiver.at('/all')) checkDelivery(r, secretsOf.get('/all')![0]!);

    const total = (await svix.message.list(appId, { limit: 250 })).data.length;
    assert.equal(total, 6, 'the idempotent replay and the refused duplicate created no message');
  });

  /** Every message of the listing, page by page. */
  async function listAll(opts: Parameters<Svix['message']['list']>[1] = {}): Promise<MessageOut[]> {
    const out: MessageOut[] = [];
    let iterator: string | null | undefined;
    for (let page = 0; page < 50; page++) {
      const res = await svix.message.list(appId, { ...opts, limit: 2, iterator });
      assert.ok(res.data.length <= 2);
      out.push(...res.data);
      if (res.done) return out;
      iterator = res.iterator;
    }
    assert.fail('listing never finished');
  }

  it('lists messages page by page, with filters', async () => {
    const everything = await listAll();
    const ids = everything.map((m) => m.id);
    assert.equal(new Set(ids).size, ids.length, 'no message appears twice across pages');
    sameSet(ids, [...sent.keys()], 'every message listed');
    assert.deepEqual(ids, [...ids].sort().reverse(), 'newest first');
    assert.deepEqual(everything.find((m) => m.id === msgs.m2!.id)!.payload, JSON.parse(sent.get(msgs.m2!.id)!.body));

    sameSet((await listAll({ eventTypes: ['user.created', 'user.deleted'] })).map((m) => m.id), [msgs.m2!.id, msgs.m3!.id, msgs.m6!.id], 'by event types');
    sameSet((await listAll({ channel: 'eu' })).map((m) => m.id), [msgs.m1!.id, msgs.m3!.id, msgs.m6!.id], 'by channel');
    assert.deepEqual((await listAll({ tag: 'vip' })).map((m) => m.id), [msgs.m1!.id], 'by tag');
    const window = await listAll({ after: msgs.m2!.timestamp, before: msgs.m5!.timestamp });
    sameSet(window.map((m) => m.id), [msgs.m3!.id, msgs.m4!.id], 'between m2 and m5 (exclusive)');
    const noContent = await svix.message.list(appId, { withContent: false, limit: 250 });
    assert.ok(noContent.data.every((m) => JSON.stringify(m.payload) === '{}'), 'with_content=false leaves payloads out');
  });

  it('gets a message by id and by eventId', async () => {
    const m1 = msgs.m1!;
    const byId = await svix.message.get(appId, m1.id);
    assert.equal(byId.id, m1.id);
    assert.equal(byId.eventType, 'invoice.paid');
    assert.deepEqual(byId.payload, JSON.parse(sent.get(m1.id)!.body));
    assert.equal(byId.timestamp.getTime(), m1.timestamp.getTime());
    assert.equal((await svix.message.get(appId, 'evt-1')).id, m1.id);
    await assert.rejects(svix.message.get(appId, 'msg_unknown'), apiError(404, 'not_found'));
  });

  it('lists attempts by message and by endpoint, gets one, lists destinations and attempted messages, stats', async () => {
    const m1 = msgs.m1!;
    const byMsg = await svix.messageAttempt.listByMsg(appId, m1.id);
    assert.equal(byMsg.data.length, 2);
    sameSet(byMsg.data.map((a) => a.endpointId), [main.id, all.id], 'attempts of m1');
    for (const a of byMsg.data) {
      assert.match(a.id, /^atmpt_/);
      assert.equal(a.msgId, m1.id);
      assert.equal(a.status, MessageStatus.Success);
      assert.equal(a.statusText, 'success');
      assert.equal(a.responseStatusCode, 200);
      assert.equal(a.response, 'ok');
      assert.equal(a.triggerType, MessageAttemptTriggerType.Scheduled);
      assert.equal(a.url, a.endpointId === main.id ? main.url : all.url);
      assert.ok(a.responseDurationMs >= 0);
    }
    const onlyMain = await svix.messageAttempt.listByMsg(appId, m1.id, { endpointId: main.id });
    assert.deepEqual(onlyMain.data.map((a) => a.endpointId), [main.id]);

    const one = await svix.messageAttempt.get(appId, m1.id, onlyMain.data[0]!.id);
    assert.deepEqual(one, onlyMain.data[0]);
    await assert.rejects(svix.messageAttempt.get(appId, m1.id, 'atmpt_unknown'), apiError(404, 'not_found'));

    const byEndpoint = await svix.messageAttempt.listByEndpoint(appId, main.id);
    sameSet(byEndpoint.data.map((a) => a.msgId), [msgs.m1!.id, msgs.m2!.id, msgs.m6!.id], 'attempts at main');
    assert.equal((await svix.messageAttempt.listByEndpoint(appId, main.id, { status: MessageStatus.Fail })).data.length, 0);
    assert.equal((await svix.messageAttempt.listByEndpoint(appId, main.id, { status: MessageStatus.Success })).data.length, 3);

    const dest = await svix.messageAttempt.listAttemptedDestinations(appId, m1.id);
    sameSet(dest.data.map((d) => d.id), [main.id, all.id], 'destinations of m1');
    assert.ok(dest.data.every((d) => d.status === MessageStatus.Success));
    assert.deepEqual((await svix.messageAttempt.listAttemptedDestinations(appId, msgs.m3!.id)).data.map((d) => d.id), [all.id]);

    const attempted = await svix.messageAttempt.listAttemptedMessages(appId, main.id);
    sameSet(attempted.data.map((m) => m.id), [msgs.m1!.id, msgs.m2!.id, msgs.m6!.id], 'messages attempted at main');
    assert.ok(attempted.data.every((m) => m.status === MessageStatus.Success && m.statusText === MessageStatusText.Success));
    const attemptedInvoices = await svix.messageAttempt.listAttemptedMessages(appId, main.id, { eventTypes: ['invoice.paid'] });
    assert.deepEqual(attemptedInvoices.data.map((m) => m.id), [msgs.m1!.id]);

    const stats = await svix.endpoint.getStats(appId, main.id);
    assert.deepEqual(stats, { success: 3, pending: 0, fail: 0, sending: 0, canceled: 0 });
  });

  it('reads, replaces and patches endpoint headers, and sends them', async () => {
    assert.deepEqual(await svix.endpoint.getHeaders(appId, main.id), { headers: { 'X-Tenant': 'acme' }, sensitive: [] });

    await svix.endpoint.updateHeaders(appId, main.id, { headers: { 'X-Tenant': 'acme-2', Authorization: 'Bearer s3cret' } });
    assert.equal(lastStatus(), 204);
    assert.deepEqual(await svix.endpoint.getHeaders(appId, main.id), { headers: { 'X-Tenant': 'acme-2' }, sensitive: ['Authorization'] }, 'sensitive values are redacted');

    await svix.endpoint.patchHeaders(appId, main.id, { headers: { 'X-Trace': 'on' } });
    assert.equal(lastStatus(), 204);
    assert.deepEqual(await svix.endpoint.getHeaders(appId, main.id), { headers: { 'X-Tenant': 'acme-2', 'X-Trace': 'on' }, sensitive: ['Authorization'] });

    await svix.endpoint.patchHeaders(appId, main.id, { headers: {}, deleteHeaders: ['X-Trace'] });
    assert.deepEqual(await svix.endpoint.getHeaders(appId, main.id), { headers: { 'X-Tenant': 'acme-2' }, sensitive: ['Authorization'] });

    const m7 = await send('m7', { eventType: 'invoice.paid', channels: ['us'], payload: { invoiceId: 'inv_7', amount: 7 } });
    await delivered([['/main', m7.id], ['/all', m7.id]], 'm7');
    const [r] = arrivals('/main', m7.id);
    checkDelivery(r!, secretsOf.get('/main')![0]!);
    assert.equal(header(r!, 'x-tenant'), 'acme-2');
    assert.equal(header(r!, 'authorization'), 'Bearer s3cret');
    assert.equal(r!.headers['x-trace'], undefined);
  });

  it('rotates secrets: the previous secret keeps signing alongside the new one', async () => {
    const oldMain = (await svix.endpoint.getSecret(appId, main.id)).key;
    await svix.endpoint.rotateSecret(appId, main.id);
    assert.equal(lastStatus(), 204);
    const newMain = (await svix.endpoint.getSecret(appId, main.id)).key;
    assert.notEqual(newMain, oldMain);
    assert.match(newMain, /^whsec_/);
    secretsOf.get('/main')!.push(newMain);

    const m8 = await send('m8', { eventType: 'invoice.paid', channels: ['eu'], payload: { invoiceId: 'inv_8', amount: 8 } });
    await delivered([['/main', m8.id], ['/all', m8.id]], 'm8');
    const [r] = arrivals('/main', m8.id);
    assert.equal(header(r!, 'webhook-signature').split(' ').length, 2, 'two signatures during rotation');
    checkDelivery(r!, newMain);
    checkDelivery(r!, oldMain);
    assert.throws(() => verify(r!, newSecret()), WebhookVerificationError, 'an unrelated secret does not verify');

    // Rotating to a chosen key with no grace: only the new key signs from now on.
    const oldAll = (await svix.endpoint.getSecret(appId, all.id)).key;
    const chosen = newSecret();
    await svix.endpoint.rotateSecret(appId, all.id, { key: chosen, gracePeriodSeconds: 0 });
    assert.equal((await svix.endpoint.getSecret(appId, all.id)).key, chosen);
    secretsOf.get('/all')!.push(chosen);
    const m9 = await send('m9', { eventType: 'user.deleted', payload: { userId: 'u_9' } });
    await delivered([['/all', m9.id]], 'm9');
    const [r9] = arrivals('/all', m9.id);
    assert.equal(header(r9!, 'webhook-signature').split(' ').length, 1);
    checkDelivery(r9!, chosen);
    assert.throws(() => verify(r9!, oldAll), WebhookVerificationError, 'the retired secret no longer verifies');
  });

  it('resends a message to an endpoint with the same webhook-id', async () => {
    const m1 = msgs.m1!;
    const res = await svix.messageAttempt.resend(appId, m1.id, main.id);
    assert.equal(lastStatus(), 202);
    assert.deepEqual(res, {});
    await eventually(() => arrivals('/main', m1.id).length === 2, 'resent m1');
    await server.sb.dispatcher.idle();
    const again = arrivals('/main', m1.id)[1]!;
    assert.equal(header(again, 'webhook-id'), m1.id);
    for (const secret of secretsOf.get('/main')!) checkDelivery(again, secret);

    const attempts = await svix.messageAttempt.listByMsg(appId, m1.id, { endpointId: main.id });
    assert.equal(attempts.data.length, 2);
    sameSet(
      attempts.data.map((a) => String(a.triggerType)),
      [String(MessageAttemptTriggerType.Scheduled), String(MessageAttemptTriggerType.Manual)],
      'one scheduled and one manual attempt',
    );
    await assert.rejects(svix.messageAttempt.resend(appId, 'msg_unknown', main.id), apiError(404, 'not_found'));
  });

  it('sends an example from the event type schema to one endpoint', async () => {
    const ex = await svix.endpoint.sendExample(appId, main.id, { eventType: 'invoice.paid' });
    assert.equal(lastStatus(), 200);
    assert.equal(ex.eventType, 'invoice.paid');
    assert.deepEqual(ex.payload, invoiceExample);
    sent.set(ex.id, { body: JSON.stringify(invoiceExample), eventType: 'invoice.paid', appId });
    await delivered([['/main', ex.id]], 'example');
    for (const secret of secretsOf.get('/main')!) checkDelivery(arrivals('/main', ex.id)[0]!, secret);
    assert.deepEqual((await svix.messageAttempt.listAttemptedDestinations(appId, ex.id)).data.map((d) => d.id), [main.id], 'only to that endpoint');
    await assert.rejects(svix.endpoint.sendExample(appId, main.id, { eventType: 'user.created' }), apiError(400), 'no example in its schemas');
  });

  it('recovers failed deliveries once the endpoint answers again', async () => {
    const recoveryApp = await svix.application.create({ name: 'Recovery' });
    let failing = true;
    receiver.on('/flaky', (_r, res) => {
      if (failing) res.writeHead(500, { 'content-type': 'text/plain' }).end('boom');
      else res.writeHead(204).end();
    });
    const flaky = await svix.endpoint.create(recoveryApp.id, { url: receiver.url('/flaky') });
    const secret = (await svix.endpoint.getSecret(recoveryApp.id, flaky.id)).key;
    secretsOf.set('/flaky', [secret]);

    const r1 = await send('r1', { eventType: 'invoice.paid', payload: { invoiceId: 'inv_r1', amount: 1 } }, undefined, recoveryApp.id);
    const r2 = await send('r2', { eventType: 'invoice.paid', payload: { invoiceId: 'inv_r2', amount: 2 } }, undefined, recoveryApp.id);
    // The first attempt and the one retry of each fail.
    await eventually(() => arrivals('/flaky', r1.id).length === 2 && arrivals('/flaky', r2.id).length === 2, 'failed attempts');
    await server.sb.dispatcher.idle();

    for (const m of [r1, r2]) {
      const attempts = await svix.messageAttempt.listByMsg(recoveryApp.id, m.id);
      assert.equal(attempts.data.length, 2);
      assert.ok(attempts.data.every((a) => a.status === MessageStatus.Fail && a.responseStatusCode === 500 && a.response === 'boom'));
    }
    const failed = await svix.messageAttempt.listAttemptedMessages(recoveryApp.id, flaky.id);
    assert.ok(failed.data.every((m) => m.status === MessageStatus.Fail), 'deliveries failed for good');
    assert.deepEqual(await svix.endpoint.getStats(recoveryApp.id, flaky.id), { success: 0, pending: 0, fail: 2, sending: 0, canceled: 0 });

    failing = false;
    const task = await svix.endpoint.recover(recoveryApp.id, flaky.id, { since: t0 });
    assert.equal(lastStatus(), 202);
    assert.match(task.id, /^qtask_/);
    assert.equal(task.task, 'endpoint.recover');
    assert.ok(['running', 'finished'].includes(task.status));
    await eventually(() => arrivals('/flaky', r1.id).length === 3 && arrivals('/flaky', r2.id).length === 3, 'recovered deliveries');
    await server.sb.dispatcher.idle();

    for (const m of [r1, r2]) {
      const got = arrivals('/flaky', m.id);
      assert.equal(got.length, 3);
      for (const r of got) {
        assert.equal(header(r, 'webhook-id'), m.id, 'webhook-id is stable across retries and recovery');
        checkDelivery(r, secret);
      }
      const attempts = await svix.messageAttempt.listByMsg(recoveryApp.id, m.id);
      const manual = attempts.data.filter((a: MessageAttemptOut) => a.triggerType === MessageAttemptTriggerType.Manual);
      assert.equal(manual.length, 1);
      assert.equal(manual[0]!.status, MessageStatus.Success);
      assert.equal(manual[0]!.responseStatusCode, 204);
    }
    assert.deepEqual(await svix.endpoint.getStats(recoveryApp.id, flaky.id), { success: 2, pending: 0, fail: 0, sending: 0, canceled: 0 });

    await svix.application.delete(recoveryApp.id);
    await assert.rejects(svix.endpoint.list(recoveryApp.id), apiError(404, 'not_found'));
  });

  it('replays missing messages to a new endpoint, once', async () => {
    late = await svix.endpoint.create(appId, { url: receiver.url('/late'), uid: 'late', filterTypes: ['user.created', 'user.deleted'] });
    secretsOf.set('/late', [(await svix.endpoint.getSecret(appId, late.id)).key]);
    const expected = [...sent].filter(([, m]) => m.appId === appId && m.eventType.startsWith('user.')).map(([id]) => id);
    assert.ok(expected.length >= 4);

    const task = await svix.endpoint.replayMissing(appId, late.id, { since: t0 });
    assert.equal(lastStatus(), 202);
    assert.equal(task.task, 'endpoint.replay');
    await delivered(expected.map((id) => ['/late', id] as [string, string]), 'replayed messages');
    sameSet(idsAt('/late'), expected, 'late got exactly the missing matching messages');
    for (const r of receiver.at('/late')) checkDelivery(r, secretsOf.get('/late')![0]!);

    await svix.endpoint.replayMissing(appId, late.id, { since: t0 });
    const attempted = await svix.messageAttempt.listAttemptedMessages(appId, late.id, { limit: 250 });
    sameSet(attempted.data.map((m) => m.id), expected, 'a second replay adds nothing');
  });

  it('expunges message and attempt content', async () => {
    const m4 = msgs.m4!;
    await svix.message.expungeContent(appId, m4.id);
    assert.equal(lastStatus(), 204);
    assert.deepEqual((await svix.message.get(appId, m4.id)).payload, {});
    assert.equal((await svix.message.get(appId, m4.id)).eventType, 'invoice.paid');

    const m1 = msgs.m1!;
    const [attempt] = (await svix.messageAttempt.listByMsg(appId, m1.id, { endpointId: all.id })).data;
    await svix.messageAttempt.expungeContent(appId, m1.id, attempt!.id);
    assert.equal((await svix.messageAttempt.get(appId, m1.id, attempt!.id)).response, '');
  });

  it('updates, patches and deletes applications', async () => {
    const updated = await svix.application.update(appId, { name: 'Acme Inc', uid: 'acme', metadata: { plan: 'enterprise' } });
    assert.equal(lastStatus(), 200);
    assert.equal(updated.name, 'Acme Inc');
    assert.deepEqual(updated.metadata, { plan: 'enterprise' });

    const patched = await svix.application.patch(appId, { name: 'Acme Corp' });
    assert.equal(patched.name, 'Acme Corp');
    assert.deepEqual(patched.metadata, { plan: 'enterprise' }, 'patch keeps what it does not name');
    assert.equal(patched.uid, 'acme');

    const created = await svix.application.update('made-by-put', { name: 'Made by PUT' });
    assert.equal(lastStatus(), 201);
    assert.equal(created.uid, 'made-by-put');
    await svix.application.delete('made-by-put');
    assert.equal(lastStatus(), 204);

    await svix.application.delete(otherAppId);
    await assert.rejects(svix.application.get(otherAppId), apiError(404, 'not_found'));
    await assert.rejects(svix.application.get('other'), apiError(404, 'not_found'));
    sameSet((await svix.application.list()).data.map((a) => a.id), [appId], 'only the main application is left');
  });

  it('updates, patches, disables and deletes endpoints', async () => {
    const updated = await svix.endpoint.update(appId, late.id, {
      url: receiver.url('/late'),
      description: 'late joiner',
      filterTypes: ['user.deleted'],
      metadata: { k: 'v' },
    });
    assert.equal(lastStatus(), 200);
    assert.equal(updated.description, 'late joiner');
    assert.deepEqual(updated.filterTypes, ['user.deleted']);
    assert.deepEqual(updated.metadata, { k: 'v' });
    assert.equal(updated.channels, undefined);

    const disabled = await svix.endpoint.patch(appId, late.id, { disabled: true });
    assert.equal(disabled.disabled, true);
    assert.equal(disabled.description, 'late joiner', 'patch keeps what it does not name');
    const m10 = await send('m10', { eventType: 'user.deleted', payload: { userId: 'u_10' } });
    assert.deepEqual((await svix.messageAttempt.listAttemptedDestinations(appId, m10.id)).data.map((d) => d.id), [all.id], 'a disabled endpoint gets nothing');
    await delivered([['/all', m10.id]], 'm10');

    const enabled = await svix.endpoint.patch(appId, late.id, { disabled: false, channels: ['eu'] });
    assert.equal(enabled.disabled, false);
    assert.deepEqual(enabled.channels, ['eu']);
    assert.deepEqual(enabled.filterTypes, ['user.deleted']);

    const put = await svix.endpoint.update(appId, 'made-by-put', { url: receiver.url('/put') });
    assert.equal(lastStatus(), 201);
    assert.equal(put.uid, 'made-by-put');

    await svix.endpoint.delete(appId, late.id);
    assert.equal(lastStatus(), 204);
    await svix.endpoint.delete(appId, 'made-by-put');
    await assert.rejects(svix.endpoint.get(appId, late.id), apiError(404, 'not_found'));
    sameSet((await svix.endpoint.list(appId)).data.map((e) => e.id), [main.id, all.id], 'endpoints left');
  });

  it('updates, patches, archives and expunges event types', async () => {
    const updated = await svix.eventType.update('user.deleted', { description: 'A user was deleted', schemas: { '1': { type: 'object' } } });
    assert.equal(lastStatus(), 200);
    assert.equal(updated.description, 'A user was deleted');
    assert.deepEqual(updated.schemas, { '1': { type: 'object' } });

    const patched = await svix.eventType.patch('user.deleted', { deprecated: true });
    assert.equal(patched.deprecated, true);
    assert.equal(patched.description, 'A user was deleted');

    await svix.eventType.delete('user.deleted');
    assert.equal(lastStatus(), 204);
    assert.equal((await svix.eventType.get('user.deleted')).archived, true, 'delete archives by default');
    sameSet((await svix.eventType.list()).data.map((e) => e.name), ['invoice.paid', 'user.created'], 'archived types are not listed');
    const withArchived = await svix.eventType.list({ includeArchived: true });
    sameSet(withArchived.data.map((e) => e.name), ['invoice.paid', 'user.created', 'user.deleted'], 'unless asked for');

    await svix.eventType.delete('user.deleted', { expunge: true });
    await assert.rejects(svix.eventType.get('user.deleted'), apiError(404, 'not_found'));
    sameSet((await svix.eventType.list({ includeArchived: true })).data.map((e) => e.name), ['invoice.paid', 'user.created'], 'expunged for good');
  });

  it('every delivered request verified with standardwebhooks and carried its message id', async () => {
    await server.sb.dispatcher.idle();
    assert.ok(receiver.received.length >= 20, `only ${receiver.received.length} deliveries`);
    for (const r of receiver.received) {
      const secrets = secretsOf.get(r.path);
      assert.ok(secrets, `delivery to an unexpected path ${r.path}`);
      const verifiedWith = secrets.filter((s) => {
        try {
          checkDelivery(r, s);
          return true;
        } catch {
          return false;
        }
      });
      assert.ok(verifiedWith.length > 0, `delivery of ${String(r.headers['webhook-id'])} to ${r.path} did not verify`);
    }
    const serverErrors = calls.filter((c) => c.status >= 500);
    assert.deepEqual(serverErrors, [], 'the SDK never got a 5xx');
  });
});
