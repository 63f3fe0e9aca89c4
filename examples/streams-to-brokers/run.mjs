/**
 * Streams to brokers: one stream of order events, delivered to RabbitMQ and to Redis. The
 * shop appends events to the stream; a rabbitMq sink publishes each one to the billing
 * team's queue (default exchange, the queue's name as routing key) and a redis sink XADDs each one to a Redis stream. Both
 * consumers read until every event has arrived, in order.
 *
 *   node examples/streams-to-brokers/run.mjs
 *
 * Brokers: AMQP_URL (default amqp://guest:guest@127.0.0.1:5672) and REDIS_URL (default
 * redis://127.0.0.1:6379). Exchange, queue and Redis key are new on every run, and removed
 * at the end.
 */
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { createClient } from 'redis';
import { check, example, waitFor } from '../common.mjs';

const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const EVENTS = 20;

await example('streams-to-brokers', {}, async ({ svix, api, defer }) => {
  const run = randomUUID().slice(0, 8);
  const queue = `billing-${run}`;
  const redisKey = `orders:${run}`;

  // --- RabbitMQ: the billing team's queue. The sink publishes to the default exchange with the
  // queue's name as routing key (the svix SDK's RabbitMqConfig has no exchange field; a named
  // exchange is a Switchboard extension, set over HTTP: see docs/streams.md).
  const conn = await amqp.connect(AMQP_URL);
  defer(() => conn.close());
  const ch = await conn.createChannel();
  await ch.assertQueue(queue, { durable: false, autoDelete: false });
  defer(() => ch.deleteQueue(queue));
  const fromRabbit = [];
  await ch.consume(queue, (m) => {
    if (!m) return;
    fromRabbit.push({ type: m.properties.type, id: m.properties.messageId, order: JSON.parse(m.content.toString('utf8')) });
    ch.ack(m);
  });

  // --- Redis: the analytics job reads the Redis stream from the start.
  const redis = createClient({ url: REDIS_URL });
  await redis.connect();
  defer(async () => {
    await redis.del(redisKey);
    await redis.quit();
  });
  const fromRedis = [];
  let lastId = '0';
  const readRedis = async () => {
    const res = await redis.xRead({ key: redisKey, id: lastId }, { COUNT: 100 });
    for (const { messages } of res ?? []) {
      for (const { id, message } of messages) {
        fromRedis.push({ type: message.type, id: message.id, order: JSON.parse(message.payload) });
        lastId = id;
      }
    }
  };

  // --- Switchboard: the stream and its two sinks. rabbitMq is a reference sink type (the svix
  // SDK creates it); redis is a Switchboard extension, created over HTTP with its real type.
  const stream = await svix.streaming.stream.create({ name: 'Orders', uid: `orders-${run}` });
  const rabbitSink = await svix.streaming.sink.create(stream.id, {
    type: 'rabbitMq',
    config: { uri: AMQP_URL, routingKey: queue },
    batchSize: 10,
    maxWaitSecs: 0,
  });
  const redisSink = await api('POST', `/api/v1/stream/${stream.id}/sink`, { type: 'redis', config: { uri: REDIS_URL, streamKey: redisKey }, batchSize: 10 });
  check(redisSink.type === 'http' && redisSink.extension?.type === 'redis', `the redis sink is shown to SDKs as http with its real type in extension: ${JSON.stringify(redisSink)}`);
  check(!JSON.stringify(rabbitSink.config).includes(':guest@'), 'the AMQP password is masked in the answer');

  // --- The shop appends its orders to the stream, a few per request.
  const orders = Array.from({ length: EVENTS }, (_, i) => ({ orderId: `ord_${run}_${i}`, n: i, total: 10 + i }));
  for (let i = 0; i < orders.length; i += 5) {
    await svix.streaming.events.create(stream.id, {
      events: orders.slice(i, i + 5).map((o) => ({ eventType: o.n % 2 ? 'order.paid' : 'order.created', payload: JSON.stringify(o) })),
    });
  }

  // --- Both consumers wait for every order.
  const status = async () => {
    const sinks = await api('GET', `/api/v1/stream/${stream.id}/sink`);
    return sinks.data.map((s) => `${s.extension?.type ?? s.type}: ${s.status}${s.failureReason ? ` (${s.failureReason})` : ''}`).join(', ');
  };
  try {
    await waitFor(`${EVENTS} orders on RabbitMQ`, () => fromRabbit.length >= EVENTS, 60);
    await waitFor(`${EVENTS} orders on Redis`, async () => (await readRedis(), fromRedis.length >= EVENTS), 60);
  } catch (e) {
    throw new Error(`${e.message}; RabbitMQ got ${fromRabbit.length}, Redis got ${fromRedis.length}; sinks: ${await status()}`);
  }

  // Delivery is at least once: a retried batch may arrive twice, so count distinct event ids.
  for (const [where, got] of [['RabbitMQ', fromRabbit], ['Redis', fromRedis]]) {
    const seen = new Map();
    for (const m of got) if (!seen.has(m.id)) seen.set(m.id, m);
    const ns = [...seen.values()].map((m) => m.order.n);
    check(ns.length === EVENTS, `${where}: ${ns.length} distinct events, expected ${EVENTS}`);
    check(ns.every((n, i) => n === i), `${where}: events in stream order, got ${ns.join(',')}`);
    check([...seen.values()].every((m) => m.type === (m.order.n % 2 ? 'order.paid' : 'order.created')), `${where}: each event carries its type`);
  }
  const attempts = await api('GET', `/api/v1/stream/${stream.id}/sink/${rabbitSink.id}/attempt`);
  return `${EVENTS} orders reached RabbitMQ (queue ${queue}) and Redis (stream ${redisKey}) in order; the rabbitMq sink took ${attempts.data.length} batch(es)`;
});
