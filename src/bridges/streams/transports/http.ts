/**
 * The `http` sink: one signed POST per batch.
 *
 * Config: `{url, headers?: {name: value}, key?: string}`. The body is a JSON array of
 * `{id, eventType, payload, timestamp}` (batch-json.ts: `payload` is the parsed JSON value when
 * the payload text is JSON, else the text as a JSON string). The request is signed with the
 * sink's secret the Standard Webhooks way: `webhook-id` is a batch id derived from the first
 * and last event ids (`batch_<hash>`, the same when the same batch is retried),
 * `webhook-timestamp` the send time in seconds, `webhook-signature` `v1,<HMAC>` over
 * `{id}.{timestamp}.{body}`. Headers: the sink's, then the config's, then content-type,
 * user-agent and the signed ones (which nothing overrides). `key` is not a header: it is
 * the config's name for a value the destination expects, sent only if `headers` names it.
 *
 * A 2xx delivers the batch. Any other answer, a timeout (30 s by default) or a network error
 * is a retryable SinkDeliveryError (with the status when there is one): keep it simple, the
 * dispatcher backs off. The only non-retryable failures are a URL refused by the server's
 * configuration (not http/https, or an address outside the allowed networks, checked on the
 * address actually connected to, as the webhook sender does).
 */
import { createHash } from 'node:crypto';
import { REFUSED_ADDRESS, checkLiteralHost, describeError, guardedLookup } from '../../../engine/http-sender.js';
import { cappedRequest, LazyAgent, originAndPath, RequestDeadlineError } from '../../../engine/lazy-agent.js';
import { withSignatures } from '../../../engine/signed-headers.js';
import { SinkDeliveryError } from '../sink-transport.js';
import type { SinkEvent, SinkTarget, SinkTransport } from '../sink-transport.js';
import { eventJson } from './batch-json.js';
import { configString, DEFAULT_HTTP_TIMEOUT_MS } from './transport-options.js';
import type { SinkTransportOptions } from './transport-options.js';

const USER_AGENT = 'Switchboard-Streams/0.1';
/** A destination's answer body is read up to this many bytes and dropped; past them its connection is closed. */
const DISCARDED_BODY_BYTES = 64 * 1024;

/** The `webhook-id` of a batch: the same for a retry of the same events. */
export function batchId(events: readonly SinkEvent[]): string {
  const first = events[0]?.id ?? '';
  const last = events[events.length - 1]?.id ?? '';
  return 'batch_' + createHash('sha256').update(`${first}\n${last}`).digest('base64url').slice(0, 27);
}

function stringHeaders(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k.toLowerCase()] = val;
  }
  return out;
}

export class HttpSinkTransport implements SinkTransport {
  private readonly url: URL;
  private readonly agent: LazyAgent;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;
  private readonly secret: string;

  constructor(
    target: SinkTarget,
    private readonly options: SinkTransportOptions = {},
  ) {
    const raw = configString(target.config, 'http', 'url');
    try {
      this.url = new URL(raw);
    } catch {
      throw new SinkDeliveryError('http sink config "url" is not a valid URL', null, false);
    }
    if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:') throw new SinkDeliveryError(`http sink URL scheme ${this.url.protocol} is not allowed (http or https only)`, null, false);
    const key = target.config.key;
    this.secret = target.secret || (typeof key === 'string' ? key : '');
    if (!this.secret) throw new SinkDeliveryError('http sink has no signing secret', null, false);
    this.timeoutMs = options.httpTimeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
    this.headers = { ...stringHeaders(target.headers), ...stringHeaders(target.config.headers) };
    const guard = options.allowedNetworks;
    // One pool per sink: a slow destination never holds up another sink's connections.
    this.agent = new LazyAgent({
      keepAliveTimeout: 30_000,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      connect: { timeout: Math.min(10_000, this.timeoutMs), ...(guard ? { lookup: guardedLookup(guard) } : {}) },
    });
  }

  async deliver(events: SinkEvent[]): Promise<void> {
    if (events.length === 0) return;
    const guard = this.options.allowedNetworks;
    const refused = guard ? checkLiteralHost(this.url, guard) : null;
    if (refused) throw new SinkDeliveryError(`http sink URL refused: ${refused}`, null, false);
    const body = JSON.stringify(events.map(eventJson));
    const id = batchId(events);
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = withSignatures(
      { ...this.headers, 'content-type': 'application/json', 'user-agent': USER_AGENT, 'webhook-id': id, 'webhook-timestamp': String(timestamp) },
      { messageId: id, timestamp, secrets: [this.secret], headers: ['webhook-signature'] },
      body,
    );
    let status: number;
    try {
      // The body is not kept: what is read of it only lets the connection be reused.
      status = (await cappedRequest(this.agent.get(), { ...originAndPath(this.url), method: 'POST', headers, body, readLimit: DISCARDED_BODY_BYTES, timeoutMs: this.timeoutMs })).statusCode;
    } catch (e: unknown) {
      if (e instanceof RequestDeadlineError) throw new SinkDeliveryError(`timeout: no response within ${this.timeoutMs} ms`);
      const reason = describeError(e);
      // The guard's refusal: the address the name resolved to is not allowed.
      if (reason.startsWith(REFUSED_ADDRESS)) throw new SinkDeliveryError(`http sink URL refused: ${reason.slice(reason.indexOf(':') + 2)}`, null, false);
      throw new SinkDeliveryError(reason);
    }
    if (status < 200 || status > 299) throw new SinkDeliveryError(`destination answered HTTP ${status}`, status);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
