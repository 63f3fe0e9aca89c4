/**
 * The mqtt sink against the real broker, through a loopback proxy that takes it down and up:
 * batches of 1 and 100 reach a subscriber of the per-run topic as the documented JSON, at
 * QoS 1 (a QoS 1 subscriber gets them with QoS 1: the broker never downgrades them); the
 * broker down at the first delivery, a connection cut between batches and in the middle of
 * one are retryable errors, and after a retry every event has arrived at least once; wrong
 * credentials (a private Mosquitto that requires them) are non-retryable, with no password
 * in the message.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connectAsync } from 'mqtt';
import type { MqttClient } from 'mqtt';
import type { SinkTransport } from '../../../src/bridges/streams/sink-transport.js';
import { openSinkTransport } from '../../../src/bridges/streams/transports/index.js';
import { eventually } from '../../helpers/eventually.js';
import { BROKERS, skipWithoutBroker } from '../../helpers/requirements.js';
import { TcpProxy } from '../../helpers/tcp-proxy.js';
import { allArrived, deliverWithRetry, deliveryError } from './delivery-checks.js';
import { PRIVATE_USER, privateMosquitto, skipWithoutPrivateBrokers } from '../../helpers/private-brokers.js';
import { makeEvents, makeTarget, runSuffix } from './sink-fixtures.js';

const skip = await skipWithoutBroker('mqtt');
const BROKER = BROKERS.mqtt.url;

interface Arrived {
  id: string;
  eventType: string;
  payload: unknown;
  timestamp: string;
}

describe('mqtt sink', { skip }, () => {
  const run = runSuffix();
  const topic = `switchboard/test/${run}`;
  let subscriber: MqttClient;
  let proxy: TcpProxy;
  const received: Arrived[] = [];
  /** The QoS each message arrived with, by event id. */
  const qosOf = new Map<string, number>();
  const open: SinkTransport[] = [];

  function transport(url = proxy.url(BROKER)) {
    const t = openSinkTransport(makeTarget('mqtt', { url, topic }), { connectTimeoutMs: 3000, confirmTimeoutMs: 5000 });
    open.push(t);
    return t;
  }
  const ids = () => received.map((m) => m.id);

  before(async () => {
    subscriber = await connectAsync(BROKER, { reconnectPeriod: 0 });
    subscriber.on('message', (_topic, message, packet) => {
      const m = JSON.parse(message.toString('utf8')) as Arrived;
      received.push(m);
      qosOf.set(m.id, packet.qos);
    });
    await subscriber.subscribeAsync(topic, { qos: 1 });
    proxy = await TcpProxy.to(BROKER, 1883);
  });

  after(async () => {
    for (const t of open) await t.close();
    await proxy?.down();
    await subscriber?.endAsync();
  });

  for (const n of [1, 100]) {
    it(`delivers a batch of ${n}, acknowledged, as the documented JSON`, async () => {
      const t = transport();
      const events = makeEvents(n);
      await t.deliver(events);
      await eventually(() => allArrived(events, ids()), `${n} messages at the subscriber`);
      for (const e of events) {
        let payload: unknown = e.payload;
        try {
          payload = JSON.parse(e.payload);
        } catch {
          // plain text stays a string
        }
        assert.deepEqual(
          received.find((r) => r.id === e.id),
          { id: e.id, eventType: e.eventType, payload, timestamp: new Date(e.createdAt).toISOString() },
        );
      }
    });
  }

  it('messages arrive with QoS 1 at a QoS 1 subscriber', async () => {
    const t = transport();
    const events = makeEvents(20);
    await t.deliver(events);
    await eventually(() => allArrived(events, ids()), '20 messages at the subscriber');
    assert.deepEqual(
      events.map((e) => qosOf.get(e.id)),
      events.map(() => 1),
    );
  });

  it('the broker down at the first delivery: a retryable error, then it delivers once the broker is back', async () => {
    const t = transport();
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
    const t = transport();
    const first = makeEvents(5);
    await t.deliver(first);
    proxy.cut();
    const second = makeEvents(5);
    await deliverWithRetry(t, second);
    await eventually(() => allArrived([...first, ...second], ids()), 'both batches');
  });

  it('a connection cut in the middle of a batch: a retryable error, and after the retry none is lost', async () => {
    const t = transport();
    await t.deliver(makeEvents(1)); // connected
    const events = makeEvents(100);
    proxy.cutAfterBytes(4000);
    await deliveryError(t.deliver(events), true);
    await deliverWithRetry(t, events);
    await eventually(() => allArrived(events, ids()), 'every event of the cut batch');
  });

  it('wrong credentials: non-retryable, the message names the problem and not the password', { skip: skipWithoutPrivateBrokers('mqtt') }, async () => {
    const broker = await privateMosquitto({ password: `right-${runSuffix()}` });
    try {
      const password = `wrong-${runSuffix()}`;
      const t = transport(`mqtt://${PRIVATE_USER}:${password}@127.0.0.1:${broker.port}`);
      const e = await deliveryError(t.deliver(makeEvents(1)), false);
      assert.match(e.message, /refused the credentials/);
      assert.ok(!e.message.includes(password), e.message);
    } finally {
      await broker.close();
    }
  });
});
