/**
 * How one broker message becomes a Switchboard message: its JSON body is the payload, its
 * event type comes from the source's config, the body (`eventType`, then `type`) or the
 * broker's own type (AMQP `type` property, Redis field `type`, NATS header `type`), and its
 * event id is derived from the broker's id of the message, so a redelivery is a duplicate.
 */
import { createHash } from 'node:crypto';
import type { QueueConfig } from '../../../domain/sources/queue-config.js';

/** A message as a broker consumer hands it over. */
export interface BrokerMessage {
  body: Buffer;
  /** The broker's own id: AMQP messageId (null: the body's hash is used), Redis entry id, NATS stream sequence. */
  brokerId: string | null;
  /** The broker's type of the message, when it has one. */
  typeHint: string | null;
}

export type DecodedMessage = { kind: 'ok'; eventType: string; eventId: string; payload: string } | { kind: 'bad'; reason: string };

const EVENT_TYPE = /^[a-zA-Z0-9\-_.]{1,256}$/;
const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** The event id of a broker message: `<prefix>.<broker id>`, or a hash when that would be long. */
export function eventIdOf(c: QueueConfig, m: BrokerMessage): string {
  const prefix = c.type === 'rabbitMq' ? 'amqp' : c.type === 'redisStream' ? 'redis' : `nats.${c.stream}`;
  if (m.brokerId === null) return `${prefix}.h.${sha256(m.body).slice(0, 40)}`;
  const id = `${prefix}.${m.brokerId}`;
  return id.length <= 200 && /^[a-zA-Z0-9\-_.:]+$/.test(id) ? id : `${prefix}.h.${sha256(m.brokerId).slice(0, 40)}`;
}

/** Decodes a broker message, or says why it cannot be published. */
export function decodeQueueMessage(c: QueueConfig, m: BrokerMessage, maxPayloadBytes: number): DecodedMessage {
  if (m.body.length > maxPayloadBytes) return { kind: 'bad', reason: `payload is larger than ${maxPayloadBytes} bytes` };
  const text = m.body.toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    return { kind: 'bad', reason: 'body is not valid JSON' };
  }
  const isObject = body !== null && typeof body === 'object' && !Array.isArray(body);
  const fields = isObject ? (body as Record<string, unknown>) : {};
  const fromBody = typeof fields.eventType === 'string' ? fields.eventType : typeof fields.type === 'string' ? fields.type : null;
  const eventType = c.eventType ?? fromBody ?? m.typeHint;
  if (eventType === null || eventType === '') {
    return { kind: 'bad', reason: 'no event type: set config.eventType, or give the message a body field "eventType" or "type", or a broker type' };
  }
  if (!EVENT_TYPE.test(eventType)) return { kind: 'bad', reason: `event type "${eventType.slice(0, 300)}" may hold only letters, digits, "-", "_" and "." (at most 256)` };
  return { kind: 'ok', eventType, eventId: eventIdOf(c, m), payload: isObject ? text : JSON.stringify({ value: body }) };
}
