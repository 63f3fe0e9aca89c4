/**
 * The `mqtt` sink: each event of a batch published with QoS 1, and the batch delivered once
 * the broker has answered every PUBLISH with its PUBACK.
 *
 * Config: `{url, topic}` (`mqtt://`, `mqtts://`, `ws://` or `wss://`; credentials in the URL,
 * `mqtt://user:pass@host:1883`). Each message, on `topic`, not retained, is the JSON
 * object `{"id", "eventType", "payload", "timestamp"}` of batch-json.ts (`payload` parsed
 * when the payload text is JSON, else the text; `timestamp` ISO 8601): MQTT has no
 * message properties before version 5, so the event's id and type travel in the body.
 *
 * Errors: the broker unreachable (connect bounded to 5 s by default), the connection lost, no
 * PUBACK in time → retryable; the client is ended (`reconnectPeriod: 0`: it never reconnects
 * in the background) and the next batch connects again. A CONNACK that refuses the
 * credentials or the client → non-retryable. Messages never include the password.
 */
import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { SinkDeliveryError } from '../sink-transport.js';
import type { SinkEvent, SinkTarget, SinkTransport } from '../sink-transport.js';
import { eventJson } from './batch-json.js';
import { pinBrokerAddress } from './broker-address.js';
import { connectWithin, withDeadline } from './deadline.js';
import { maskSecrets } from '../../../domain/uri-secrets.js';
import { ReusedConnection } from './reused-connection.js';
import { configString, DEFAULT_CONFIRM_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS } from './transport-options.js';
import type { SinkTransportOptions } from './transport-options.js';

interface Open {
  client: MqttClient;
  /** Rejects when the connection closes: a PUBLISH in flight then never gets its PUBACK. */
  lost: Promise<never>;
  broken: boolean;
}

/** CONNACK return codes (MQTT 3.1.1) and reason codes (5) that retrying cannot fix. */
const REFUSED: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'client identifier rejected',
  4: 'bad user name or password',
  5: 'not authorized',
  134: 'bad user name or password',
  135: 'not authorized',
};

export class MqttSinkTransport implements SinkTransport {
  private readonly url: string;
  private readonly topic: string;
  private readonly sinkId: string;
  private readonly connection = new ReusedConnection<Open>({
    connect: () => this.connect(),
    usable: (o) => !o.broken && o.client.connected,
    end: (o, graceful) => (graceful ? o.client.endAsync(true) : void o.client.end(true)),
  });

  constructor(
    target: SinkTarget,
    private readonly options: SinkTransportOptions = {},
  ) {
    this.url = configString(target.config, 'mqtt', 'url');
    this.topic = configString(target.config, 'mqtt', 'topic');
    this.sinkId = target.id;
    if (!/^(mqtts?|wss?):\/\//.test(this.url)) throw new SinkDeliveryError('mqtt sink "url" must start with mqtt://, mqtts://, ws:// or wss://', null, false);
    if (/[+#]/.test(this.topic)) throw new SinkDeliveryError('mqtt sink "topic" may not contain the wildcards + or #', null, false);
  }

  async deliver(events: SinkEvent[]): Promise<void> {
    if (events.length === 0) return;
    const o = await this.connection.get();
    try {
      const acks = Promise.all(events.map((e) => o.client.publishAsync(this.topic, JSON.stringify(eventJson(e)), { qos: 1 })));
      await withDeadline(Promise.race([acks, o.lost]), this.options.confirmTimeoutMs ?? DEFAULT_CONFIRM_TIMEOUT_MS, 'MQTT PUBACKs');
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
    let client: MqttClient;
    // The client library is loaded on first connect: a server without such a sink never pays for it.
    const { connectAsync } = await import('mqtt');
    const to = await pinBrokerAddress('mqtt', this.url, this.options.allowedNetworks, this.options.resolve);
    const connecting = connectAsync(to.uri, {
      servername: to.servername,
      // Over WebSocket, the Host header keeps the URL's name (a proxy in front of the broker routes by it).
      wsOptions: { headers: { host: new URL(this.url).host } },
      connectTimeout: timeout,
      reconnectPeriod: 0,
      clean: true,
      clientId: `switchboard-${this.sinkId}-${randomBytes(4).toString('hex')}`.slice(0, 64),
    });
    try {
      client = await connectWithin(connecting, timeout + 1000, 'connecting to the MQTT broker', (c) => c.end(true));
    } catch (e) {
      throw this.failure(e, 'connect');
    }
    let lose: (e: Error) => void = () => {};
    const lost = new Promise<never>((_, reject) => (lose = reject));
    lost.catch(() => {}); // observed by the batch in flight, if any
    const o: Open = { client, lost, broken: false };
    client.on('error', (e) => {
      o.broken = true;
      lose(e);
    });
    client.on('close', () => {
      o.broken = true;
      lose(new SinkDeliveryError('MQTT connection closed before every PUBACK arrived'));
    });
    return o;
  }

  private failure(e: unknown, doing: string): SinkDeliveryError {
    if (e instanceof SinkDeliveryError) return e;
    const err = e as { code?: number | string; message?: string };
    const text = maskSecrets(err.message ?? String(e), this.url);
    const refused = typeof err.code === 'number' ? REFUSED[err.code] : undefined;
    if (refused) {
      const hint = err.code === 1 || err.code === 2 ? 'the connection' : `the credentials: check the user and password of the sink's url ${maskSecrets(this.url, this.url)}`;
      return new SinkDeliveryError(`the MQTT broker refused ${hint} (CONNACK ${err.code}: ${refused})`, err.code as number, false);
    }
    const code = typeof err.code === 'string' && !text.includes(err.code) ? `${err.code}: ` : '';
    return new SinkDeliveryError(`MQTT: could not ${doing}: ${code}${text}`);
  }
}
