/**
 * Test-side access to the real brokers behind queue sources: each kit makes a uniquely named
 * queue (RabbitMQ, with a dead-letter queue behind it), stream (Redis) or JetStream stream
 * (NATS), publishes to it directly, reads its dead-letter place, and removes it afterwards.
 */
import { randomUUID } from 'node:crypto';
import { connect as amqpConnect } from 'amqplib';
import { createClient } from 'redis';
import { connect as natsConnect, headers as natsHeaders } from 'nats';
import type { JetStreamClient, JetStreamManager, MsgHdrs } from 'nats';
import { BROKERS } from './requirements.js';

export interface PublishOptions {
  /** AMQP messageId (RabbitMQ only). */
  id?: string;
  /** The broker's type of the message (AMQP `type`, Redis field `type`, NATS header `type`). */
  type?: string;
}

export interface BrokerKit {
  /** The source type. */
  type: 'rabbitMq' | 'redisStream' | 'natsJetStream';
  broker: 'rabbitMq' | 'redis' | 'nats';
  /** The broker URL a source is given (through a proxy: pass its URL). */
  brokerUrl: string;
  /** The source config for a broker URL (Redis and NATS: a new group or durable consumer each time, which `outstanding` then counts). */
  config(url: string): Record<string, unknown>;
  publish(body: string, o?: PublishOptions): Promise<void>;
  /** What reached the broker's dead-letter place (RabbitMQ: the dead-letter queue's bodies; Redis: the reasons in `<key>:dead`; NATS: the reasons of the messages on the dead-letter subject). */
  deadLettered(): Promise<string[]>;
  /** Messages still waiting or unacknowledged on the broker. */
  outstanding(): Promise<number>;
  close(): Promise<void>;
}

const unique = (): string => 'sbq' + randomUUID().replaceAll('-', '').slice(0, 16);

export async function rabbitMqKit(): Promise<BrokerKit> {
  const url = BROKERS.rabbitMq.url;
  const conn = await amqpConnect(url);
  const ch = await conn.createConfirmChannel();
  const queue = unique();
  const dead = `${queue}.dead`;
  await ch.assertQueue(dead, { durable: false, autoDelete: false });
  await ch.assertQueue(queue, { durable: false, autoDelete: false, arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dead } });
  return {
    type: 'rabbitMq',
    broker: 'rabbitMq',
    brokerUrl: url,
    config: (u) => ({ uri: u, queue }),
    async publish(body, o = {}) {
      ch.sendToQueue(queue, Buffer.from(body), { messageId: o.id, type: o.type });
      await ch.waitForConfirms();
    },
    async deadLettered() {
      const out: string[] = [];
      for (;;) {
        const m = await ch.get(dead, { noAck: true });
        if (!m) return out;
        out.push(m.content.toString('utf8'));
      }
    },
    async outstanding() {
      // A passive declare counts ready messages; unacked ones show once their consumer is gone.
      return (await ch.checkQueue(queue)).messageCount;
    },
    async close() {
      await ch.deleteQueue(queue).catch(() => undefined);
      await ch.deleteQueue(dead).catch(() => undefined);
      await conn.close().catch(() => undefined);
    },
  };
}

export async function redisStreamKit(): Promise<BrokerKit> {
  const url = BROKERS.redis.url;
  const client = createClient({ url, RESP: 2 });
  client.on('error', () => undefined);
  await client.connect();
  const key = `sbtest:${unique()}`;
  // Each source gets its own group, so each reads every entry.
  let group = '';
  return {
    type: 'redisStream',
    broker: 'redis',
    brokerUrl: url,
    config: (u) => {
      group = unique();
      return { uri: u, streamKey: key, group };
    },
    async publish(body, o = {}) {
      await client.sendCommand(['XADD', key, '*', 'payload', body, ...(o.type ? ['type', o.type] : [])]);
    },
    async deadLettered() {
      const entries = await client.sendCommand<[string, string[]][]>(['XRANGE', `${key}:dead`, '-', '+']);
      return entries.map(([, fields]) => fields[fields.indexOf('reason') + 1]!);
    },
    async outstanding() {
      try {
        const groups = await client.sendCommand<unknown[][]>(['XINFO', 'GROUPS', key]);
        const g = groups.find((x) => x[1] === group);
        if (!g) return Number(await client.sendCommand(['XLEN', key]));
        const at = (name: string): unknown => g[g.indexOf(name) + 1];
        return Number(at('pending')) + Number(at('lag') ?? 0);
      } catch {
        return 0;
      }
    },
    async close() {
      await client.sendCommand(['DEL', key, `${key}:dead`]).catch(() => undefined);
      client.destroy();
    },
  };
}

/** A message read back from a NATS subject: its body and headers. */
export interface NatsStored {
  body: string;
  headers: MsgHdrs | undefined;
}

/** Every message stored on `subject` in whichever JetStream stream captures it (none: empty). */
export async function natsMessagesOn(jsm: JetStreamManager, js: JetStreamClient, subject: string): Promise<NatsStored[]> {
  const stream = await jsm.streams.find(subject).catch(() => null);
  if (stream === null) return [];
  const count = (await jsm.streams.info(stream, { subjects_filter: subject })).state.subjects?.[subject] ?? 0;
  if (count === 0) return [];
  const oc = await js.consumers.get(stream, { filterSubjects: subject }); // one subject: servers before 2.10 take no list
  const out: NatsStored[] = [];
  for await (const m of await oc.fetch({ max_messages: count, expires: 2000 })) {
    out.push({ body: Buffer.from(m.data).toString('utf8'), headers: m.headers });
    if (out.length >= count) break;
  }
  return out;
}

export type NatsKit = BrokerKit & { jsm: JetStreamManager; js: JetStreamClient; stream: string; deadLetterSubject(): string };

export async function natsJetStreamKit(): Promise<NatsKit> {
  const url = BROKERS.nats.url;
  const u = new URL(url);
  const nc = await natsConnect({ servers: `${u.hostname}:${u.port || 4222}` });
  const jsm = await nc.jetstreamManager();
  const stream = unique().toUpperCase();
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
  const js = nc.jetstream();
  // Each source gets its own durable consumer, so each reads every message.
  let durable = '';
  const deadLetterSubject = (): string => `switchboard.dead-letter.${stream}.${durable}`;
  const used = new Set<string>();
  return {
    type: 'natsJetStream',
    broker: 'nats',
    brokerUrl: url,
    jsm,
    js,
    stream,
    deadLetterSubject,
    config: (x) => {
      durable = unique();
      used.add(deadLetterSubject());
      return { url: x, stream, durable, ackWaitSecs: 2 };
    },
    async publish(body, o = {}) {
      const h = natsHeaders();
      if (o.type) h.set('type', o.type);
      await js.publish(`${stream}.events`, Buffer.from(body), { headers: h });
    },
    async deadLettered() {
      return (await natsMessagesOn(jsm, js, deadLetterSubject())).map((m) => m.headers?.get('Switchboard-Dead-Letter-Reason') ?? '');
    },
    async outstanding() {
      try {
        const info = await jsm.consumers.info(stream, durable);
        return info.num_pending + info.num_ack_pending;
      } catch {
        return (await jsm.streams.info(stream)).state.messages;
      }
    },
    async close() {
      await jsm.streams.delete(stream).catch(() => undefined);
      // The shared dead-letter stream keeps other runs' messages: only this kit's subjects go.
      for (const subject of used) {
        const holder = await jsm.streams.find(subject).catch(() => null);
        if (holder !== null) await jsm.streams.purge(holder, { filter: subject }).catch(() => undefined);
      }
      await nc.close();
    },
  };
}

export const BROKER_KITS = { rabbitMq: rabbitMqKit, redis: redisStreamKit, nats: natsJetStreamKit } as const;
