/**
 * The `rabbitMq` sink: each event of a batch published on a confirm channel, and the batch
 * delivered once the broker has confirmed every message (publisher confirms).
 *
 * Config: `{uri, routingKey, exchange?}` (`exchange` "" by default: the default exchange,
 * where the routing key is a queue name). Each message: body = the payload text as stored,
 * `persistent`, `contentType: application/json`, `messageId` = the event id, `type` = the
 * event type, `timestamp` = the event's creation time in seconds, and headers
 * `switchboard-stream-id` and `switchboard-seq`.
 *
 * Errors: the broker unreachable, the connection or channel lost, no confirm in time → a
 * retryable SinkDeliveryError, and the next batch opens a new connection. An unknown
 * exchange (404 NOT_FOUND), refused credentials (403 ACCESS_REFUSED), a refused virtual
 * host or a publish the broker forbids → non-retryable: retrying cannot help until the sink
 * is changed. Messages never include the URI's password.
 */
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { SinkDeliveryError } from '../sink-transport.js';
import type { SinkEvent, SinkTarget, SinkTransport } from '../sink-transport.js';
import { pinBrokerAddress } from './broker-address.js';
import { connectWithin, withDeadline } from './deadline.js';
import { maskSecrets } from '../../../domain/uri-secrets.js';
import { ReusedConnection } from './reused-connection.js';
import { configString, DEFAULT_CONFIRM_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS } from './transport-options.js';
import type { SinkTransportOptions } from './transport-options.js';

interface Open {
  connection: ChannelModel;
  channel: ConfirmChannel;
  /** Set when the connection or channel closed or failed; the next delivery reopens. */
  broken: boolean;
  /** The last error the broker reported on the channel or connection (a channel close says why). */
  lastError: (Error & { code?: number | string }) | null;
}

/** AMQP reply codes retrying cannot fix: 403 access refused, 404 not found, 530 not allowed. */
const PERMANENT_CODES = new Set([403, 404, 530]);

/** Resolves when the channel can take more messages, or has closed (its confirms then fail). */
function drained(channel: ConfirmChannel): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      channel.off('drain', done);
      channel.off('close', done);
      resolve();
    };
    channel.on('drain', done);
    channel.on('close', done);
  });
}

export class RabbitMqSinkTransport implements SinkTransport {
  private readonly uri: string;
  private readonly routingKey: string;
  private readonly exchange: string;
  private readonly connection = new ReusedConnection<Open>({
    connect: () => this.connect(),
    usable: (o) => !o.broken,
    end: (o, graceful) => {
      // A connection dropped because it failed is never used again.
      if (!graceful) o.broken = true;
      return o.connection.close();
    },
  });

  constructor(
    private readonly target: SinkTarget,
    private readonly options: SinkTransportOptions = {},
  ) {
    this.uri = configString(target.config, 'rabbitMq', 'uri');
    this.routingKey = typeof target.config.routingKey === 'string' ? target.config.routingKey : '';
    const ex = target.config.exchange;
    this.exchange = typeof ex === 'string' ? ex : '';
    if (!/^amqps?:/.test(this.uri)) throw new SinkDeliveryError('rabbitMq sink "uri" must start with amqp:// or amqps://', null, false);
  }

  async deliver(events: SinkEvent[]): Promise<void> {
    if (events.length === 0) return;
    const o = await this.connection.get();
    try {
      const confirmMs = this.options.confirmTimeoutMs ?? DEFAULT_CONFIRM_TIMEOUT_MS;
      for (const e of events) {
        if (o.broken) throw o.lastError ?? new SinkDeliveryError('RabbitMQ connection closed during the batch');
        const room = o.channel.publish(this.exchange, this.routingKey, Buffer.from(e.payload, 'utf8'), {
          persistent: true,
          contentType: 'application/json',
          messageId: e.id,
          type: e.eventType,
          timestamp: Math.floor(e.createdAt / 1000),
          headers: { 'switchboard-stream-id': this.target.streamId, 'switchboard-seq': e.seq },
        });
        // A full write buffer: wait until it drains (or the channel closes) before the next.
        if (!room) await withDeadline(drained(o.channel), confirmMs, 'RabbitMQ accepting more messages');
      }
      await withDeadline(o.channel.waitForConfirms(), confirmMs, 'RabbitMQ publisher confirms');
    } catch (e) {
      this.connection.discard(o);
      throw this.failure(o.lastError ?? e, 'publish');
    }
    if (o.broken) {
      // Confirmed, but the channel closed right after: the batch is in; the next one reopens.
      this.connection.discard(o);
    }
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  private async connect(): Promise<Open> {
    const timeout = this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    let connection: ChannelModel;
    // The client library is loaded on first connect: a server without such a sink never pays for it.
    const amqp = (await import('amqplib')).default;
    const to = await pinBrokerAddress('rabbitMq', this.uri, this.options.allowedNetworks, this.options.resolve);
    const connecting = amqp.connect(to.uri, { timeout, servername: to.servername });
    try {
      connection = await connectWithin(connecting, timeout + 1000, 'connecting to RabbitMQ', (c) => c.close());
    } catch (e) {
      throw this.failure(e, 'connect');
    }
    const o: Open = { connection, channel: null as unknown as ConfirmChannel, broken: false, lastError: null };
    const failed = (e: Error) => {
      o.broken = true;
      o.lastError = e;
    };
    connection.on('error', failed);
    connection.on('close', () => (o.broken = true));
    try {
      o.channel = await connection.createConfirmChannel();
    } catch (e) {
      await connection.close().catch(() => {});
      throw this.failure(e, 'open a channel');
    }
    o.channel.on('error', failed);
    o.channel.on('close', () => (o.broken = true));
    return o;
  }

  /** A SinkDeliveryError for what amqplib reported while `doing` something, without credentials. */
  private failure(e: unknown, doing: string): SinkDeliveryError {
    if (e instanceof SinkDeliveryError) return e;
    const err = e as { code?: number | string; message?: string };
    const text = maskSecrets(err.message ?? String(e), this.uri);
    const code = typeof err.code === 'number' ? err.code : null;
    if (/ACCESS[-_]REFUSED/.test(text)) return new SinkDeliveryError(`RabbitMQ refused the credentials (ACCESS_REFUSED): check the user and password of the sink's uri ${maskSecrets(this.uri, this.uri)}`, 403, false);
    if (/Expected ConnectionOpenOk/.test(text)) return new SinkDeliveryError(`RabbitMQ refused to open the virtual host of ${maskSecrets(this.uri, this.uri)} (it does not exist or the user has no access to it)`, 530, false);
    if (code === 404) return new SinkDeliveryError(`RabbitMQ: ${text.replace(/^.*with message "(.*)"$/, '$1')} (the exchange must exist)`, 404, false);
    if (code !== null && PERMANENT_CODES.has(code)) return new SinkDeliveryError(`RabbitMQ refused to ${doing}: ${text}`, code, false);
    const sys = typeof err.code === 'string' ? `${err.code}: ` : '';
    return new SinkDeliveryError(`RabbitMQ: could not ${doing}: ${text.startsWith(sys) ? text : sys + text}`, code);
  }
}
