/**
 * Queue sources against the real brokers (RabbitMQ, Redis Streams, NATS JetStream), each
 * reached through a loopback TCP proxy so the broker can look down and come back: broker
 * messages become Switchboard messages delivered to a real receiver; a bad message is
 * dead-lettered with its reason and later ones continue; a store that cannot write leaves the
 * message unacknowledged until it can; the broker down at start and mid-stream loses
 * nothing; wrong credentials show in the source's state, masked.
 */
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import { eventually } from '../helpers/eventually.js';
import { rawRows } from '../helpers/raw-db.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import { BROKER_KITS, natsMessagesOn } from '../helpers/queue-brokers.js';
import type { BrokerKit } from '../helpers/queue-brokers.js';
import { Receiver } from '../helpers/receiver.js';
import { skipWithoutBroker } from '../helpers/requirements.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

const ON_POSTGRES = process.env.SWITCHBOARD_TEST_STORE === 'postgres';

let server: TestServer;
const receiver = new Receiver();

before(async () => {
  server = await startServer({}, { logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }) });
  await receiver.start();
});
after(async () => {
  await server.close();
  await receiver.close();
});

/** Creates a queue source for the kit at `url` with an endpoint on the receiver; returns its id and the receiver path. */
async function createSource(kit: BrokerKit, url: string, extra: Record<string, unknown> = {}): Promise<{ id: string; path: string }> {
  const r = await server.api('POST', '/ingest/api/v1/source', { name: `queue ${kit.type}`, type: kit.type, config: { ...kit.config(url), ...extra } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.equal(r.body.ingestUrl, null);
  const path = `/${r.body.id as string}`;
  const ep = await server.api('POST', `/ingest/api/v1/source/${r.body.id as string}/endpoint`, { url: receiver.url(path) });
  assert.equal(ep.status, 201, JSON.stringify(ep.body));
  return { id: r.body.id as string, path };
}

const consumerOf = async (id: string): Promise<any> => (await server.api('GET', `/ingest/api/v1/source/${id}`)).body.consumer;

/** The `n` field of every body the receiver got at `path`. */
const received = (path: string): number[] => receiver.at(path).map((r) => (JSON.parse(r.body) as { n: number }).n);

/** Every message of the source's application (all pages). */
async function messagesOf(sourceId: string): Promise<any[]> {
  const out: any[] = [];
  let iterator: string | null = null;
  for (;;) {
    const page = await server.api('GET', `/api/v1/app/${sourceId}/msg?limit=250${iterator ? `&iterator=${iterator}` : ''}`);
    out.push(...(page.body.data as any[]));
    if (page.body.done) return out;
    iterator = page.body.iterator as string;
  }
}

const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);

/**
 * Makes the server's store unable to write a message, as a full disk does: on SQLite the file
 * may not grow past its size; on PostgreSQL inserts into `messages` fail with `disk_full`.
 */
async function fillStore(s: TestServer): Promise<{ release(): Promise<void> }> {
  if (!ON_POSTGRES) {
    const db = (s.sb.store as unknown as SqliteStore).db;
    // No free pages left behind by earlier tests: the file is full at its current size.
    db.exec('VACUUM');
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    return { release: async () => void db.pragma('max_page_count = 1073741823') };
  }
  const fn = `sb_full_${Math.random().toString(36).slice(2, 10)}`;
  await rawRows(s.sb.store, `CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = 'disk_full'; END $$`);
  await rawRows(s.sb.store, `CREATE TRIGGER ${fn} BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION ${fn}()`);
  return {
    release: async () => {
      await rawRows(s.sb.store, `DROP TRIGGER ${fn} ON messages`);
      await rawRows(s.sb.store, `DROP FUNCTION ${fn}()`);
    },
  };
}

for (const broker of ['rabbitMq', 'redis', 'nats'] as const) {
  describe(`queue source: ${broker}`, { skip: await skipWithoutBroker(broker) }, () => {
    let kit: BrokerKit;
    let proxy: TcpProxy;
    // A fresh queue, stream or JetStream stream, and proxy, for every test.
    beforeEach(async () => {
      kit = await BROKER_KITS[broker]();
      proxy = await TcpProxy.to(kit.brokerUrl, Number(new URL(kit.brokerUrl).port));
    });
    afterEach(async () => {
      await proxy.down();
      await kit.close();
    });

    it('publishes each broker message as a message delivered to the endpoint, with an event id from the broker id', async () => {
      const { id, path } = await createSource(kit, proxy.url(kit.brokerUrl));
      await eventually(async () => (await consumerOf(id))?.connected === true, 'the consumer to connect');
      await kit.publish(JSON.stringify({ eventType: 'order.created', n: 1 }), { id: 'order-1' });
      await kit.publish(JSON.stringify({ type: 'order.paid', n: 2 }));
      await kit.publish(JSON.stringify({ n: 3 }), { type: 'order.shipped' });
      await eventually(() => received(path).length === 3, 'three deliveries');
      assert.deepEqual(sorted(received(path)), [1, 2, 3]);
      const msgs = await messagesOf(id);
      assert.deepEqual(msgs.map((m) => m.eventType).sort(), ['order.created', 'order.paid', 'order.shipped']);
      const prefix = { rabbitMq: 'amqp.', redis: 'redis.', nats: 'nats.' }[broker];
      for (const m of msgs) assert.ok(String(m.eventId).startsWith(prefix), m.eventId);
      if (broker === 'rabbitMq') assert.ok(msgs.some((m) => m.eventId === 'amqp.order-1'));
      const c = await consumerOf(id);
      assert.equal(c.connected, true);
      assert.equal(c.consumed, 3);
      assert.equal(c.deadLettered, 0);
      assert.ok(c.lastMessageAt);
      await eventually(async () => (await kit.outstanding()) === 0, 'every broker message acknowledged');

      // A changed config restarts the consumer; Redis and NATS get a new group or durable, which
      // reads the stream again from its start: those redeliveries are duplicates, not new messages.
      const patched = await server.api('PATCH', `/ingest/api/v1/source/${id}`, { config: { ...kit.config(proxy.url(kit.brokerUrl)), eventType: 'order.patched' } });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.equal(patched.body.config.eventType, 'order.patched');
      // RabbitMQ's consumers compete for the one queue: publish once the new consumer has replaced the old.
      if (broker === 'rabbitMq') await eventually(async () => ((c2) => c2?.connected === true && c2.consumed === 0)(await consumerOf(id)), 'the consumer restarted');
      await kit.publish(JSON.stringify({ n: 4 }));
      await eventually(() => received(path).length === 4, 'the message after the change');
      const after = await messagesOf(id);
      assert.equal(after.length, 4);
      assert.equal(after.filter((m) => m.eventType === 'order.patched').length, 1);
      await server.api('DELETE', `/ingest/api/v1/source/${id}`);
    });

    it('dead-letters a bad message with its reason, and later messages continue', async () => {
      const { id, path } = await createSource(kit, proxy.url(kit.brokerUrl));
      await kit.publish('not json at all');
      await kit.publish(JSON.stringify({ n: 1 })); // no event type anywhere
      await kit.publish(JSON.stringify({ type: 'ok.event', n: 2 }));
      await eventually(() => received(path).length === 1, 'the good message delivered');
      assert.deepEqual(received(path), [2]);
      const logs = await eventually(async () => {
        const l = (await server.api('GET', `/ingest/api/v1/source/${id}/log`)).body.data as any[];
        return l.length === 2 ? l : null;
      }, 'two log entries');
      const reasons = logs.map((l) => l.error_text as string).join('\n');
      assert.match(reasons, /not valid JSON/);
      assert.match(reasons, /no event type/);
      assert.ok(logs.some((l) => l.payload === 'not json at all'));
      // Reading RabbitMQ's dead-letter queue takes the messages: they are gathered across checks.
      const gathered: string[] = [];
      const dead = await eventually(async () => {
        const d = await kit.deadLettered();
        if (broker === 'rabbitMq') gathered.push(...d);
        const all = broker === 'rabbitMq' ? gathered : d;
        return all.length === 2 ? all : null;
      }, "the broker's dead-letter place");
      // RabbitMQ: the bodies, in the queue's own dead-letter queue; Redis and NATS: the reasons.
      if (broker === 'rabbitMq') assert.deepEqual(dead.sort(), [JSON.stringify({ n: 1 }), 'not json at all'].sort());
      else assert.match(dead.join('\n'), /not valid JSON[\s\S]*no event type|no event type[\s\S]*not valid JSON/);
      await eventually(async () => (await kit.outstanding()) === 0, 'nothing left unacknowledged');
      assert.equal((await consumerOf(id)).deadLettered, 2);
      await server.api('DELETE', `/ingest/api/v1/source/${id}`);
    });

    it('acks only after storing: a store that cannot write leaves the message on the broker until it can', async () => {
      const { id, path } = await createSource(kit, proxy.url(kit.brokerUrl), { eventType: 'big.event' });
      await eventually(async () => (await consumerOf(id))?.connected === true, 'the consumer to connect');
      const full = await fillStore(server);
      try {
        const blob = Array.from({ length: 40_000 }, (_, i) => (i * 2654435761).toString(36).padStart(16, 'x')).join('');
        await kit.publish(JSON.stringify({ n: 1, blob }));
        const c = await eventually(async () => {
          const s = await consumerOf(id);
          return s?.lastError && /could not store/.test(s.lastError as string) ? s : null;
        }, 'the consumer to report the store failure');
        // SQLite's SQLITE_FULL, PostgreSQL's disk_full.
        assert.match(c.lastError as string, ON_POSTGRES ? /53100/ : /SQLITE_FULL|full/i);
        assert.equal(received(path).length, 0);
        // Not acknowledged: the broker still holds it (RabbitMQ: ready again between sessions; Redis: pending; NATS: pending or awaiting its ack).
        await eventually(async () => (await kit.outstanding()) > 0, 'the message still unacknowledged on the broker');
        assert.equal((await consumerOf(id)).consumed, 0);
      } finally {
        await full.release();
      }
      await eventually(() => received(path).length === 1, 'the message stored and delivered once the store can write');
      assert.equal((await messagesOf(id)).length, 1);
      await eventually(async () => (await kit.outstanding()) === 0, 'the message acknowledged');
      await server.api('DELETE', `/ingest/api/v1/source/${id}`);
    });

    it('broker down at start and mid-stream: reconnects with its state visible, nothing lost, nothing twice', async () => {
      await proxy.down();
      const { id, path } = await createSource(kit, proxy.url(kit.brokerUrl), { eventType: 'tick' });
      const down = await eventually(async () => {
        const s = await consumerOf(id);
        return s && s.connected === false && s.lastError ? s : null;
      }, 'the consumer to report the broker down');
      assert.match(down.lastError as string, /ECONNREFUSED|connect|closed/i);
      await kit.publish(JSON.stringify({ n: 1 }));
      await kit.publish(JSON.stringify({ n: 2 }));
      await proxy.up();
      await eventually(() => received(path).length === 2, 'the messages sent while down');
      await eventually(async () => (await consumerOf(id)).connected === true, 'connected again');

      await proxy.down();
      await eventually(async () => (await consumerOf(id)).connected === false, 'the consumer to notice the broker gone');
      for (let n = 3; n <= 6; n++) await kit.publish(JSON.stringify({ n }));
      await proxy.up();
      await eventually(() => received(path).length >= 6, 'the messages sent while down mid-stream');
      assert.deepEqual(sorted(received(path)), [1, 2, 3, 4, 5, 6]);
      assert.equal((await messagesOf(id)).length, 6);
      await server.api('DELETE', `/ingest/api/v1/source/${id}`);
    });

    it('a broker that refuses the source shows the reason in its state, credentials masked', async () => {
      const u = new URL(proxy.url(kit.brokerUrl));
      if (broker === 'nats') {
        // The shared NATS server takes any client: refuse with a stream that does not exist.
        const r = await server.api('POST', '/ingest/api/v1/source', { name: 'missing stream', type: kit.type, config: { ...kit.config(u.toString()), stream: 'NO_SUCH_STREAM' } });
        assert.equal(r.status, 201);
        const s = await eventually(async () => (await consumerOf(r.body.id as string))?.lastError, 'the reason');
        assert.match(s, /not found/i);
        await server.api('DELETE', `/ingest/api/v1/source/${r.body.id as string}`);
        return;
      }
      u.username = broker === 'rabbitMq' ? 'guest' : 'no-such-user';
      u.password = 'Wr0ngSecretPassword';
      const r = await server.api('POST', '/ingest/api/v1/source', { name: 'wrong credentials', type: kit.type, config: kit.config(u.toString()) });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.config.uri, u.toString().replace('Wr0ngSecretPassword', '***'));
      const s = await eventually(async () => (await consumerOf(r.body.id as string))?.lastError as string | undefined, 'the reason');
      assert.match(s, broker === 'rabbitMq' ? /ACCESS.REFUSED|403/i : /WRONGPASS|AUTH|password/i);
      const whole = JSON.stringify((await server.api('GET', `/ingest/api/v1/source/${r.body.id as string}`)).body);
      assert.ok(!whole.includes('Wr0ngSecretPassword'), whole);
      await server.api('DELETE', `/ingest/api/v1/source/${r.body.id as string}`);
    });
  });
}

const brokerMissing = { rabbitMq: await skipWithoutBroker('rabbitMq'), redis: await skipWithoutBroker('redis'), nats: await skipWithoutBroker('nats') };

describe('queue source: NATS dead-letter subject', { skip: brokerMissing.nats }, () => {
  it('publishes a bad message to the configured subject with its reason and origin in headers, then terminates it', async () => {
    const kit = await BROKER_KITS.nats();
    const deadStream = `${kit.stream}_DL`;
    const subject = `${kit.stream.toLowerCase()}.dead`;
    try {
      const { id, path } = await createSource(kit, kit.brokerUrl, { deadLetterSubject: subject });
      const shown = await server.api('GET', `/ingest/api/v1/source/${id}`);
      assert.equal(shown.body.config.deadLetterSubject, subject);
      await kit.publish('{"broken', { type: 'order.created' });
      // No stream captures the subject yet: the message is not lost, the source says why.
      const c = await eventually(async () => ((s) => (s?.lastError && /no JetStream stream captures/.test(s.lastError as string) ? s : null))(await consumerOf(id)), 'the reason in the state');
      assert.match(c.lastError as string, new RegExp(subject.replaceAll('.', '\\.')));
      assert.ok((await kit.outstanding()) > 0, 'the bad message is still on the broker');
      await kit.jsm.streams.add({ name: deadStream, subjects: [subject] });
      const dead = await eventually(async () => ((d) => (d.length > 0 ? d : null))(await natsMessagesOn(kit.jsm, kit.js, subject)), 'the message on the dead-letter subject', { timeoutMs: 60_000 });
      assert.equal(dead.length, 1, 'stored once, whatever the redeliveries');
      assert.equal(dead[0]!.body, '{"broken');
      const h = dead[0]!.headers!;
      assert.match(h.get('Switchboard-Dead-Letter-Reason'), /not valid JSON/);
      assert.equal(h.get('Switchboard-Dead-Letter-Stream'), kit.stream);
      assert.equal(h.get('Switchboard-Dead-Letter-Subject'), `${kit.stream}.events`);
      assert.equal(h.get('Switchboard-Dead-Letter-Sequence'), '1');
      assert.equal(h.get('type'), 'order.created');
      await eventually(async () => (await kit.outstanding()) === 0, 'the bad message terminated');
      // Later messages go on.
      await kit.publish(JSON.stringify({ type: 'ok.event', n: 7 }));
      await eventually(() => received(path).length === 1, 'the good message delivered');
      assert.deepEqual(received(path), [7]);
      assert.equal((await natsMessagesOn(kit.jsm, kit.js, subject)).length, 1);
      await server.api('DELETE', `/ingest/api/v1/source/${id}`);
    } finally {
      await kit.jsm.streams.delete(deadStream).catch(() => undefined);
      await kit.close();
    }
  });

  it('refuses a dead-letter subject the consumer itself reads, and takes it when a filter keeps it out', async () => {
    const kit = await BROKER_KITS.nats();
    try {
      const subject = `${kit.stream}.dead`;
      const looping = await createSource(kit, kit.brokerUrl, { deadLetterSubject: subject, eventType: 'x.y' });
      const s = await eventually(async () => ((c) => (c?.lastError ? c : null))(await consumerOf(looping.id)), 'the reason in the state');
      assert.match(s.lastError as string, /would come back/);
      assert.equal(s.connected, false);
      await server.api('DELETE', `/ingest/api/v1/source/${looping.id}`);
      const filtered = await createSource(kit, kit.brokerUrl, { deadLetterSubject: subject, filterSubject: `${kit.stream}.events` });
      await eventually(async () => (await consumerOf(filtered.id))?.connected === true, 'the consumer to connect');
      await kit.publish('not json');
      const dead = await eventually(async () => ((d) => (d.length > 0 ? d : null))(await natsMessagesOn(kit.jsm, kit.js, subject)), 'the message on the dead-letter subject');
      assert.equal(dead[0]!.body, 'not json');
      await eventually(async () => (await kit.outstanding()) === 0, 'nothing left unacknowledged');
      assert.equal((await consumerOf(filtered.id)).deadLettered, 1);
      await server.api('DELETE', `/ingest/api/v1/source/${filtered.id}`);
    } finally {
      await kit.close();
    }
  });
});

describe('queue source configs', () => {
  it('refuses a bad scheme, a missing field and a refused address with a 422 naming the field', async () => {
    const bad = async (type: string, config: Record<string, unknown>, loc: string) => {
      const r = await server.api('POST', '/ingest/api/v1/source', { name: 'bad', type, config });
      assert.equal(r.status, 422, JSON.stringify(r.body));
      assert.ok(JSON.stringify(r.body.detail).includes(loc), JSON.stringify(r.body));
    };
    await bad('rabbitMq', { uri: 'http://127.0.0.1:5672', queue: 'q' }, '"uri"');
    await bad('rabbitMq', { uri: 'amqp://127.0.0.1:5672' }, '"queue"');
    await bad('rabbitMq', { uri: 'amqp://127.0.0.1', queue: 'q', prefetch: 0 }, '"prefetch"');
    await bad('redisStream', { uri: 'amqp://127.0.0.1', streamKey: 'k', group: 'g' }, '"uri"');
    await bad('redisStream', { uri: 'redis://127.0.0.1', streamKey: 'k' }, '"group"');
    await bad('natsJetStream', { url: 'nats://127.0.0.1', stream: 'A.B', durable: 'd' }, '"stream"');
    await bad('natsJetStream', { url: 'nats://10.1.2.3:4222', stream: 'S', durable: 'd' }, '"url"');
    for (const subject of ['dead.>', 'dead.*.x', 'has space', 'trailing.', '.leading', 'a..b', 42]) {
      await bad('natsJetStream', { url: 'nats://127.0.0.1:4222', stream: 'S', durable: 'd', deadLetterSubject: subject }, '"deadLetterSubject"');
    }
    await bad('rabbitMq', { uri: 'amqp://127.0.0.1', queue: 'q', eventType: 'has space' }, '"eventType"');
    await bad('rabbitMq', { uri: 'amqp://127.0.0.1', queue: 'q', target: { stream: 'bad id!' } }, '"stream"');
  });

  for (const broker of ['rabbitMq', 'redis', 'nats'] as const) {
    it(`a ${broker} source that targets a stream appends each broker message to the stream once, its event id from the broker id`, { skip: brokerMissing[broker] }, async () => {
      const kit = await BROKER_KITS[broker]();
      try {
        const stream = await server.api('POST', '/api/v1/stream', { name: `From a queue (${broker})` });
        assert.equal(stream.status, 201, JSON.stringify(stream.body));
        const streamId = stream.body.id as string;
        const r = await server.api('POST', '/ingest/api/v1/source', { name: 'to a stream', type: kit.type, config: { ...kit.config(kit.brokerUrl), target: { stream: streamId } } });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        assert.deepEqual(r.body.config.target, { stream: streamId });
        await eventually(async () => (await consumerOf(r.body.id as string))?.connected === true, 'the consumer to connect');
        await kit.publish(JSON.stringify({ eventType: 'order.created', n: 1 }), { id: 'order-1' });
        await kit.publish(JSON.stringify({ eventType: 'order.paid', n: 2 }), { id: 'order-2' });
        const events = await eventually(async () => {
          const got = await server.sb.store.streams.readEvents(streamId, 0, 10, []);
          return got.length === 2 ? got : null;
        }, 'two events in the stream');
        assert.deepEqual(events.map((e) => e.eventType), ['order.created', 'order.paid']);
        assert.deepEqual(events.map((e) => (JSON.parse(e.payload) as { n: number }).n), [1, 2]);
        const prefix = { rabbitMq: 'amqp.order-', redis: 'redis.', nats: `nats.` }[broker];
        for (const e of events) assert.ok(e.id.startsWith(prefix), e.id);
        // Not published to the source's application as well.
        assert.equal((await server.api('GET', `/api/v1/app/${r.body.id as string}/msg`)).body.data?.length ?? 0, 0);
        // Appending the same broker message again (a redelivery after a crash) stores nothing new.
        await server.sb.store.streams.appendEvents(streamId, [{ ...events[0]! }]);
        assert.equal((await server.sb.store.streams.readEvents(streamId, 0, 10, [])).length, 2);
        await eventually(async () => (await kit.outstanding()) === 0, 'every broker message acknowledged');
        assert.equal((await consumerOf(r.body.id as string)).consumed, 2);
        const rotate = await server.api('POST', `/ingest/api/v1/source/${r.body.id as string}/token/rotate`);
        assert.equal(rotate.status, 409);
        await server.api('DELETE', `/ingest/api/v1/source/${r.body.id as string}`);
      } finally {
        await kit.close();
      }
    });
  }
});
