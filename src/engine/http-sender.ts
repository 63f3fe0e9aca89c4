/**
 * Sends one delivery request with undici: pooled keep-alive connections, a total
 * timeout, a capped response read, no redirects, and the SSRF guard applied to the
 * address actually connected to.
 */
import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import type { BlockList } from 'node:net';
import { addressAllowed, refusalHint } from '../domain/network.js';
import { cappedRequest, LazyAgent, originAndPath, RequestDeadlineError } from './lazy-agent.js';
import { withSignatures } from './signed-headers.js';
import type { SignatureInput } from './signed-headers.js';

/** Bytes of a response body that are read; the rest is discarded. */
export const RESPONSE_READ_LIMIT = 64 * 1024;

export interface SendRequest {
  /** POST unless a transformation chose PUT or PATCH. */
  method?: 'POST' | 'PUT' | 'PATCH';
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Signatures the sender adds to `headers` over `body` before sending (a delivery; absent for unsigned requests). */
  signature?: SignatureInput;
}

export type SendResult =
  | { kind: 'response'; status: number; body: string; durationMs: number; retryAfter: string | undefined; deliveryDirective: string | undefined }
  | { kind: 'error'; reason: string; durationMs: number };

/** Sends one request; never rejects (a failure is a result). Implemented on this thread (`HttpSender`) or on worker threads (`SendWorkerPool`). */
export interface Sender {
  send(req: SendRequest): Promise<SendResult>;
  close(): Promise<void>;
}

export interface SenderOptions {
  allowedNetworks: BlockList;
  timeoutMs: number;
  /** Name resolution; `dns.lookup` unless a test injects one. */
  resolve?: Resolver;
}

/** The error code of an address the guard refused (its message names the setting that allows it). */
export const REFUSED_ADDRESS = 'ESWITCHBOARDREFUSED';

class RefusedAddressError extends Error {
  readonly code = REFUSED_ADDRESS;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** Resolves a name to all its addresses (A and AAAA); `dns.lookup` unless a test injects one. */
export type Resolver = (hostname: string, options: LookupOptions & { all: true }, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

/**
 * A `lookup` for net.connect that only yields addresses the guard allows. The connection is
 * made to an address returned here, so the address checked is the address connected to:
 * there is no second resolution a DNS answer could change (rebinding).
 */
export function guardedLookup(allowed: BlockList, resolve: Resolver = dnsLookup) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      const ok = addresses.filter((a) => addressAllowed(a.address, allowed));
      // The reason is recorded on the attempt: it names the setting that would allow the address.
      if (ok.length === 0) return callback(new RefusedAddressError(`address of ${hostname} is not allowed: ${(addresses[0] ? refusalHint(addresses[0].address) : 'it resolved to no address')}`), '');
      if (options.all) return callback(null, ok);
      const first = ok[0]!;
      callback(null, first.address, first.family);
    });
  };
}

/**
 * Checks a URL before any connection: http or https only, and a literal IP host (which never
 * reaches `lookup`) must be allowed. WHATWG parsing has already turned decimal, octal, hex and
 * short IPv4 forms (`2130706433`, `0177.0.0.1`, `0x7f.1`, `127.1`) into dotted quads.
 */
export function checkLiteralHost(url: URL, allowed: BlockList): string | null {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `scheme ${url.protocol} is not allowed (http or https only)`;
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (isIP(host) && !addressAllowed(host, allowed)) return `address not allowed: ${refusalHint(host)}`;
  return null;
}

/** A failed request's reason for the attempt log: the timeout, or the error's code and message. */
export function describeError(e: unknown): string {
  if (e instanceof RequestDeadlineError) return 'timeout: no complete response in time';
  const err = e as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = err.cause?.code ?? err.code;
  const msg = err.cause?.message ?? err.message ?? String(e);
  return code ? `${code}: ${msg}` : msg;
}

/** Where a URL sends a request: its origin and path, or why it may not be sent to. */
type Target = { origin: string; path: string } | string;

/** Endpoint URLs parsed and checked once (`checkLiteralHost`), not on every request to them. */
class Targets {
  private readonly known = new Map<string, Target>();

  of(url: string, allowed: BlockList): Target {
    let t = this.known.get(url);
    if (t !== undefined) return t;
    t = targetOf(url, allowed);
    // Bounded: a node sending to more endpoints than this parses their URLs again.
    if (this.known.size >= MAX_KNOWN_TARGETS) this.known.clear();
    this.known.set(url, t);
    return t;
  }
}

const MAX_KNOWN_TARGETS = 10_000;

function targetOf(raw: string, allowed: BlockList): Target {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'invalid endpoint URL';
  }
  return checkLiteralHost(url, allowed) ?? originAndPath(url);
}

export class HttpSender implements Sender {
  private readonly agent: LazyAgent;
  private readonly targets = new Targets();

  constructor(private readonly opts: SenderOptions) {
    // No per-origin connection cap: endpoints sharing a host must not queue behind each
    // other's slow requests. Concurrency is bounded per endpoint and per node by the dispatcher.
    this.agent = new LazyAgent({
      keepAliveTimeout: 30_000,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      connect: { lookup: guardedLookup(opts.allowedNetworks, opts.resolve), timeout: Math.min(10_000, opts.timeoutMs) },
    });
  }

  async send(req: SendRequest): Promise<SendResult> {
    const started = performance.now();
    const target = this.targets.of(req.url, this.opts.allowedNetworks);
    if (typeof target === 'string') return { kind: 'error', reason: target, durationMs: 0 };
    try {
      const res = await cappedRequest(this.agent.get(), {
        origin: target.origin,
        path: target.path,
        method: req.method ?? 'POST',
        headers: req.signature ? withSignatures(req.headers, req.signature, req.body) : req.headers,
        body: req.body,
        readLimit: RESPONSE_READ_LIMIT,
        timeoutMs: this.opts.timeoutMs,
      });
      return {
        kind: 'response',
        status: res.statusCode,
        body: res.body.toString('utf8'),
        durationMs: Math.round(performance.now() - started),
        retryAfter: res.headers['retry-after'],
        deliveryDirective: res.headers['webhook-delivery'],
      };
    } catch (e: unknown) {
      return { kind: 'error', reason: describeError(e), durationMs: Math.round(performance.now() - started) };
    }
  }

  /**
   * At shutdown, after the dispatcher's grace: a request still in flight (a receiver that
   * hangs) fails at once instead of holding the process until its timeout; its lease has
   * been given back, so it is sent again. The send workers' pool does the same.
   */
  async close(): Promise<void> {
    await this.agent.close();
  }
}
