/**
 * The `redis` sink: each batch appended to a Redis stream in one MULTI/EXEC transaction
 * (all of the batch or none of it), delivered once EXEC has answered.
 *
 * Config: `{uri, streamKey, maxLen?}` (`maxLen` 10000 by default). Each event is one entry,
 * `XADD <streamKey> MAXLEN ~ <maxLen> * id <eventId> type <eventType> payload <payload text>
 * seq <stream position>`: Redis makes the entry id; the stream is trimmed to about `maxLen`
 * entries (`~`: whole macro nodes, so a little more may stay).
 *
 * Errors: the server unreachable (connect bounded to 5 s by default), the connection lost, no
 * reply in time → retryable; the client is destroyed and the next batch connects again (it
 * never reconnects in the background). Refused credentials (WRONGPASS, NOAUTH, an ACL that
 * forbids XADD) and a key holding another type (WRONGTYPE) → non-retryable. Messages never
 * include the URI's password.
 */
import { SinkDeliveryError } from '../sink-transport.js';
import type { SinkEvent, SinkTarget, SinkTransport } from '../sink-transport.js';
import { withDeadline } from './deadline.js';
import { maskSecrets } from '../../../domain/uri-secrets.js';
import { pinBrokerAddress } from './broker-address.js';
import { ReusedConnection } from './reused-connection.js';
import { configString, DEFAULT_CONFIRM_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT_MS } from './transport-options.js';
import type { SinkTransportOptions } from './transport-options.js';

export const DEFAULT_MAX_LEN = 10_000;

/**
 * A client that never reconnects in the background and queues no command while disconnected.
 * The client library is loaded on first connect: a server without such a sink never pays for it.
 */
async function newClient(url: string, connectTimeout: number, servername = '') {
  const { createClient } = await import('redis');
  const tls = url.startsWith('rediss:') ? { tls: true as const, servername } : {};
  return createClient({ url, socket: { connectTimeout, reconnectStrategy: false, ...tls }, disableOfflineQueue: true });
}

type Client = Awaited<ReturnType<typeof newClient>>;

/** Closes `client` gracefully (pending replies first), or destroys it when that fails. */
async function closeOrDestroy(client: Client): Promise<void> {
  try {
    await client.close();
  } catch {
    try {
      client.destroy();
    } catch {
      // Already closed.
    }
  }
}

export class RedisSinkTransport implements SinkTransport {
  private readonly uri: string;
  private readonly streamKey: string;
  private readonly maxLen: number;
  private readonly connection = new ReusedConnection<Client>({
    connect: () => this.connect(),
    usable: (c) => !this.broken && c.isReady,
    end: (c, graceful) => (graceful ? closeOrDestroy(c) : c.destroy()),
  });
  private broken = false;

  constructor(
    target: SinkTarget,
    private readonly options: SinkTransportOptions = {},
  ) {
    this.uri = configString(target.config, 'redis', 'uri');
    this.streamKey = configString(target.config, 'redis', 'streamKey');
    const m = target.config.maxLen;
    if (m !== undefined && m !== null && !(typeof m === 'number' && Number.isInteger(m) && m > 0)) throw new SinkDeliveryError('redis sink "maxLen" must be a positive integer', null, false);
    this.maxLen = typeof m === 'number' ? m : DEFAULT_MAX_LEN;
    if (!/^rediss?:/.test(this.uri)) throw new SinkDeliveryError('redis sink "uri" must start with redis:// or rediss://', null, false);
  }

  async deliver(events: SinkEvent[]): Promise<void> {
    if (events.length === 0) return;
    const client = await this.connection.get();
    try {
      const tx = client.multi();
      for (const e of events) {
        tx.xAdd(this.streamKey, '*', { id: e.id, type: e.eventType, payload: e.payload, seq: String(e.seq) }, { TRIM: { strategy: 'MAXLEN', strategyModifier: '~', threshold: this.maxLen } });
      }
      await withDeadline(tx.exec(), this.options.confirmTimeoutMs ?? DEFAULT_CONFIRM_TIMEOUT_MS, 'the Redis reply to the batch');
    } catch (e) {
      this.connection.discard();
      throw this.failure(e, 'append to the stream');
    }
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  private async connect(): Promise<Client> {
    const timeout = this.options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    // A failure reaches the dispatcher, and the next batch connects again.
    const to = await pinBrokerAddress('redis', this.uri, this.options.allowedNetworks, this.options.resolve);
    const client = await newClient(to.uri, timeout, to.servername);
    this.broken = false;
    client.on('error', () => {
      if (this.connection.current === client) this.broken = true;
    });
    try {
      await withDeadline(client.connect(), timeout + 1000, 'connecting to Redis');
    } catch (e) {
      client.destroy();
      throw this.failure(e, 'connect');
    }
    return client;
  }

  private failure(e: unknown, doing: string): SinkDeliveryError {
    if (e instanceof SinkDeliveryError) return e;
    const err = e as { code?: string; message?: string; replies?: unknown[] };
    // A failed transaction: the first error among the replies says why.
    const inner = Array.isArray(err.replies) ? err.replies.find((r): r is Error => r instanceof Error) : undefined;
    const text = maskSecrets(inner?.message ?? err.message ?? String(e), this.uri);
    const word = /^[A-Z]+/.exec(text)?.[0] ?? '';
    if (word === 'WRONGPASS' || word === 'NOAUTH') return new SinkDeliveryError(`Redis refused the credentials (${word}): check the user and password of the sink's uri ${maskSecrets(this.uri, this.uri)}: ${text}`, null, false);
    if (word === 'NOPERM') return new SinkDeliveryError(`Redis refused to ${doing} (NOPERM: the user may not write ${this.streamKey}): ${text}`, null, false);
    if (word === 'WRONGTYPE') return new SinkDeliveryError(`Redis key ${this.streamKey} holds something other than a stream (WRONGTYPE)`, null, false);
    const code = err.code && !text.includes(err.code) ? `${err.code}: ` : '';
    return new SinkDeliveryError(`Redis: could not ${doing}: ${code}${text}`);
  }
}
