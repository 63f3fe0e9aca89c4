/**
 * The http sink against a real loopback receiver: each batch is one POST whose signature the
 * `standardwebhooks` verifier accepts, with the events as a JSON array; a retried batch keeps
 * its webhook-id; a 500 is a retryable error with the status; a receiver that never answers
 * times out, and is cut when the transport closes; a URL outside the allowed networks is
 * refused for good.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { SinkDeliveryError } from '../../../src/bridges/streams/sink-transport.js';
import type { SinkEvent } from '../../../src/bridges/streams/sink-transport.js';
import { openSinkTransport } from '../../../src/bridges/streams/transports/index.js';
import { parseNetworks } from '../../../src/domain/network.js';
import { eventually } from '../../helpers/eventually.js';
import { Receiver } from '../../helpers/receiver.js';
import type { Received } from '../../helpers/receiver.js';
import { makeEvents, makeTarget } from './sink-fixtures.js';

function verify(r: Received, secret: string): unknown {
  const h = (n: string) => String(r.headers[n]);
  return new Webhook(secret).verify(r.body, { 'webhook-id': h('webhook-id'), 'webhook-timestamp': h('webhook-timestamp'), 'webhook-signature': h('webhook-signature') });
}

function expected(events: SinkEvent[]): unknown[] {
  return events.map((e) => {
    let payload: unknown = e.payload;
    try {
      payload = JSON.parse(e.payload);
    } catch {
      // plain text stays a string
    }
    return { id: e.id, eventType: e.eventType, payload, timestamp: new Date(e.createdAt).toISOString() };
  });
}

describe('http sink', () => {
  let rx: Receiver;
  before(async () => {
    rx = await new Receiver().start();
  });
  after(async () => {
    await rx.close();
  });

  for (const n of [1, 100]) {
    it(`delivers a batch of ${n} as one signed POST`, async () => {
      const target = makeTarget('http', { url: rx.url(`/batch-${n}`), headers: { 'x-from-config': 'c' } }, { 'x-from-sink': 's' });
      const t = openSinkTransport(target);
      try {
        const events = makeEvents(n);
        await t.deliver(events);
        const got = rx.at(`/batch-${n}`);
        assert.equal(got.length, 1);
        const r = got[0]!;
        assert.deepEqual(verify(r, target.secret), expected(events), 'the signature verifies and the body is the events');
        assert.equal(r.headers['content-type'], 'application/json');
        assert.equal(r.headers['x-from-config'], 'c');
        assert.equal(r.headers['x-from-sink'], 's');
        assert.match(String(r.headers['webhook-id']), /^batch_/);
      } finally {
        await t.close();
      }
    });
  }

  it('a retried batch has the same webhook-id, another batch another', async () => {
    const target = makeTarget('http', { url: rx.url('/same-id') });
    const t = openSinkTransport(target);
    try {
      const a = makeEvents(3);
      await t.deliver(a);
      await t.deliver(a);
      await t.deliver(makeEvents(3));
      const ids = rx.at('/same-id').map((r) => r.headers['webhook-id']);
      assert.equal(ids[0], ids[1]);
      assert.notEqual(ids[0], ids[2]);
    } finally {
      await t.close();
    }
  });

  it('a 500 is a retryable error with the status', async () => {
    rx.on('/fails', (_r, res) => void res.writeHead(500).end('boom'));
    const t = openSinkTransport(makeTarget('http', { url: rx.url('/fails') }));
    try {
      await assert.rejects(t.deliver(makeEvents(2)), (e: unknown) => {
        assert.ok(e instanceof SinkDeliveryError);
        assert.equal(e.status, 500);
        assert.equal(e.retryable, true);
        assert.match(e.message, /500/);
        return true;
      });
    } finally {
      await t.close();
    }
  });

  it('a receiver that never answers times out (retryable)', async () => {
    rx.on('/hangs', () => 'hang');
    const t = openSinkTransport(makeTarget('http', { url: rx.url('/hangs') }), { httpTimeoutMs: 300 });
    try {
      await assert.rejects(t.deliver(makeEvents(1)), (e: unknown) => {
        assert.ok(e instanceof SinkDeliveryError);
        assert.equal(e.retryable, true);
        assert.equal(e.status, null);
        assert.match(e.message, /timeout/);
        return true;
      });
    } finally {
      await t.close();
    }
  });

  // The sink dispatcher closes a sink's transport when it stops, after its grace: a request that
  // hangs is cut then (the batch's lease runs out and it is sent again), not waited out.
  it('close cuts a request to a receiver that never answers, long before its timeout', { timeout: 20_000 }, async () => {
    rx.on('/hangs-at-close', () => 'hang');
    const t = openSinkTransport(makeTarget('http', { url: rx.url('/hangs-at-close') }), { httpTimeoutMs: 600_000 });
    const delivery = t.deliver(makeEvents(1));
    await eventually(() => rx.at('/hangs-at-close').length === 1, 'the request at the receiver');
    await t.close();
    await assert.rejects(delivery, (e: unknown) => e instanceof SinkDeliveryError && e.retryable);
  });

  it('a receiver that is not listening is a retryable error', async () => {
    const closed = await new Receiver().start();
    const url = closed.url('/gone');
    await closed.close();
    const t = openSinkTransport(makeTarget('http', { url }));
    try {
      await assert.rejects(t.deliver(makeEvents(1)), (e: unknown) => e instanceof SinkDeliveryError && e.retryable && /ECONNREFUSED/.test(e.message));
    } finally {
      await t.close();
    }
  });

  it('an address outside the allowed networks is refused, not retried', async () => {
    const guarded = { allowedNetworks: parseNetworks('10.99.0.0/16') };
    for (const url of [rx.url('/guarded'), `http://localhost:${rx.port}/guarded`]) {
      const t = openSinkTransport(makeTarget('http', { url }), guarded);
      try {
        await assert.rejects(t.deliver(makeEvents(1)), (e: unknown) => {
          assert.ok(e instanceof SinkDeliveryError);
          assert.equal(e.retryable, false);
          assert.match(e.message, /refused.*loopback/);
          return true;
        });
      } finally {
        await t.close();
      }
    }
    assert.equal(rx.at('/guarded').length, 0);
  });

  it('a sink with no usable URL fails without retry', async () => {
    for (const config of [{}, { url: 'not a url' }, { url: 'ftp://example.com/x' }]) {
      const t = openSinkTransport(makeTarget('http', config));
      await assert.rejects(t.deliver(makeEvents(1)), (e: unknown) => e instanceof SinkDeliveryError && !e.retryable);
      await t.close();
    }
  });
});
