/**
 * The HTTP client of polling sources: the same outbound-address guard as deliveries (the
 * resolved address is checked and is the one connected to; literal IPs are checked before
 * connecting), a total timeout, no redirects, and a cap on the response size.
 */
import type { BlockList } from 'node:net';
import { checkLiteralHost, describeError, guardedLookup } from '../../engine/http-sender.js';
import { cappedRequest, LazyAgent, originAndPath } from '../../engine/lazy-agent.js';

export interface PollRequest {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body: string | null;
}

export type PollResponse =
  | { kind: 'response'; status: number; headers: Record<string, string>; body: Buffer }
  | { kind: 'error'; reason: string };

export interface PollClient {
  fetch(req: PollRequest): Promise<PollResponse>;
  close(): Promise<void>;
}

export interface PollClientOptions {
  allowedNetworks: BlockList;
  timeoutMs: number;
  /** Larger responses are an error (the source backs off), never a partial read. */
  maxResponseBytes: number;
}

/** Polls third-party APIs through the outbound-address guard. */
export class GuardedPollClient implements PollClient {
  private readonly agent: LazyAgent;

  constructor(private readonly opts: PollClientOptions) {
    this.agent = new LazyAgent({
      keepAliveTimeout: 30_000,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      connect: { lookup: guardedLookup(opts.allowedNetworks), timeout: Math.min(10_000, opts.timeoutMs) },
    });
  }

  async fetch(req: PollRequest): Promise<PollResponse> {
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      return { kind: 'error', reason: 'invalid URL' };
    }
    const refused = checkLiteralHost(url, this.opts.allowedNetworks);
    if (refused) return { kind: 'error', reason: refused };
    try {
      const res = await cappedRequest(this.agent.get(), {
        ...originAndPath(url),
        method: req.method,
        headers: req.headers,
        body: req.body ?? undefined,
        readLimit: this.opts.maxResponseBytes,
        overLimit: 'fail',
        repeatedHeaders: 'join',
        timeoutMs: this.opts.timeoutMs,
      });
      return { kind: 'response', status: res.statusCode, headers: res.headers, body: res.body };
    } catch (e: unknown) {
      // A response past the size limit reads "response is larger than N bytes".
      return { kind: 'error', reason: describeError(e) };
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
