/**
 * The private-address guard of broker sinks at connect time: with the server's allowed
 * networks given, each broker transport resolves the sink's host itself, refuses an address
 * outside them (non-retryable, naming the setting) however the sink was saved, and connects
 * to the address it checked. A name that only the injected resolver knows (`*.invalid` never
 * resolves in DNS) reaching the real local broker proves the connection went to the checked
 * address, not to a second resolution by the client.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'nats';
import type { JetStreamManager, NatsConnection } from 'nats';
import type { SinkTransport } from '../../../src/bridges/streams/sink-transport.js';
import { openSinkTransport } from '../../../src/bridges/streams/transports/index.js';
import { pinBrokerAddress } from '../../../src/bridges/streams/transports/broker-address.js';
import type { Resolver } from '../../../src/engine/http-sender.js';
import { fakeDns as fakeDnsFor, withHost } from '../../helpers/fake-dns.js';
import { parseNetworks } from '../../../src/domain/network.js';
import { BROKERS, skipWithoutBroker } from '../../helpers/requirements.js';
import { deliveryError } from './delivery-checks.js';
import { makeEvents, makeTarget, runSuffix } from './sink-fixtures.js';

const NAME = 'broker.switchboard.invalid';
const fakeDns = (): ReturnType<typeof fakeDnsFor> => fakeDnsFor(NAME);

const LOOPBACK_ALLOWED = parseNetworks('127.0.0.0/8');
const NOTHING_PRIVATE_ALLOWED = parseNetworks('');

const named = (url: string): string => withHost(url, NAME);

describe('pinBrokerAddress', () => {
  it('keeps the URI as it is when there is no guard', async () => {
    assert.deepEqual(await pinBrokerAddress('redis', 'redis://user:pw@example.com:6380/2', undefined), { uri: 'redis://user:pw@example.com:6380/2', host: 'example.com', servername: 'example.com' });
  });

  it('replaces the host with the checked address and keeps the name for TLS', async () => {
    const { resolve } = fakeDns();
    const to = await pinBrokerAddress('rabbitMq', `amqps://u:p@${NAME}:5671/vh`, LOOPBACK_ALLOWED, resolve);
    assert.deepEqual(to, { uri: 'amqps://u:p@127.0.0.1:5671/vh', host: '127.0.0.1', servername: NAME });
  });

  it('brackets an IPv6 address', async () => {
    const to = await pinBrokerAddress('mqtt', 'mqtt://[::1]:1883', parseNetworks('::1/128'));
    assert.equal(to.host, '[::1]');
    assert.equal(to.uri, 'mqtt://[::1]:1883');
  });

  it('refuses a private address for good, and a name that does not resolve for now', async () => {
    const { resolve } = fakeDns();
    const refused = await pinBrokerAddress('redis', `redis://${NAME}:6379`, NOTHING_PRIVATE_ALLOWED, resolve).catch((e: unknown) => e);
    assert.match(String((refused as Error).message), /^redis sink address refused: .*SWITCHBOARD_ALLOWED_NETWORKS/);
    assert.equal((refused as { retryable?: boolean }).retryable, false);
    const unknown = await pinBrokerAddress('redis', 'redis://nowhere.switchboard.invalid:6379', LOOPBACK_ALLOWED, resolve).catch((e: unknown) => e);
    assert.match(String((unknown as Error).message), /could not resolve nowhere\.switchboard\.invalid: ENOTFOUND/);
    assert.notEqual((unknown as { retryable?: boolean }).retryable, false);
  });
});

/** Each broker type, with the config that reaches the local broker from `url`. */
const TYPES = [
  { type: 'rabbitMq', broker: 'rabbitMq' as const, config: (url: string, run: string) => ({ uri: url, routingKey: `switchboard.guard.${run}` }) },
  { type: 'redis', broker: 'redis' as const, config: (url: string, run: string) => ({ uri: url, streamKey: `switchboard:guard:${run}` }) },
  { type: 'natsJetStream', broker: 'nats' as const, config: (url: string, run: string) => ({ url, subject: `switchboard.guard.${run}` }) },
  { type: 'mqtt', broker: 'mqtt' as const, config: (url: string, run: string) => ({ url, topic: `switchboard/guard/${run}` }) },
];

for (const { type, broker, config } of TYPES) {
  describe(`${type} sink: the address guard at connect time`, { skip: await skipWithoutBroker(broker) }, () => {
    const run = runSuffix();
    const open: SinkTransport[] = [];
    let nc: NatsConnection | null = null;
    let jsm: JetStreamManager | null = null;

    before(async () => {
      if (type !== 'natsJetStream') return;
      nc = await connect({ servers: new URL(BROKERS.nats.url).host });
      jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: `SWITCHBOARD_GUARD_${run}`, subjects: [`switchboard.guard.${run}`] });
    });
    after(async () => {
      for (const t of open) await t.close();
      await jsm?.streams.delete(`SWITCHBOARD_GUARD_${run}`).catch(() => undefined);
      await nc?.close();
    });

    function transport(allowed: ReturnType<typeof parseNetworks>, resolve: Resolver): SinkTransport {
      const t = openSinkTransport(makeTarget(type, config(named(BROKERS[broker].url), run)), { allowedNetworks: allowed, resolve, connectTimeoutMs: 3000, confirmTimeoutMs: 5000 });
      open.push(t);
      return t;
    }

    it('refuses a host that resolves to a private address outside the allowed networks, for good', async () => {
      const { resolve, lookups } = fakeDns();
      const err = await deliveryError(transport(NOTHING_PRIVATE_ALLOWED, resolve).deliver(makeEvents(1)), false);
      assert.match(err.message, new RegExp(`^${type} sink address refused: .*127\\.0\\.0\\.1.*SWITCHBOARD_ALLOWED_NETWORKS`));
      assert.deepEqual(lookups, [NAME], 'the guard resolved the name');
    });

    it('connects to the address it checked (a name only the guard can resolve reaches the broker)', async () => {
      const { resolve, lookups } = fakeDns();
      await transport(LOOPBACK_ALLOWED, resolve).deliver(makeEvents(3));
      assert.deepEqual(lookups, [NAME]);
    });
  });
}
