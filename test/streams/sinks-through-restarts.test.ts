/**
 * Every sink type, delivered by a running server, through a real restart of its destination:
 * a process of the broker's own (test/helpers/private-brokers.ts) stopped and started again on
 * the same port and data directory, or the HTTP receiver closed and listening again, while
 * events keep being appended. The sink turns `retrying` while its destination is down; once it
 * is back, every event sent is read at the destination itself (XRANGE, a JetStream consumer, a
 * persistent-session QoS 1 MQTT subscriber, a durable queue bound to the exchange, the
 * receiver's log), none lost, first arrivals in stream order (MQTT: order not checked).
 * Duplicates are allowed (at least once) and reported, except on NATS, where the event id is
 * the JetStream message id and the stream stores each event once. Wrong credentials for the
 * natsJetStream and mqtt sinks pause the sink with a reason that names the cause and never
 * the password, which the sink's config shows masked.
 */
import { after, before, describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import amqp from 'amqplib';
import { connectAsync } from 'mqtt';
import type { MqttClient } from 'mqtt';
import { connect as natsConnect } from 'nats';
import { createClient } from 'redis';
import { eventually, sleep } from '../helpers/eventually.js';
import { PRIVATE_USER, privateBroker, privateMosquitto, privateNats, privateRedis, skipWithoutPrivateBrokers, stablePort } from '../helpers/private-brokers.js';
import type { PrivateBroker } from '../helpers/private-brokers.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

const skip = skipWithoutPrivateBrokers('redis', 'nats', 'mqtt', 'rabbitMq');

/** Waits that span a broker restart and the sink's backoff after it, on a busy machine. */
const LONG = { timeoutMs: 90_000, intervalMs: 100 };
/** The pace of the event producer: this many events per request, a request every PACE_MS. */
const PER_REQUEST = 2;
const PACE_MS = 50;

interface SinkView {
  id: string;
  status: string;
  failureReason?: string | null;
  currentIterator: string;
  config: Record<string, unknown>;
}

/** What arrived at a destination: each event's number, in arrival order, duplicates included. */
type Read = () => Promise<number[]>;

/** How long one look at a broker may take: a client caught by the broker's stop must not hold up the wait. */
const READ_MS = 10_000;

/** `work`, or a rejection once READ_MS have passed (the next check tries again). */
function bounded<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${READ_MS} ms`)), READ_MS)));
  work.catch(() => undefined);
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** An HTTP destination that can be closed and listen again on the same port, logging every batch. */
class RestartableReceiver {
  /** Event numbers, in arrival order. */
  readonly numbers: number[] = [];
  private server: Server | null = null;
  constructor(readonly port: number) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        for (const e of JSON.parse(Buffer.concat(chunks).toString('utf8')) as { payload: { n: number } }[]) this.numbers.push(e.payload.n);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

// A broker that never comes back fails the suite instead of holding up the run.
describe('every sink type through a restart of its destination', { skip, concurrency: true, timeout: 300_000 }, () => {
  const run = randomUUID().replaceAll('-', '').slice(0, 10);
  let server: TestServer;
  const brokers = new Map<string, PrivateBroker>();
  const cleanups: (() => Promise<unknown>)[] = [];

  before(async () => {
    // RabbitMQ takes seconds to boot: all start at once, beside the server.
    const [s, ...started] = await Promise.all([startServer(), ...(['redis', 'nats', 'mqtt', 'rabbitMq'] as const).map((k) => privateBroker(k))]);
    server = s;
    for (const b of started) brokers.set(b.kind, b);
  });
  after(async () => {
    for (const c of cleanups) await c().catch(() => undefined);
    await server?.close();
    for (const b of brokers.values()) await b.close();
  });

  const broker = (kind: string): PrivateBroker => brokers.get(kind)!;

  async function newStream(name: string): Promise<string> {
    const r = await server.api('POST', '/api/v1/stream', { name, uid: `${name}-${run}` });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.id as string;
  }
  async function createSink(streamId: string, body: Record<string, unknown>): Promise<string> {
    const r = await server.api('POST', `/api/v1/stream/${streamId}/sink`, { batchSize: 10, ...body });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.id as string;
  }
  async function sink(streamId: string, id: string): Promise<SinkView> {
    const r = await server.api('GET', `/api/v1/stream/${streamId}/sink/${id}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body as SinkView;
  }

  /** Appends numbered events to a stream, PER_REQUEST every PACE_MS, until stopped; `stop` gives how many were sent. */
  function produce(streamId: string): { sent: () => number; stop: () => Promise<number> } {
    let n = 0;
    let stopping = false;
    const loop = (async () => {
      while (!stopping) {
        const events = Array.from({ length: PER_REQUEST }, (_, i) => ({ eventType: 'restart.test', payload: JSON.stringify({ n: n + i }) }));
        const r = await server.api('POST', `/api/v1/stream/${streamId}/events`, { events });
        assert.equal(r.status, 202, JSON.stringify(r.body));
        n += PER_REQUEST;
        // The pace of the producer is part of the scenario: events keep coming while the destination is down.
        await sleep(PACE_MS);
      }
    })();
    return {
      sent: () => n,
      stop: async () => {
        stopping = true;
        await loop;
        return n;
      },
    };
  }

  /**
   * Creates the sink, keeps appending events, restarts the destination once some have arrived
   * (waiting, while it is down, for the sink to be `retrying` and for more events to be sent),
   * keeps appending after it is back, then checks every event sent arrived. Returns the
   * sink, how many events were sent and how many arrived twice or more.
   */
  async function throughRestart(
    t: TestContext,
    o: { name: string; sink: Record<string, unknown>; restart: (whileDown: () => Promise<void>) => Promise<void>; read: Read; ordered: boolean },
  ): Promise<{ streamId: string; sinkId: string; total: number; duplicates: number }> {
    const streamId = await newStream(o.name);
    const sinkId = await createSink(streamId, o.sink);
    const producer = produce(streamId);
    let total: number;
    try {
      await eventually(async () => (await bounded(o.read(), `reading the ${o.name} destination`)).length >= 10, `the first events at the ${o.name} destination`, LONG);
      await o.restart(async () => {
        const sentAtStop = producer.sent();
        const failing = await eventually(async () => {
          const s = await sink(streamId, sinkId);
          return s.status === 'retrying' ? s : null;
        }, `the ${o.name} sink retrying while its destination is down`, LONG);
        assert.ok(failing.failureReason, 'a retrying sink says why');
        await eventually(() => producer.sent() >= sentAtStop + 20, 'events appended while the destination is down', LONG);
      });
      const sentAtStart = producer.sent();
      await eventually(() => producer.sent() >= sentAtStart + 20, 'events appended after the destination is back', LONG);
    } finally {
      total = await producer.stop();
    }
    const got = await eventually(
      async () => {
        const numbers = await bounded(o.read(), `reading the ${o.name} destination`);
        return new Set(numbers).size >= total ? numbers : null;
      },
      `all ${total} events at the ${o.name} destination`,
      LONG,
    );
    const firsts = [...new Set(got)];
    const all = Array.from({ length: total }, (_, i) => i);
    assert.deepEqual([...firsts].sort((a, b) => a - b), all, 'every event sent arrived, and nothing else');
    if (o.ordered) assert.deepEqual(firsts, all, 'first arrivals in stream order');
    const duplicates = got.length - firsts.length;
    t.diagnostic(`${o.name}: ${total} events sent, ${got.length} received, ${duplicates} duplicate(s)`);
    await eventually(async () => (await sink(streamId, sinkId)).status === 'enabled', `the ${o.name} sink enabled again`, LONG);
    return { streamId, sinkId, total, duplicates };
  }

  const payloadNumber = (text: string): number => (JSON.parse(text) as { n: number }).n;

  it('http: the receiver closed and listening again on the same port', async (t) => {
    const receiver = new RestartableReceiver(await stablePort());
    await receiver.start();
    cleanups.push(() => receiver.stop());
    await throughRestart(t, {
      name: 'http',
      sink: { type: 'http', config: { url: `http://127.0.0.1:${receiver.port}/batch` } },
      restart: async (whileDown) => {
        await receiver.stop();
        try {
          await whileDown();
        } finally {
          await receiver.start();
        }
      },
      read: async () => [...receiver.numbers],
      ordered: true,
    });
  });

  it('redis: killed (SIGKILL) and started again on its append-only file', async (t) => {
    const b = broker('redis');
    const key = `sbtest:restart:${run}`;
    const read: Read = async () => {
      const client = createClient({ url: b.url, socket: { reconnectStrategy: false, connectTimeout: 5000 } });
      client.on('error', () => undefined);
      await client.connect();
      try {
        return ((await client.xRange(key, '-', '+')) ?? []).map((e) => payloadNumber(String(e.message.payload)));
      } finally {
        client.destroy();
      }
    };
    await throughRestart(t, {
      name: 'redis',
      sink: { type: 'redis', config: { uri: b.url, streamKey: key } },
      restart: (whileDown) => b.restart({ signal: 'SIGKILL', whileDown }),
      read,
      ordered: true,
    });
    assert.equal(b.starts, 2, 'a new redis-server process');
  });

  it('natsJetStream: stopped and started again on its JetStream store; each event stored once', async (t) => {
    const b = broker('nats');
    const stream = `SBTEST_RESTART_${run}`;
    const subject = `sbtest.restart.${run}`;
    const setup = await natsConnect({ servers: `127.0.0.1:${b.port}` });
    await (await setup.jetstreamManager()).streams.add({ name: stream, subjects: [subject] });
    await setup.close();
    const read: Read = async () => {
      const nc = await natsConnect({ servers: `127.0.0.1:${b.port}`, reconnect: false, timeout: 5000 });
      try {
        const stored = (await (await nc.jetstreamManager()).streams.info(stream)).state.messages;
        const out: number[] = [];
        if (stored === 0) return out;
        // An ordered consumer reads the stream from its start.
        const consumer = await nc.jetstream().consumers.get(stream);
        const messages = await consumer.fetch({ max_messages: stored, expires: 5000 });
        for await (const m of messages) {
          out.push(payloadNumber(m.string()));
          if (out.length >= stored) break;
        }
        return out;
      } finally {
        await nc.close();
      }
    };
    const done = await throughRestart(t, {
      name: 'natsJetStream',
      sink: { type: 'natsJetStream', config: { url: b.url, subject } },
      restart: (whileDown) => b.restart({ whileDown }),
      read,
      ordered: true,
    });
    assert.equal(done.duplicates, 0, 'JetStream stored each event once (the event id is the message id)');
    // Every event sent again, after the restart (the server rebuilt its duplicate window from its store): still each stored once.
    const end = (await sink(done.streamId, done.sinkId)).currentIterator;
    const replay = await server.api('POST', `/api/v1/stream/${done.streamId}/sink/${done.sinkId}/replay`, { since: new Date(Date.now() - 3_600_000).toISOString() });
    assert.equal(replay.status, 202, JSON.stringify(replay.body));
    assert.notEqual(replay.body.currentIterator, end, 'the cursor moved back');
    await eventually(async () => (await sink(done.streamId, done.sinkId)).currentIterator === end, 'the replayed events delivered again', LONG);
    const stored = await bounded(read(), 'reading the stream');
    assert.deepEqual(stored, Array.from({ length: done.total }, (_, i) => i), 'each event stored once, in order, after a redelivery of all of them');
  });

  it('mqtt: stopped and started again on its persistence file; a persistent QoS 1 subscriber gets every event', async (t) => {
    const b = broker('mqtt');
    const topic = `sbtest/restart/${run}`;
    const arrived: { n: number; qos: number }[] = [];
    // A persistent session (clean: false) that reconnects by itself: what is published while
    // it is away is queued for it by the broker, across the broker's restart.
    const subscriber: MqttClient = await connectAsync(b.url, { clientId: `sbtest-${run}`, clean: false, reconnectPeriod: 200 });
    cleanups.push(() => subscriber.endAsync(true));
    subscriber.on('message', (_topic, message, packet) => arrived.push({ n: (JSON.parse(message.toString('utf8')) as { payload: { n: number } }).payload.n, qos: packet.qos }));
    await subscriber.subscribeAsync(topic, { qos: 1 });
    await throughRestart(t, {
      name: 'mqtt',
      sink: { type: 'mqtt', config: { url: b.url, topic } },
      restart: (whileDown) => b.restart({ whileDown }),
      read: async () => arrived.map((a) => a.n),
      ordered: false,
    });
    assert.deepEqual([...new Set(arrived.map((a) => a.qos))], [1], 'every message arrived with QoS 1');
  });

  it('rabbitMq: its node stopped and started again; a durable queue bound to the exchange holds every event', async (t) => {
    const b = broker('rabbitMq');
    const exchange = `sbtest.restart.${run}`;
    const queue = `sbtest.restart.${run}.q`;
    const routingKey = 'events';
    const setup = await amqp.connect(b.url);
    const ch = await setup.createChannel();
    await ch.assertExchange(exchange, 'direct', { durable: true });
    await ch.assertQueue(queue, { durable: true });
    await ch.bindQueue(queue, exchange, routingKey);
    await setup.close();
    // Taken off the queue as it fills, so each read sees only what is new.
    const taken: number[] = [];
    const read: Read = async () => {
      const conn = await amqp.connect(b.url, { timeout: 5000 });
      try {
        const c = await conn.createChannel();
        for (;;) {
          const m = await c.get(queue, { noAck: true });
          if (!m) break;
          taken.push(payloadNumber(m.content.toString('utf8')));
        }
      } catch {
        // The node is down or still starting: what was taken so far.
      } finally {
        await conn.close().catch(() => undefined);
      }
      return [...taken];
    };
    await throughRestart(t, {
      name: 'rabbitMq',
      sink: { type: 'rabbitMq', config: { uri: b.url, exchange, routingKey } },
      restart: (whileDown) => b.restart({ whileDown }),
      read,
      ordered: true,
    });
    assert.equal(b.starts, 2, 'a new RabbitMQ node process');
  });

  /** A private broker of `kind` requiring `password`, the URL of a wrong one, and the sink config and refusal expected. */
  const GUARDED = {
    natsJetStream: { start: privateNats, scheme: 'nats', config: (url: string) => ({ url, subject: `sbtest.creds.${run}` }), cause: /authorization violation/ },
    mqtt: { start: privateMosquitto, scheme: 'mqtt', config: (url: string) => ({ url, topic: `sbtest/creds/${run}` }), cause: /CONNACK (4|5|134|135)/ },
    redis: { start: privateRedis, scheme: 'redis', config: (uri: string) => ({ uri, streamKey: `sbtest:creds:${run}` }), cause: /WRONGPASS|NOAUTH/ },
  } as const;

  for (const kind of ['natsJetStream', 'mqtt', 'redis'] as const) {
    it(`${kind}: wrong credentials pause the sink with a reason naming the cause, the password masked`, async () => {
      const right = `right-${randomUUID()}`;
      const wrong = `wrong-${randomUUID()}`;
      const g = GUARDED[kind];
      const guarded = await g.start({ password: right });
      cleanups.push(() => guarded.close());
      const url = `${g.scheme}://${PRIVATE_USER}:${wrong}@127.0.0.1:${guarded.port}`;
      const streamId = await newStream(`creds-${kind}`);
      const sinkId = await createSink(streamId, { type: kind, config: g.config(url) });
      const r = await server.api('POST', `/api/v1/stream/${streamId}/events`, { events: [{ eventType: 'creds.test', payload: '{"n":0}' }] });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      const paused = await eventually(async () => {
        const s = await sink(streamId, sinkId);
        return s.status === 'paused' ? s : null;
      }, `the ${kind} sink paused`, LONG);
      assert.match(paused.failureReason ?? '', /refused the credentials/);
      assert.match(paused.failureReason ?? '', g.cause);
      assert.ok(!JSON.stringify(paused).includes(wrong), `no password in ${JSON.stringify(paused)}`);
      assert.match(JSON.stringify(paused), new RegExp(`${PRIVATE_USER}:\\*\\*\\*@`), 'the password shown masked');
      const attempts = await server.api('GET', `/api/v1/stream/${streamId}/sink/${sinkId}/attempt`);
      assert.equal(attempts.status, 200, JSON.stringify(attempts.body));
      assert.equal((attempts.body as { data: { outcome: string }[] }).data[0]?.outcome, 'failure');
      assert.ok(!JSON.stringify(attempts.body).includes(wrong), 'no password in the attempt log');
    });
  }
});
