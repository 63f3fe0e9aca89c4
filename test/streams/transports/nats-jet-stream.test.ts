/**
 * The natsJetStream sink against the real server, through a loopback proxy that takes it
 * down and up: batches of 1 and 100 reach a per-run stream with the documented headers (read
 * by a JetStream consumer); a batch delivered twice is stored once (the event id is the
 * message id); the server down at the first delivery, a connection cut between batches and in
 * the middle of one are retryable errors, and after a retry every event is in the stream; no
 * stream for the subject and wrong credentials (a private server that requires them) are
 * non-retryable, with no password in the message.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'nats';
import type { JsMsg, JetStreamManager, NatsConnection } from 'nats';
import type { SinkTransport } from '../../../src/bridges/streams/sink-transport.js';
import { openSinkTransport } from '../../../src/bridges/streams/transports/index.js';
import { eventually } from '../../helpers/eventually.js';
import { BROKERS, skipWithoutBroker } from '../../helpers/requirements.js';
import { TcpProxy } from '../../helpers/tcp-proxy.js';
import { allArrived, deliverWithRetry, deliveryError } from './delivery-checks.js';
import { PRIVATE_USER, privateNats, skipWithoutPrivateBrokers } from '../../helpers/private-brokers.js';
import { makeEvents, makeTarget, runSuffix } from './sink-fixtures.js';

const skip = await skipWithoutBroker('nats');
const SERVER = BROKERS.nats.url;

describe('natsJetStream sink', { skip }, () => {
  const run = runSuffix();
  const stream = `SWITCHBOARD_TEST_${run}`;
  const subject = `switchboard.test.${run}`;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let proxy: TcpProxy;
  const received: JsMsg[] = [];
  let stopConsumer = () => {};
  const open: SinkTransport[] = [];

  function transport(url = proxy.url(SERVER), config: Record<string, unknown> = {}) {
    const target = makeTarget('natsJetStream', { url, subject, ...config });
    const t = openSinkTransport(target, { connectTimeoutMs: 3000, confirmTimeoutMs: 5000 });
    open.push(t);
    return { t, target };
  }
  const ids = () => received.map((m) => m.headers?.get('Nats-Msg-Id') ?? '');

  before(async () => {
    nc = await connect({ servers: new URL(SERVER).host });
    jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: stream, subjects: [subject], duplicate_window: 120_000_000_000 });
    const consumer = await nc.jetstream().consumers.get(stream);
    const messages = await consumer.consume();
    stopConsumer = () => void messages.stop();
    void (async () => {
      for await (const m of messages) received.push(m);
    })();
    proxy = await TcpProxy.to(SERVER, 4222);
  });

  after(async () => {
    for (const t of open) await t.close();
    await proxy?.down();
    stopConsumer();
    await jsm?.streams.delete(stream).catch(() => {});
    await nc?.close();
  });

  for (const n of [1, 100]) {
    it(`delivers a batch of ${n}, acknowledged, with the documented headers`, async () => {
      const { t, target } = transport();
      const events = makeEvents(n);
      await t.deliver(events);
      await eventually(() => allArrived(events, ids()), `${n} messages from the stream`);
      for (const e of events) {
        const m = received.find((r) => r.headers?.get('Nats-Msg-Id') === e.id)!;
        assert.equal(m.string(), e.payload);
        assert.equal(m.subject, subject);
        assert.equal(m.headers?.get('switchboard-event-type'), e.eventType);
        assert.equal(m.headers?.get('switchboard-stream-id'), target.streamId);
        assert.equal(m.headers?.get('switchboard-seq'), String(e.seq));
        assert.equal(m.headers?.get('switchboard-timestamp'), new Date(e.createdAt).toISOString());
      }
    });
  }

  it('a batch delivered twice is stored once', async () => {
    const { t } = transport();
    const events = makeEvents(5);
    const before = (await jsm.streams.info(stream)).state.messages;
    await t.deliver(events);
    await t.deliver(events);
    assert.equal((await jsm.streams.info(stream)).state.messages, before + 5);
  });

  it('the server down at the first delivery: a retryable error, then it delivers once the server is back', async () => {
    const { t } = transport();
    const events = makeEvents(10);
    await proxy.down();
    try {
      await deliveryError(t.deliver(events), true);
    } finally {
      await proxy.up();
    }
    await t.deliver(events);
    await eventually(() => allArrived(events, ids()), 'the batch after the server came back');
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

  it('no stream for the subject: non-retryable, and the message says so', async () => {
    const { t } = transport(proxy.url(SERVER), { subject: `switchboard.nostream.${run}` });
    const e = await deliveryError(t.deliver(makeEvents(1)), false);
    assert.match(e.message, /no JetStream stream captures subject/);
  });

  it('wrong credentials: non-retryable, the message names the problem and not the password', { skip: skipWithoutPrivateBrokers('nats') }, async () => {
    const server = await privateNats({ password: `right-${runSuffix()}` });
    try {
      const password = `wrong-${runSuffix()}`;
      const { t } = transport(`nats://${PRIVATE_USER}:${password}@127.0.0.1:${server.port}`);
      const e = await deliveryError(t.deliver(makeEvents(1)), false);
      assert.match(e.message, /credentials/);
      assert.match(e.message, /authorization/i);
      assert.ok(!e.message.includes(password), e.message);
    } finally {
      await server.close();
    }
  });
});
