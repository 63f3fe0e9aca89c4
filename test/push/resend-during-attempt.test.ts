/**
 * A resend never drops the request: one that arrives while the delivery's attempt is still
 * in flight is sent after that attempt settles, and one that arrives while a retry waits
 * makes it due now. Driven through the official `svix` SDK against a real Switchboard and a
 * real loopback receiver that holds the first request open until the test releases it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { MessageAttemptTriggerType, MessageStatus, Svix } from 'svix';
import { Webhook } from 'standardwebhooks';
import { eventually } from '../helpers/eventually.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { Receiver } from '../helpers/receiver.js';
import type { Received } from '../helpers/receiver.js';

const DAY = 86_400_000;

const newSecret = (): string => 'whsec_' + randomBytes(24).toString('base64');

/** Checks a request the receiver got: signed with `secret`, for message `msgId`, carrying `payload`. */
function checkSigned(r: Received, secret: string, msgId: string, payload: unknown): void {
  const h = (name: string): string => {
    const v = r.headers[name];
    assert.equal(typeof v, 'string', `header ${name}`);
    return v as string;
  };
  assert.equal(h('webhook-id'), msgId);
  const verified = new Webhook(secret).verify(r.body, { 'webhook-id': h('webhook-id'), 'webhook-timestamp': h('webhook-timestamp'), 'webhook-signature': h('webhook-signature') });
  assert.deepEqual(verified, payload);
}

describe('resend during an attempt', () => {
  let server: TestServer;
  let receiver: Receiver;
  let svix: Svix;
  let appId = '';

  before(async () => {
    receiver = await new Receiver().start();
    // Time stands still (no lease expires, no retry falls due) and the safety-net sweep never
    // runs: anything arriving again was sent because of the resend, and found without a sweep.
    server = await startServer({ SWITCHBOARD_RETRY_SCHEDULE: '3600' }, { clock: new FakeClock(), sweepIntervalMs: 10 * DAY });
    svix = new Svix(server.token, { serverUrl: server.url, retryScheduleInMs: [] });
    appId = (await svix.application.create({ name: 'Resends' })).id;
  });

  after(async () => {
    await server?.close();
    await receiver?.close();
  });

  it('sends a message again after the attempt in flight when the resend arrives during it', async () => {
    const held: { res: ServerResponse | null } = { res: null };
    receiver.on('/held', (_r, res, n) => {
      if (n > 1) return void res.writeHead(200).end('ok');
      held.res = res; // answered when the test releases it
      return 'hang';
    });
    const secret = newSecret();
    const ep = await svix.endpoint.create(appId, { url: receiver.url('/held'), secret });
    const payload = { order: 1, note: 'held' };
    const msg = await svix.message.create(appId, { eventType: 'order.created', payload });

    await eventually(() => held.res !== null, 'the first request to be held by the receiver');
    // The attempt is in flight until the receiver answers; the resend comes now.
    assert.deepEqual(await svix.messageAttempt.resend(appId, msg.id, ep.id), {});
    assert.equal(receiver.at('/held').length, 1, 'nothing is sent beside the attempt in flight');

    const releasedAt = Date.now();
    held.res!.writeHead(200).end('ok');
    const [first, second] = await eventually(() => {
      const got = receiver.at('/held');
      return got.length >= 2 ? got : null;
    }, 'the resent request after the held one was answered');
    checkSigned(first!, secret, msg.id, payload);
    checkSigned(second!, secret, msg.id, payload);
    assert.ok(second!.at >= releasedAt, 'the resend is sent after the attempt in flight settled');

    const attempts = await eventually(async () => {
      const list = await svix.messageAttempt.listByMsg(appId, msg.id, { endpointId: ep.id });
      return list.data.length === 2 ? list.data : null;
    }, 'both attempts on record');
    assert.deepEqual(
      attempts.map((a) => [String(a.triggerType), a.status]).sort(),
      [
        [String(MessageAttemptTriggerType.Scheduled), MessageStatus.Success],
        [String(MessageAttemptTriggerType.Manual), MessageStatus.Success],
      ].sort(),
      'the first attempt and the resend, both delivered',
    );
  });

  it('makes a retry waiting an hour due now when the message is resent', async () => {
    receiver.on('/flaky', (_r, res, n) => void res.writeHead(n === 1 ? 500 : 200).end(n === 1 ? 'down' : 'ok'));
    const secret = newSecret();
    const ep = await svix.endpoint.create(appId, { url: receiver.url('/flaky'), secret });
    const payload = { order: 2 };
    const msg = await svix.message.create(appId, { eventType: 'order.created', payload });
    // The failed attempt is recorded, so its retry is scheduled an hour from now.
    await eventually(async () => (await svix.messageAttempt.listByMsg(appId, msg.id, { endpointId: ep.id })).data.length === 1, 'the failed attempt on record');

    await svix.messageAttempt.resend(appId, msg.id, ep.id);
    const got = await eventually(() => (receiver.at('/flaky').length >= 2 ? receiver.at('/flaky') : null), 'the resent request');
    checkSigned(got[1]!, secret, msg.id, payload);
  });
});
