/**
 * The redis sink against the real server, through a loopback proxy that takes it down and
 * up: batches of 1 and 100 arrive as stream entries with the documented fields (read back
 * with XRANGE); more events than `maxLen` leave about `maxLen` entries, the newest (XLEN);
 * the server down at the first delivery, a connection cut between batches and in the middle
 * of one are retryable errors, and after a retry every event is in the stream at least once;
 * wrong credentials and a key of another type are non-retryable, with no password in the
 * message.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'redis';
import type { SinkTransport } from '../../../src/bridges/streams/sink-transport.js';
import { openSinkTransport } from '../../../src/bridges/streams/transports/index.js';
import { BROKERS, skipWithoutBroker } from '../../helpers/requirements.js';
import { TcpProxy } from '../../helpers/tcp-proxy.js';
import { allArrived, deliverWithRetry, deliveryError } from './delivery-checks.js';
import { makeEvents, makeTarget, runSuffix } from './sink-fixtures.js';

const skip = await skipWithoutBroker('redis');
const SERVER = BROKERS.redis.url;

describe('redis sink', { skip }, () => {
  const run = runSuffix();
  const streamKey = `switchboard-test-${run}`;
  const wrongType = `switchboard-test-${run}-string`;
  const admin = createClient({ url: SERVER });
  let proxy: TcpProxy;
  const open: SinkTransport[] = [];

  function transport(uri = proxy.url(SERVER), config: Record<string, unknown> = {}) {
    const t = openSinkTransport(makeTarget('redis', { uri, streamKey, ...config }), { connectTimeoutMs: 3000 });
    open.push(t);
    return t;
  }
  async function entries() {
    return (await admin.xRange(streamKey, '-', '+')) ?? [];
  }
  async function ids(): Promise<string[]> {
    return (await entries()).map((e) => String(e.message.id));
  }

  before(async () => {
    await admin.connect();
    proxy = await TcpProxy.to(SERVER, 6379);
  });

  after(async () => {
    for (const t of open) await t.close();
    await proxy?.down();
    await admin.del([streamKey, wrongType]);
    await admin.close();
  });

  for (const n of [1, 100]) {
    it(`delivers a batch of ${n} as stream entries with the documented fields`, async () => {
      const t = transport();
      const events = makeEvents(n);
      await t.deliver(events);
      const all = await entries();
      for (const e of events) {
        const entry = all.find((x) => x.message.id === e.id);
        assert.ok(entry, `entry for ${e.id}`);
        assert.deepEqual({ ...entry.message }, { id: e.id, type: e.eventType, payload: e.payload, seq: String(e.seq) });
      }
      const order = all.map((x) => x.message.id).filter((id) => events.some((e) => e.id === id));
      assert.deepEqual(order, events.map((e) => e.id), 'in batch order');
    });
  }

  it('trims the stream to about maxLen: whole nodes, never below maxLen, the newest entries kept', async () => {
    const key = `${streamKey}-trim`;
    const maxLen = 50;
    const t = openSinkTransport(makeTarget('redis', { uri: proxy.url(SERVER), streamKey: key, maxLen }), { connectTimeoutMs: 3000 });
    open.push(t);
    try {
      const events = makeEvents(500);
      for (let i = 0; i < events.length; i += 100) await t.deliver(events.slice(i, i + 100));
      const length = await admin.xLen(key);
      // MAXLEN ~ removes whole macro nodes only: at most one node's entries above maxLen stay.
      const nodeEntries = Number((await admin.configGet('stream-node-max-entries'))['stream-node-max-entries']);
      assert.ok(length >= maxLen && length < maxLen + nodeEntries, `XLEN ${length} should be in [${maxLen}, ${maxLen + nodeEntries})`);
      assert.ok(length < events.length, `trimmed: ${length} of ${events.length}`);
      const kept = ((await admin.xRange(key, '-', '+')) ?? []).map((e) => String(e.message.id));
      assert.deepEqual(kept, events.slice(-length).map((e) => e.id), 'the newest entries, in order');
    } finally {
      await admin.del(key);
    }
  });

  it('the server down at the first delivery: a retryable error, then it delivers once the server is back', async () => {
    const t = transport();
    const events = makeEvents(10);
    await proxy.down();
    try {
      await deliveryError(t.deliver(events), true);
    } finally {
      await proxy.up();
    }
    await t.deliver(events);
    assert.ok(allArrived(events, await ids()));
  });

  it('a connection cut between batches: the next batch gets in (after at most a retryable error)', async () => {
    const t = transport();
    const first = makeEvents(5);
    await t.deliver(first);
    proxy.cut();
    const second = makeEvents(5);
    await deliverWithRetry(t, second);
    assert.ok(allArrived([...first, ...second], await ids()));
  });

  it('a connection cut in the middle of a batch: a retryable error, and after the retry none is lost', async () => {
    const t = transport();
    await t.deliver(makeEvents(1)); // connected
    const events = makeEvents(100);
    proxy.cutAfterBytes(4000);
    await deliveryError(t.deliver(events), true);
    await deliverWithRetry(t, events);
    assert.ok(allArrived(events, await ids()));
  });

  it('wrong credentials: non-retryable, the message names the problem and not the password', async () => {
    const password = `wrong-${runSuffix()}`;
    const u = new URL(proxy.url(SERVER));
    u.username = 'nobody';
    u.password = password;
    const e = await deliveryError(transport(u.toString()).deliver(makeEvents(1)), false);
    assert.match(e.message, /WRONGPASS/);
    assert.match(e.message, /credentials/);
    assert.ok(!e.message.includes(password), e.message);
  });

  it('a key that holds another type: non-retryable WRONGTYPE', async () => {
    await admin.set(wrongType, 'not a stream');
    const e = await deliveryError(transport(proxy.url(SERVER), { streamKey: wrongType }).deliver(makeEvents(2)), false);
    assert.match(e.message, /WRONGTYPE/);
  });
});
