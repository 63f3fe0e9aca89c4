/**
 * The `natsJetStream` sink: each event of a batch published to JetStream, and the batch
 * delivered once every publish has its PubAck (the stream has stored it).
 *
 * Config: `{url, subject}`. The URL may carry credentials (`nats://user:pass@host:4222`, or
 * `nats://token@host:4222`). Each message: data = the payload text as stored; the JetStream
 * message id (`Nats-Msg-Id`) = the event id, so a batch redelivered inside the stream's
 * duplicate window is stored once; headers `switchboard-event-type`,
 * `switchboard-stream-id`, `switchboard-seq` and `switchboard-timestamp` (ISO 8601).
 *
 * Errors: the server unreachable (connect bounded to 5 s by default), the connection lost,
 * no PubAck in time → retryable; the connection is closed (it never reconnects in the
 * background) and the next batch connects again. No stream captures the subject (503 no
 * responders) and refused credentials → non-retryable. Messages never include the password.
 */
import type { ConnectionOptions, JetStreamClient, NatsConnection, headers as natsHeaders } from 'nats';
import { SinkDeliveryError } from '../sink-transport.js';
import type { SinkEvent, SinkTarget, SinkTransport } from '../sink-transport.js';
import { pinBrokerAddress } from './broker-address.js';
import type { CheckedBroker } from './broker-address.js';
import { connectWithin, withDeadline } from './deadline.js';
import { maskSecrets } from '../../../domain/uri-secrets.js';
import { isNoStream } from '../../../engine/nats-errors.js';
import { ReusedConnection } from './reused-connection.js';
import { configString, DEFAULT_CONFIRM_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS } from './transport-options.js';
import type { SinkTransportOptions } from './transport-options.js';

interface Open {
  nc: NatsConnection;
  js: JetStreamClient;
  headers: typeof natsHeaders;
}

const encoder = new TextEncoder();

export class NatsJetStreamSinkTransport implements SinkTransport {
  private readonly url: string;
  private readonly subject: string;
  private readonly streamId: string;
  private readonly connection = new ReusedConnection<Open>({
    connect: () => this.connect(),
    usable: (o) => !o.nc.isClosed(),
    end: (o) => o.nc.close(),
  });

  constructor(
    target: SinkTarget,
    private readonly options: SinkTransportOptions = {},
  ) {
    this.url = configString(target.config, 'natsJetStream', 'url');
    this.subject = configString(target.config, 'natsJetStream', 'subject');
    this.streamId = target.streamId;
    if (!/^(nats|tls):\/\//.test(this.url)) throw new SinkDeliveryError('natsJetStream sink "url" must start with nats:// or tls://', null, false);
  }

  async deliver(events: SinkEvent[]): Promise<void> {
    if (events.length === 0) return;
    const o = await this.connection.get();
    const timeout = this.options.confirmTimeoutMs ?? DEFAULT_CONFIRM_TIMEOUT_MS;
    try {
      const acks = events.map((e) => {
        const h = o.headers();
        h.set('switchboard-event-type', e.eventType);
        h.set('switchboard-stream-id', this.streamId);
        h.set('switchboard-seq', String(e.seq));
        h.set('switchboard-timestamp', new Date(e.createdAt).toISOString());
        return o.js.publish(this.subject, encoder.encode(e.payload), { msgID: e.id, headers: h, timeout });
      });
      // Wait for every answer before judging, so no publish is left to fail unobserved.
      const results = await withDeadline(Promise.allSettled(acks), timeout + 1000, 'JetStream acknowledgements');
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    } catch (e) {
      this.connection.discard();
      throw this.failure(e, 'publish');
    }
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  private async connect(): Promise<Open> {
    const timeout = this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    let nc: NatsConnection;
    // The client library is loaded on first connect: a server without such a sink never pays for it.
    const { connect, headers } = await import('nats');
    const to = await pinBrokerAddress('natsJetStream', this.url, this.options.allowedNetworks, this.options.resolve);
    const connecting = connect(this.connectOptions(timeout, to));
    try {
      nc = await connectWithin(connecting, timeout + 1000, 'connecting to NATS', (c) => c.close());
    } catch (e) {
      throw this.failure(e, 'connect');
    }
    // The reason a connection ends is read from the failed publish; nothing is left unhandled.
    nc.closed().catch(() => {});
    return { nc, js: nc.jetstream(), headers };
  }

  /** Server and credentials from the URL; no reconnects (the dispatcher retries). */
  private connectOptions(timeout: number, to: CheckedBroker): ConnectionOptions {
    const u = new URL(this.url);
    const o: ConnectionOptions = { servers: `${to.host}:${u.port || '4222'}`, timeout, reconnect: false, name: 'switchboard-sink' };
    const user = decodeURIComponent(u.username);
    const pass = decodeURIComponent(u.password);
    if (user && pass) {
      o.user = user;
      o.pass = pass;
    } else if (user) {
      o.token = user;
    }
    // The client hands every tls option to tls.connect; its type lacks `servername`.
    if (u.protocol === 'tls:') o.tls = { servername: to.servername } as NonNullable<ConnectionOptions['tls']>;
    return o;
  }

  private failure(e: unknown, doing: string): SinkDeliveryError {
    if (e instanceof SinkDeliveryError) return e;
    const err = e as { code?: string; message?: string };
    const text = maskSecrets(err.message ?? String(e), this.url);
    const code = err.code ?? '';
    if (isNoStream(e)) return new SinkDeliveryError(`no JetStream stream captures subject ${this.subject} (503 no responders): create a stream for it`, 503, false);
    if (/AUTHORIZATION_VIOLATION|AUTHENTICATION|Authorization Violation/i.test(`${code} ${text}`)) return new SinkDeliveryError(`NATS refused the credentials (authorization violation): check the user and password of the sink's url ${maskSecrets(this.url, this.url)}`, null, false);
    if (code === 'PERMISSIONS_VIOLATION' || /Permissions Violation/i.test(text)) return new SinkDeliveryError(`NATS refused to ${doing} on ${this.subject} (permissions violation)`, null, false);
    return new SinkDeliveryError(`NATS: could not ${doing}: ${code && !text.includes(code) ? `${code}: ` : ''}${text}`);
  }
}
