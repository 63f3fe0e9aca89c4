/**
 * The private-address guard of queue sources at connect time: each broker consumer resolves
 * the source's broker host itself, refuses an address outside the allowed networks (naming the
 * setting), and connects to the address it checked. A name that only the injected resolver
 * knows (`*.invalid` never resolves in DNS) reaching the real local broker proves the
 * connection went to the checked address, not to a second resolution by the client library.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pinQueueBroker } from '../../src/bridges/sources/queue/broker-address.js';
import { BROKER_CONSUMERS } from '../../src/bridges/sources/queue/queue-consumers.js';
import type { ConsumerSession } from '../../src/bridges/sources/queue/queue-consumer.js';
import type { BrokerMessage } from '../../src/bridges/sources/queue/queue-message.js';
import { parseQueueConfig } from '../../src/domain/sources/queue-config.js';
import { parseNetworks } from '../../src/domain/network.js';
import type { Resolver } from '../../src/engine/http-sender.js';
import { fakeDns as fakeDnsFor, withHost } from '../helpers/fake-dns.js';
import { eventually } from '../helpers/eventually.js';
import { BROKER_KITS } from '../helpers/queue-brokers.js';
import type { BrokerKit } from '../helpers/queue-brokers.js';
import { skipWithoutBroker } from '../helpers/requirements.js';

const NAME = 'queue-broker.switchboard.invalid';

const fakeDns = (): ReturnType<typeof fakeDnsFor> => fakeDnsFor(NAME);

const LOOPBACK_ALLOWED = parseNetworks('127.0.0.0/8');
const NOTHING_PRIVATE_ALLOWED = parseNetworks('');

const named = (url: string): string => withHost(url, NAME);

/** A consumer session that keeps what it is given and pins addresses with the fake resolver. */
function session(allowed: ReturnType<typeof parseNetworks>, resolve: Resolver) {
  const got: BrokerMessage[] = [];
  const abort = new AbortController();
  let connected = false;
  const s: ConsumerSession = {
    handle: async (m) => {
      got.push(m);
      return { kind: 'stored' };
    },
    connected: () => void (connected = true),
    signal: abort.signal,
    pinAddress: (uri) => pinQueueBroker(uri, allowed, resolve),
    nodeName: 'guard-test',
  };
  return { s, got, abort, isConnected: () => connected };
}

describe('pinQueueBroker', () => {
  it('replaces the host with the checked address and keeps the name for TLS', async () => {
    const { resolve } = fakeDns();
    assert.deepEqual(await pinQueueBroker(`amqps://u:p@${NAME}:5671/vh`, LOOPBACK_ALLOWED, resolve), { uri: 'amqps://u:p@127.0.0.1:5671/vh', host: '127.0.0.1', servername: NAME });
  });

  it('refuses a private address with a 422 naming the setting, and a name that does not resolve with its code', async () => {
    const { resolve } = fakeDns();
    const refused = await pinQueueBroker(`redis://${NAME}:6379`, NOTHING_PRIVATE_ALLOWED, resolve).catch((e: unknown) => e);
    assert.equal((refused as { status?: number }).status, 422);
    assert.match(String((refused as Error).message), /^the broker address is not allowed: .*SWITCHBOARD_ALLOWED_NETWORKS/);
    const unknown = await pinQueueBroker('redis://nowhere.switchboard.invalid:6379', LOOPBACK_ALLOWED, resolve).catch((e: unknown) => e);
    assert.match(String((unknown as Error).message), /could not resolve nowhere\.switchboard\.invalid: ENOTFOUND/);
  });
});

for (const broker of ['rabbitMq', 'redis', 'nats'] as const) {
  describe(`queue source consumer connects to the checked address: ${broker}`, { skip: await skipWithoutBroker(broker) }, () => {
    let kit: BrokerKit;
    before(async () => {
      kit = await BROKER_KITS[broker]();
    });
    after(async () => kit.close());

    it('reaches the broker through a name only the guard resolved, and consumes from it', async () => {
      const { resolve, lookups } = fakeDns();
      const config = parseQueueConfig(kit.type, kit.config(named(kit.brokerUrl)));
      const c = session(LOOPBACK_ALLOWED, resolve);
      const running = BROKER_CONSUMERS[kit.type](config, c.s);
      try {
        await eventually(c.isConnected, 'the consumer subscribed');
        await kit.publish(JSON.stringify({ n: 1 }), { id: 'guarded-1' });
        await eventually(() => c.got.length === 1, 'the message consumed');
        assert.equal(c.got[0]!.body.toString('utf8'), JSON.stringify({ n: 1 }));
        assert.deepEqual(lookups, [NAME], 'resolved once, by the guard');
      } finally {
        c.abort.abort();
        await running.catch(() => undefined);
      }
    });

    it('refuses an address outside the allowed networks before connecting', async () => {
      const { resolve } = fakeDns();
      const config = parseQueueConfig(kit.type, kit.config(named(kit.brokerUrl)));
      const c = session(NOTHING_PRIVATE_ALLOWED, resolve);
      await assert.rejects(BROKER_CONSUMERS[kit.type](config, c.s), /the broker address is not allowed: .*SWITCHBOARD_ALLOWED_NETWORKS/);
      assert.equal(c.isConnected(), false);
    });
  });
}
