/**
 * The far side of each stream sink type, for the sinks benchmark: a RabbitMQ queue, a Redis
 * stream read with XREAD, a NATS JetStream stream (with a core subscription on its subject),
 * an MQTT subscription and a local HTTP receiver. Each sees raw message text and reports
 * every benchmark index in it (`"bi":<n>` in the payload; batches carry several), however the
 * sink wraps the payload.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import amqp from 'amqplib';
import mqtt from 'mqtt';
import { connect as natsConnect } from 'nats';
import { createClient } from 'redis';

export const BROKER_URLS = {
  rabbitMq: process.env['BENCH_AMQP_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672',
  redis: process.env['BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6379',
  nats: process.env['BENCH_NATS_URL'] ?? 'nats://127.0.0.1:4222',
  mqtt: process.env['BENCH_MQTT_URL'] ?? 'mqtt://127.0.0.1:1883',
};

export type SinkKind = 'rabbitMq' | 'redis' | 'natsJetStream' | 'mqtt' | 'http';

export interface SinkConsumer {
  /** The sink's `type` and `config` pointing at this consumer. */
  sink: { type: SinkKind; config: Record<string, unknown> };
  close(): Promise<void>;
}

/** Every benchmark index in a message's text (escaped or not, in one event or a batch). */
export function indexesIn(text: string): number[] {
  return [...text.matchAll(/\\?"bi\\?":(\d+)/g)].map((m) => Number(m[1]));
}

/** Starts a consumer of `kind` named after `run`; `onText` gets each message's text. */
export async function startConsumer(kind: SinkKind, run: string, onText: (text: string) => void): Promise<SinkConsumer> {
  switch (kind) {
    case 'rabbitMq': {
      const conn = await amqp.connect(BROKER_URLS.rabbitMq);
      const ch = await conn.createChannel();
      const queue = `bench-sinks-${run}`;
      await ch.assertQueue(queue, { durable: false, autoDelete: false });
      await ch.consume(queue, (m) => m && onText(m.content.toString('utf8')), { noAck: true });
      return {
        sink: { type: kind, config: { uri: BROKER_URLS.rabbitMq, routingKey: queue } },
        close: async () => {
          await ch.deleteQueue(queue).catch(() => undefined);
          await conn.close();
        },
      };
    }
    case 'redis': {
      const key = `bench-sinks:${run}`;
      const client = createClient({ url: BROKER_URLS.redis });
      await client.connect();
      let open = true;
      let last = '0';
      const loop = (async () => {
        while (open) {
          const res = await client.xRead({ key, id: last }, { BLOCK: 500, COUNT: 1000 }).catch(() => null);
          for (const { messages } of res ?? []) {
            for (const { id, message } of messages) {
              onText(JSON.stringify(message));
              last = id;
            }
          }
        }
      })();
      return {
        sink: { type: kind, config: { uri: BROKER_URLS.redis, streamKey: key, maxLen: 100_000 } },
        close: async () => {
          open = false;
          await loop;
          await client.del(key);
          await client.quit();
        },
      };
    }
    case 'natsJetStream': {
      const subject = `bench.sinks.${run}`;
      const stream = `bench-sinks-${run}`;
      const nc = await natsConnect({ servers: BROKER_URLS.nats });
      const jsm = await nc.jetstreamManager();
      await jsm.streams.add({ name: stream, subjects: [subject] });
      // JetStream publishes are also seen by core subscribers of the subject.
      const sub = nc.subscribe(subject);
      const loop = (async () => {
        for await (const m of sub) onText(new TextDecoder().decode(m.data));
      })();
      return {
        sink: { type: kind, config: { url: BROKER_URLS.nats, subject } },
        close: async () => {
          sub.unsubscribe();
          await loop;
          await jsm.streams.delete(stream).catch(() => undefined);
          await nc.close();
        },
      };
    }
    case 'mqtt': {
      const topic = `bench/sinks/${run}`;
      const client = await mqtt.connectAsync(BROKER_URLS.mqtt);
      client.on('message', (_t, payload) => onText(payload.toString('utf8')));
      await client.subscribeAsync(topic, { qos: 1 });
      return { sink: { type: kind, config: { url: BROKER_URLS.mqtt, topic } }, close: () => client.endAsync() };
    }
    case 'http': {
      const server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          onText(Buffer.concat(chunks).toString('utf8'));
          res.writeHead(204).end();
        });
      });
      server.keepAliveTimeout = 60_000;
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as AddressInfo).port;
      return {
        sink: { type: kind, config: { url: `http://127.0.0.1:${port}/sink` } },
        close: async () => {
          server.closeAllConnections();
          await new Promise<void>((r) => server.close(() => r()));
        },
      };
    }
  }
}
