/**
 * Stream events delivered by a running server to real brokers, end to end (Stream API →
 * event log → sink dispatcher → transport → broker), through a loopback proxy that takes the
 * broker down and brings it back: a broker down when the sink starts, and one going down in
 * the middle of a stream, leave the sink `retrying` with the reason, and once the broker is
 * back every event arrives, in stream order, nothing lost; wrong credentials pause the sink
 * with a reason that names the problem and never the password.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { createClient } from 'redis';
import { eventually } from '../helpers/eventually.js';
import { BROKERS, skipWithoutBroker } from '../helpers/requirements.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

const skip = (await skipWithoutBroker('redis')) || (await skipWithoutBroker('rabbitMq'));

interface SinkView {
  id: string;
  status: string;
  failureReason?: string | null;
  currentIterator: string;
}

describe('stream sinks delivered by the server', { skip }, () => {
  const run = randomUUID().slice(0, 8);
  let server: TestServer;
  let streamId: string;
  const redis = createClient({ url: BROKERS.redis.url });
  const proxies: TcpProxy[] = [];

  before(async () => {
    server = await startServer();
    await redis.connect();
    const s = await server.api('POST', '/api/v1/stream', { name: 'Deliveries', uid: `deliveries-${run}` });
    assert.equal(s.status, 201, JSON.stringify(s.body));
    streamId = s.body.id;
  });
  after(async () => {
    await server?.close();
    for (const p of proxies) await p.down();
    await redis.quit();
  });

  async function proxyTo(url: string, port: number): Promise<TcpProxy> {
    const p = await TcpProxy.to(url, port);
    proxies.push(p);
    return p;
  }
  async function createSink(body: Record<string, unknown>): Promise<string> {
    const r = await server.api('POST', `/api/v1/stream/${streamId}/sink`, { batchSize: 10, ...body });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.id as string;
  }
  async function sink(id: string): Promise<SinkView> {
    return (await server.api('GET', `/api/v1/stream/${streamId}/sink/${id}`)).body as SinkView;
  }
  /** Appends `n` events of one type, numbered from `from`, a few per request. */
  async function append(eventType: string, from: number, n: number): Promise<void> {
    for (let i = from; i < from + n; i += 7) {
      const events = [];
      for (let j = i; j < Math.min(i + 7, from + n); j++) events.push({ eventType, payload: JSON.stringify({ n: j }) });
      const r = await server.api('POST', `/api/v1/stream/${streamId}/events`, { events });
      assert.equal(r.status, 202, JSON.stringify(r.body));
    }
  }
  /** The numbers that reached the Redis stream, in arrival order, each once (delivery is at least once). */
  async function redisNumbers(key: string): Promise<number[]> {
    const seen = new Set<string>();
    const out: number[] = [];
    for (const e of (await redis.xRange(key, '-', '+')) ?? []) {
      const id = String(e.message.id);
      if (seen.has(id)) continue;
      seen.add(id);
      out.push((JSON.parse(String(e.message.payload)) as { n: number }).n);
    }
    return out;
  }
  const upTo = (n: number) => Array.from({ length: n }, (_, i) => i);

  it('a redis sink whose broker is down at the start retries, then delivers everything in order once it is back', async () => {
    const proxy = await proxyTo(BROKERS.redis.url, 6379);
    await proxy.down();
    const key = `switchboard-test-sink-${run}-a`;
    const id = await createSink({ type: 'redis', config: { uri: proxy.url(BROKERS.redis.url), streamKey: key }, eventTypes: ['a'] });
    await append('a', 0, 30);
    const failing = await eventually(async () => {
      const s = await sink(id);
      return s.status === 'retrying' ? s : null;
    }, 'the sink to be retrying');
    assert.ok(failing.failureReason, 'a retrying sink says why');
    await proxy.up();
    await eventually(async () => ((await redisNumbers(key)).length === 30 ? true : null), '30 events in Redis');
    assert.deepEqual(await redisNumbers(key), upTo(30));
    await eventually(async () => ((await sink(id)).status === 'enabled' ? true : null), 'the sink enabled again');
    await redis.del(key);
  });

  it('a rabbitMq sink whose broker goes down mid-stream loses nothing and keeps the order', async () => {
    const proxy = await proxyTo(BROKERS.rabbitMq.url, 5672);
    const queue = `switchboard-test-sink-${run}-b`;
    const conn = await amqp.connect(BROKERS.rabbitMq.url);
    try {
      const ch = await conn.createChannel();
      await ch.assertQueue(queue, { durable: false, autoDelete: false });
      const got: { id: string; n: number }[] = [];
      await ch.consume(queue, (m) => {
        if (!m) return;
        got.push({ id: String(m.properties.messageId), n: (JSON.parse(m.content.toString('utf8')) as { n: number }).n });
        ch.ack(m);
      });
      const distinct = () => [...new Map(got.map((g) => [g.id, g.n])).values()];
      const id = await createSink({ type: 'rabbitMq', config: { uri: proxy.url(BROKERS.rabbitMq.url), routingKey: queue }, eventTypes: ['b'] });
      await append('b', 0, 25);
      await eventually(() => (distinct().length === 25 ? true : null), 'the first 25 events on RabbitMQ');
      await proxy.down();
      await append('b', 25, 25);
      await eventually(async () => ((await sink(id)).status === 'retrying' ? true : null), 'the sink to be retrying');
      await proxy.up();
      await eventually(() => (distinct().length === 50 ? true : null), 'all 50 events on RabbitMQ');
      assert.deepEqual(distinct(), upTo(50));
      await ch.deleteQueue(queue);
    } finally {
      await conn.close();
    }
  });

  it('wrong credentials pause the sink with a reason, and never show the password', async () => {
    const wrong = new URL(BROKERS.rabbitMq.url);
    wrong.username = 'guest';
    wrong.password = 'not-the-password';
    const id = await createSink({ type: 'rabbitMq', config: { uri: wrong.href, routingKey: `switchboard-test-sink-${run}-c` }, eventTypes: ['c'] });
    await append('c', 0, 1);
    const paused = await eventually(async () => {
      const s = await sink(id);
      return s.status === 'paused' ? s : null;
    }, 'the sink to be paused');
    assert.match(paused.failureReason ?? '', /credential|ACCESS_REFUSED|auth/i);
    assert.ok(!(paused.failureReason ?? '').includes('not-the-password'));
    const attempts = (await server.api('GET', `/api/v1/stream/${streamId}/sink/${id}/attempt`)).body as { data: { outcome: string; error: string }[] };
    assert.equal(attempts.data[0]?.outcome, 'failure');
    assert.ok(!JSON.stringify(attempts.data).includes('not-the-password'));
  });
});
