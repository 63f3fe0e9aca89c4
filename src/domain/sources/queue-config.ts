/**
 * The configuration of queue sources: a RabbitMQ queue, a Redis stream consumer group or a
 * NATS JetStream durable consumer whose messages become Switchboard messages. Parsed and
 * checked when a source is saved; shown back with the password of the broker URI masked.
 */
import { maskSecrets, maskUri } from '../uri-secrets.js';
import { invalid } from '../errors.js';
import { optionalInt, optionalString, requiredString } from '../providers/util.js';

/** Source types that consume a broker instead of receiving requests or running on a schedule. */
export const QUEUE_TYPES = ['rabbitMq', 'redisStream', 'natsJetStream'] as const;
export type QueueType = (typeof QUEUE_TYPES)[number];

export const isQueueType = (type: string): type is QueueType => (QUEUE_TYPES as readonly string[]).includes(type);

/** Where a queue source's messages go: the source's own application, or a stream. */
export type QueueTarget = { kind: 'application' } | { kind: 'stream'; streamId: string };

interface QueueCommon {
  /** The event type of every message; null reads it from the message (body `eventType`/`type`, then the broker's `type`). */
  eventType: string | null;
  target: QueueTarget;
}

export interface RabbitMqConfig extends QueueCommon {
  type: 'rabbitMq';
  uri: string;
  queue: string;
  prefetch: number;
}

export interface RedisStreamConfig extends QueueCommon {
  type: 'redisStream';
  uri: string;
  streamKey: string;
  group: string;
  /** Null: the node's id. */
  consumer: string | null;
}

export interface NatsJetStreamConfig extends QueueCommon {
  type: 'natsJetStream';
  url: string;
  stream: string;
  durable: string;
  filterSubject: string | null;
  /** How long a delivered message may stay unacked before JetStream redelivers it (when the consumer is created). */
  ackWaitSecs: number;
  /** Where bad messages are published before they are terminated; null: `switchboard.dead-letter.<stream>.<durable>`. */
  deadLetterSubject: string | null;
}

export type QueueConfig = RabbitMqConfig | RedisStreamConfig | NatsJetStreamConfig;

const SCHEMES: Record<QueueType, { key: 'uri' | 'url'; schemes: string[] }> = {
  rabbitMq: { key: 'uri', schemes: ['amqp:', 'amqps:'] },
  redisStream: { key: 'uri', schemes: ['redis:', 'rediss:'] },
  natsJetStream: { key: 'url', schemes: ['nats:', 'tls:'] },
};

const EVENT_TYPE = /^[a-zA-Z0-9\-_.]{1,256}$/;
/** Names of queues, streams, groups and consumers: printable, no spaces. */
const BROKER_NAME = /^[^\s\0]{1,255}$/;
/** NATS stream and durable names may not hold these. */
const NATS_NAME = /^[^\s.*>/\\\0]{1,255}$/;
/** A NATS subject to publish to: dot-separated tokens, none empty or a wildcard. */
const NATS_SUBJECT = /^[^\s.*>\0]+(\.[^\s.*>\0]+)*$/;

/** Where a NATS source publishes its bad messages. */
export const natsDeadLetterSubject = (c: NatsJetStreamConfig): string => c.deadLetterSubject ?? `switchboard.dead-letter.${c.stream}.${c.durable}`;

function brokerUri(raw: Record<string, unknown>, type: QueueType): string {
  const { key, schemes } = SCHEMES[type];
  const uri = requiredString(raw, key, 4096);
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    throw invalid(['body', 'config', key], `config.${key} is not a valid absolute URI`);
  }
  if (!schemes.includes(u.protocol)) throw invalid(['body', 'config', key], `config.${key} must use ${schemes.map((s) => s.slice(0, -1)).join(' or ')}`);
  if (!u.hostname) throw invalid(['body', 'config', key], `config.${key} has no host`);
  return uri;
}

function named(raw: Record<string, unknown>, key: string, pattern: RegExp, required: true): string;
function named(raw: Record<string, unknown>, key: string, pattern: RegExp, required: false): string | null;
function named(raw: Record<string, unknown>, key: string, pattern: RegExp, required: boolean): string | null {
  const v = required ? requiredString(raw, key, 255) : optionalString(raw, key, 255);
  if (v !== null && !pattern.test(v)) throw invalid(['body', 'config', key], `config.${key} has characters a broker name may not have`);
  return v;
}

function target(raw: Record<string, unknown>): QueueTarget {
  const t = raw.target;
  if (t === undefined || t === null) return { kind: 'application' };
  if (typeof t !== 'object' || Array.isArray(t)) throw invalid(['body', 'config', 'target'], 'config.target must be an object such as {"stream": "strm_..."}');
  const stream = (t as Record<string, unknown>).stream;
  if (typeof stream !== 'string' || !/^[a-zA-Z0-9_\-.]{1,256}$/.test(stream)) throw invalid(['body', 'config', 'target', 'stream'], 'config.target.stream must be a stream id or uid');
  return { kind: 'stream', streamId: stream };
}

/** Validates a queue source's config; throws a 422 naming the field. The broker's address is checked by the caller. */
export function parseQueueConfig(type: QueueType, raw: Record<string, unknown>): QueueConfig {
  const eventType = optionalString(raw, 'eventType', 256);
  if (eventType !== null && !EVENT_TYPE.test(eventType)) throw invalid(['body', 'config', 'eventType'], 'config.eventType may hold only letters, digits, "-", "_" and "."');
  const common = { eventType, target: target(raw) };
  if (type === 'rabbitMq') {
    return { type, uri: brokerUri(raw, type), queue: named(raw, 'queue', BROKER_NAME, true), prefetch: optionalInt(raw, 'prefetch', 1, 10_000) ?? 100, ...common };
  }
  if (type === 'redisStream') {
    return { type, uri: brokerUri(raw, type), streamKey: named(raw, 'streamKey', BROKER_NAME, true), group: named(raw, 'group', BROKER_NAME, true), consumer: named(raw, 'consumer', BROKER_NAME, false), ...common };
  }
  const filterSubject = optionalString(raw, 'filterSubject', 255);
  if (filterSubject !== null && /[\s\0]/.test(filterSubject)) throw invalid(['body', 'config', 'filterSubject'], 'config.filterSubject may not hold spaces');
  const deadLetterSubject = optionalString(raw, 'deadLetterSubject', 255);
  if (deadLetterSubject !== null && !NATS_SUBJECT.test(deadLetterSubject)) {
    throw invalid(['body', 'config', 'deadLetterSubject'], 'config.deadLetterSubject must be a NATS subject: dot-separated tokens, no spaces, no empty token and no wildcard ("*", ">")');
  }
  return { type, url: brokerUri(raw, type), stream: named(raw, 'stream', NATS_NAME, true), durable: named(raw, 'durable', NATS_NAME, true), filterSubject, ackWaitSecs: optionalInt(raw, 'ackWaitSecs', 1, 86_400) ?? 30, deadLetterSubject, ...common };
}

/** The broker URI of a config. */
export const brokerUriOf = (c: QueueConfig): string => (c.type === 'natsJetStream' ? c.url : c.uri);

/** Replaces every secret of the config in a text (an error from a broker client) by `***`. */
export function withoutSecrets(c: QueueConfig, text: string): string {
  return maskSecrets(text, brokerUriOf(c));
}

/** The config as shown back: the URI with its credentials masked. */
export function publicQueueConfig(c: QueueConfig): Record<string, unknown> {
  const common = { ...(c.eventType !== null ? { eventType: c.eventType } : {}), ...(c.target.kind === 'stream' ? { target: { stream: c.target.streamId } } : {}) };
  if (c.type === 'rabbitMq') return { uri: maskUri(c.uri), queue: c.queue, prefetch: c.prefetch, ...common };
  if (c.type === 'redisStream') return { uri: maskUri(c.uri), streamKey: c.streamKey, group: c.group, ...(c.consumer !== null ? { consumer: c.consumer } : {}), ...common };
  return { url: maskUri(c.url), stream: c.stream, durable: c.durable, ...(c.filterSubject !== null ? { filterSubject: c.filterSubject } : {}), ackWaitSecs: c.ackWaitSecs, ...(c.deadLetterSubject !== null ? { deadLetterSubject: c.deadLetterSubject } : {}), ...common };
}
