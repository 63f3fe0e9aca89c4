/** Queue source configs: defaults, validation, credentials masked, and how a broker message is read. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../src/domain/errors.js';
import { parseQueueConfig, publicQueueConfig, withoutSecrets } from '../../src/domain/sources/queue-config.js';
import { maskUri } from '../../src/domain/uri-secrets.js';
import { decodeQueueMessage, eventIdOf } from '../../src/bridges/sources/queue/queue-message.js';

describe('queue source config', () => {
  it('fills defaults and shows the URI with its password masked', () => {
    const c = parseQueueConfig('rabbitMq', { uri: 'amqp://app:s3cr3t@mq.example:5672/vh', queue: 'orders' });
    assert.equal(c.type === 'rabbitMq' && c.prefetch, 100);
    assert.deepEqual(publicQueueConfig(c), { uri: 'amqp://app:***@mq.example:5672/vh', queue: 'orders', prefetch: 100 });
    const n = parseQueueConfig('natsJetStream', { url: 'nats://tok3n@nats.example', stream: 'S', durable: 'd' });
    assert.equal(publicQueueConfig(n).url, 'nats://***@nats.example');
    assert.equal(publicQueueConfig(n).ackWaitSecs, 30);
    assert.equal(maskUri('rediss://default:pw@r.example:6380/0?password=x'), 'rediss://default:***@r.example:6380/0?password=***');
    assert.equal(withoutSecrets(c, 'login failed for amqp://app:s3cr3t@mq.example:5672/vh (s3cr3t)'), 'login failed for amqp://app:***@mq.example:5672/vh (***)');
  });

  it('refuses wrong schemes and names with a 422 naming the field', () => {
    const loc = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        assert.ok(e instanceof AppError);
        return (e.issues ?? []).map((i) => i.loc.join('.')).join();
      }
      return 'accepted';
    };
    assert.equal(loc(() => parseQueueConfig('rabbitMq', { uri: 'redis://x', queue: 'q' })), 'body.config.uri');
    assert.equal(loc(() => parseQueueConfig('redisStream', { uri: 'redis://x', streamKey: 'k' })), 'body.config.group');
    assert.equal(loc(() => parseQueueConfig('natsJetStream', { url: 'http://x', stream: 'S', durable: 'd' })), 'body.config.url');
    assert.equal(loc(() => parseQueueConfig('natsJetStream', { url: 'nats://x', stream: 'S', durable: 'a.b' })), 'body.config.durable');
  });
});

describe('a broker message as a Switchboard message', () => {
  const rabbit = parseQueueConfig('rabbitMq', { uri: 'amqp://x', queue: 'q' });
  const msg = (body: string, brokerId: string | null = 'm1', typeHint: string | null = null) => ({ body: Buffer.from(body), brokerId, typeHint });

  it('takes the event type from the config, the body, then the broker', () => {
    const typed = parseQueueConfig('rabbitMq', { uri: 'amqp://x', queue: 'q', eventType: 'fixed.type' });
    assert.deepEqual(decodeQueueMessage(typed, msg('{"type":"a"}'), 1000), { kind: 'ok', eventType: 'fixed.type', eventId: 'amqp.m1', payload: '{"type":"a"}' });
    assert.equal((decodeQueueMessage(rabbit, msg('{"eventType":"e","type":"t"}'), 1000) as { eventType: string }).eventType, 'e');
    assert.equal((decodeQueueMessage(rabbit, msg('{"type":"t"}'), 1000) as { eventType: string }).eventType, 't');
    assert.equal((decodeQueueMessage(rabbit, msg('[1]', 'm1', 'hint.type'), 1000) as { eventType: string; payload: string }).payload, '{"value":[1]}');
  });

  it('says why a message cannot be published', () => {
    assert.match((decodeQueueMessage(rabbit, msg('nope'), 1000) as { reason: string }).reason, /not valid JSON/);
    assert.match((decodeQueueMessage(rabbit, msg('{}'), 1000) as { reason: string }).reason, /no event type/);
    assert.match((decodeQueueMessage(rabbit, msg('{"type":"a b"}'), 1000) as { reason: string }).reason, /may hold only/);
    assert.match((decodeQueueMessage(rabbit, msg('{"type":"a","x":"' + 'y'.repeat(2000) + '"}'), 1000) as { reason: string }).reason, /larger than 1000 bytes/);
  });

  it('derives the event id from the broker id, or the body hash without one', () => {
    assert.equal(eventIdOf(rabbit, msg('{}', null)), eventIdOf(rabbit, msg('{}', null)));
    assert.match(eventIdOf(rabbit, msg('{}', null)), /^amqp\.h\.[0-9a-f]{40}$/);
    const nats = parseQueueConfig('natsJetStream', { url: 'nats://x', stream: 'ORDERS', durable: 'd' });
    assert.equal(eventIdOf(nats, msg('{}', '42')), 'nats.ORDERS.42');
    assert.match(eventIdOf(rabbit, msg('{}', 'has spaces and / slashes')), /^amqp\.h\./);
  });
});
