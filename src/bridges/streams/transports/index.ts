/**
 * The sink types Switchboard delivers, and the transport for each (one file per type).
 * Opening never throws: a sink whose type or config is unusable gets a transport whose
 * every delivery fails with a non-retryable SinkDeliveryError saying why.
 */
import { SinkDeliveryError } from '../sink-transport.js';
import type { SinkEvent, SinkTarget, SinkTransport } from '../sink-transport.js';
import { HttpSinkTransport } from './http.js';
import { MqttSinkTransport } from './mqtt.js';
import { NatsJetStreamSinkTransport } from './nats-jet-stream.js';
import { RabbitMqSinkTransport } from './rabbit-mq.js';
import { RedisSinkTransport } from './redis.js';
import type { SinkTransportOptions } from './transport-options.js';

export type { SinkTransportOptions } from './transport-options.js';

/** Types a sink may have that this server delivers (besides `poller`, read over the API). */
export const DELIVERED_SINK_TYPES: readonly string[] = ['http', 'rabbitMq', 'redis', 'natsJetStream', 'mqtt'];

type Opener = (target: SinkTarget, options: SinkTransportOptions) => SinkTransport;

const OPENERS: Record<string, Opener> = {
  http: (t, o) => new HttpSinkTransport(t, o),
  rabbitMq: (t, o) => new RabbitMqSinkTransport(t, o),
  redis: (t, o) => new RedisSinkTransport(t, o),
  natsJetStream: (t, o) => new NatsJetStreamSinkTransport(t, o),
  mqtt: (t, o) => new MqttSinkTransport(t, o),
};

/** A transport that cannot deliver: each batch fails with the same error. */
class FailingTransport implements SinkTransport {
  constructor(private readonly error: SinkDeliveryError) {}
  deliver(_events: SinkEvent[]): Promise<void> {
    return Promise.reject(this.error);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** Opens the transport of a sink (connections are made on the first delivery). */
export function openSinkTransport(target: SinkTarget, options: SinkTransportOptions = {}): SinkTransport {
  const open = Object.hasOwn(OPENERS, target.type) ? OPENERS[target.type] : undefined;
  if (!open) return new FailingTransport(new SinkDeliveryError(`sink type ${target.type} is not delivered by this server`, null, false));
  try {
    return open(target, options);
  } catch (e) {
    if (e instanceof SinkDeliveryError) return new FailingTransport(e);
    return new FailingTransport(new SinkDeliveryError(`${target.type} sink config is unusable: ${(e as Error).message}`, null, false));
  }
}
