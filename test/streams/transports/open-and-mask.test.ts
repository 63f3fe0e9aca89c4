/**
 * Choosing a transport and keeping credentials out of messages: an unknown sink type or an
 * unusable config gives a transport that fails every batch without retry (opening never
 * throws); maskUri and maskSecrets hide passwords, raw and percent-encoded.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DELIVERED_SINK_TYPES, openSinkTransport } from '../../../src/bridges/streams/transports/index.js';
import { maskSecrets, maskUri } from '../../../src/domain/uri-secrets.js';
import { deliveryError } from './delivery-checks.js';
import { makeEvents, makeTarget } from './sink-fixtures.js';

describe('opening a sink transport', () => {
  it('an unknown type fails every batch, not retryable', async () => {
    for (const type of ['poller', 'kafka', '__proto__', 'toString']) {
      const t = openSinkTransport(makeTarget(type, {}));
      const e = await deliveryError(t.deliver(makeEvents(1)), false);
      assert.match(e.message, /not delivered by this server/);
      await t.close();
    }
  });

  it('a config missing its fields fails every batch, not retryable, naming the field', async () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['http', {}, /"url"/],
      ['rabbitMq', { routingKey: 'k' }, /"uri"/],
      ['rabbitMq', { uri: 'http://x', routingKey: 'k' }, /amqp:\/\//],
      ['redis', { uri: 'redis://h' }, /"streamKey"/],
      ['redis', { uri: 'redis://h', streamKey: 'k', maxLen: -1 }, /"maxLen"/],
      ['natsJetStream', { url: 'nats://h' }, /"subject"/],
      ['mqtt', { url: 'mqtt://h', topic: 'a/#' }, /wildcards/],
    ];
    assert.deepEqual([...new Set(cases.map((c) => c[0]))].sort(), [...DELIVERED_SINK_TYPES].sort());
    for (const [type, config, why] of cases) {
      const t = openSinkTransport(makeTarget(type, config));
      const e = await deliveryError(t.deliver(makeEvents(1)), false);
      assert.match(e.message, why, `${type}: ${e.message}`);
      await t.close();
    }
  });
});

describe('masking credentials', () => {
  it('maskUri hides the password, and a lone token', () => {
    assert.equal(maskUri('amqp://guest:s3cret@rabbit:5672/vh'), 'amqp://guest:***@rabbit:5672/vh');
    assert.equal(maskUri('redis://:p%40ss@redis:6379'), 'redis://:***@redis:6379');
    assert.equal(maskUri('nats://tok3n@nats:4222'), 'nats://***@nats:4222');
    assert.equal(maskUri('mqtt://broker:1883'), 'mqtt://broker:1883');
    assert.equal(maskUri('not a uri'), '(invalid URI)');
  });

  it('maskSecrets hides the URI and the password, raw and decoded, in any text', () => {
    const uri = 'amqp://guest:p%40ss@rabbit:5672';
    const text = `failed on ${uri}: login guest/p@ss refused (p%40ss)`;
    const out = maskSecrets(text, uri);
    assert.ok(!out.includes('p@ss') && !out.includes('p%40ss'), out);
    assert.match(out, /amqp:\/\/guest:\*\*\*@rabbit:5672/);
  });
});
