/**
 * The rabbitMq sink against the real broker, through a loopback proxy that takes it down and
 * up: batches of 1 and 100 arrive on a per-run exchange with the documented properties; the
 * broker down at the first delivery, a connection cut between batches and in the middle of
 * one are retryable errors, and after a retry every event has arrived at least once; wrong
 * credentials and an unknown exchange are non-retryable, with no password in the message.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import amqp from 'amqplib';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type { SinkTransport } from '../../../src/bridges/streams/sink-transport.js';
import { openSinkTransport } from '../../../src/bridges/streams/transports/index.js';
import { eventually } from '../../helpers/eventually.js';
import { BROKERS, skipWithoutBroker } from '../../helpers/requirements.js';
import { TcpProxy } from '../../helpers/tcp-proxy.js';
import { allArrived, deliverWithRetry, deliveryError } from './delivery-checks.js';
import { makeEvents, makeTarget, runSuffix } from './sink-fixtures.js';

const skip = await skipWithoutBroker('rabbitMq');
const BROKER = BROKERS.rabbitMq.url;

describe('rabbitMq sink', { skip }, () => {
  const run = runSuffix();
  const exchange = `switchboard-test-${run}`;
  const queue = `switchboard-test-${run}`;
  const routingKey = `events-${run}`;
  let admin: ChannelModel;
  let ch: Channel;
  let proxy: TcpProxy;
  const received: ConsumeMessage[] = [];
  const open: SinkTransport[] = [];

  function transport(uri = proxy.url(BROKER), config: Record<string, unknown> = {}) {
    const target = makeTarget('rabbitMq', { uri, routingKey, exchange, ...config });
    const t = openSinkTransport(target, { connectTimeoutMs: 3000 });
    open.push(t);
    return { t, target };
  }
  const ids = () => received.map((m) => String(m.properties.messageId));

  before(async () => {
    admin = await amqp.connect(BROKER);
    ch = await admin.createChannel();
    await ch.assertExchange(exchange, 'direct', { durable: false, autoDelete: false });
    await ch.assertQueue(queue, { durable: false, autoDelete: false });
    await ch.bindQueue(queue, exchange, routingKey);
    await ch.consume(queue, (m) => m && received.push(m), { noAck: true });
    proxy = await TcpProxy.to(BROKER, 5672);
  });

  after(async () => {
    for (const t of open) await t.close();
    await proxy?.down();
    await ch?.deleteQueue(queue).catch(() => {});
    await ch?.deleteExchange(exchange).catch(() => {});
    await admin?.close();
  });

  for (const n of [1, 100]) {
    it(`delivers a batch of ${n}, confirmed, with the documented properties`, async () => {
      const { t, target } = transport();
      const events = makeEvents(n);
      await t.deliver(events);
      await eventually(() => allArrived(events, ids()), `${n} messages on the queue`);
      for (const e of events) {
        const m = received.find((r) => r.properties.messageId === e.id)!;
        assert.equal(m.content.toString('utf8'), e.payload);
        assert.equal(m.properties.type, e.eventType);
        assert.equal(m.properties.contentType, 'application/json');
        assert.equal(m.properties.deliveryMode, 2, 'persistent');
        assert.equal(m.properties.timestamp, Math.floor(e.createdAt / 1000));
        assert.equal(m.properties.headers?.['switchboard-stream-id'], target.streamId);
        assert.equal(m.properties.headers?.['switchboard-seq'], e.seq);
        assert.equal(m.fields.routingKey, routingKey);
      }
    });
  }

  it('the broker down at the first delivery: a retryable error, then it delivers once the broker is back', async () => {
    const { t } = transport();
    const events = makeEvents(10);
    await proxy.down();
    try {
      await deliveryError(t.deliver(events), true);
    } finally {
      await proxy.up();
    }
    await t.deliver(events);
    await eventually(() => allArrived(events, ids()), 'the batch after the broker came back');
  });

  it('a connection cut between batches: the next batch gets in (after at most a retryable error)', async () => {
    const { t } = transport();
    const first = makeEvents(5);
    await t.deliver(first);
    proxy.cut();
    const second = makeEvents(5);
    await deliverWithRetry(t, second);
    await eventually(() => allArrived([...first, ...second], ids()), 'both batches');
  });

  it('a connection cut in the middle of a batch: a retryable error, and after the retry none is lost', async () => {
    const { t } = transport();
    await t.deliver(makeEvents(1)); // connected
    const events = makeEvents(100);
    proxy.cutAfterBytes(4000);
    await deliveryError(t.deliver(events), true);
    await deliverWithRetry(t, events);
    await eventually(() => allArrived(events, ids()), 'every event of the cut batch');
  });

  it('wrong credentials: non-retryable, the message names the problem and not the password', async () => {
    const password = `wrong-${runSuffix()}`;
    const u = new URL(BROKER);
    u.password = password;
    const { t } = transport(u.toString());
    const e = await deliveryError(t.deliver(makeEvents(1)), false);
    assert.match(e.message, /ACCESS_REFUSED/);
    assert.match(e.message, /credentials/);
    assert.ok(!e.message.includes(password), e.message);
  });

  it('an unknown exchange: non-retryable 404 naming the exchange', async () => {
    const { t } = transport(proxy.url(BROKER), { exchange: `missing-${run}` });
    const e = await deliveryError(t.deliver(makeEvents(2)), false);
    assert.equal(e.status, 404);
    assert.match(e.message, new RegExp(`no exchange 'missing-${run}'`));
  });
});
