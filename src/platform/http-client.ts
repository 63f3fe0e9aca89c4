/**
 * undici's HTTP client without the rest of undici. Its entry point loads all of it (fetch,
 * WebSocket, caches, mocks, proxies: 110 modules, about 140 ms of CPU and 20 MB of memory on
 * each thread that loads it); Switchboard uses its connection pool (`Agent`, 23 modules,
 * about 55 ms and 11 MB), through a handler of its own (`cappedRequest`) for deliveries, polls
 * and sinks, and undici's `request` where a body is streamed (`listen`). That counts on every
 * send worker thread and at every start. Each is loaded from undici's own files (its package
 * has no export map, so they are reachable) on first use; `request` is undici's, with the URL
 * handling of its top-level `request` (the part of it that lives in the entry point).
 */
import { createRequire } from 'node:module';
import type { Agent, Dispatcher } from 'undici';

const require = createRequire(import.meta.url);

type ApiRequest = (this: Dispatcher, options: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;

let agent: typeof Agent | null = null;
let apiRequest: ApiRequest | null = null;

/** undici's `Agent` (a pool of connections per origin), loaded on first use. */
export function agentClass(): typeof Agent {
  return (agent ??= require('undici/lib/dispatcher/agent.js') as typeof Agent);
}

/** A request's options: undici's, with the dispatcher (an `Agent`) to send it through. */
export type HttpRequestOptions = Omit<Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> & {
  method?: Dispatcher.HttpMethod;
  dispatcher: Dispatcher;
};

/** What undici's dispatcher takes of a URL: its origin, and its path with the query. */
export function originAndPath(u: URL): { origin: string; path: string } {
  return { origin: u.origin, path: u.search ? `${u.pathname}${u.search}` : u.pathname };
}

/** undici's `request(url, options)`: the response once its headers are in, its body a stream. */
export function request(url: string | URL, options: HttpRequestOptions): Promise<Dispatcher.ResponseData> {
  const { dispatcher, ...rest } = options;
  return (apiRequest ??= require('undici/lib/api/api-request.js') as ApiRequest).call(dispatcher, {
    ...rest,
    ...originAndPath(typeof url === 'string' ? new URL(url) : url),
    method: options.method ?? (options.body ? 'PUT' : 'GET'),
  });
}

/** A response read whole, up to a cap. */
export interface CappedResponse {
  statusCode: number;
  /** Header names in lower case; a repeated header as `CappedRequest.repeatedHeaders` says. */
  headers: Record<string, string>;
  /** The body, cut at `readLimit` bytes (`overLimit: 'cut'`). */
  body: Buffer;
}

export interface CappedRequest {
  origin: string;
  /** Path and query. */
  path: string;
  method: Dispatcher.HttpMethod;
  headers: Record<string, string>;
  body?: string | undefined;
  /** Bytes of the response body read; past them the connection is closed. */
  readLimit: number;
  /** Past `readLimit`: keep what was read (`cut`, the default) or fail with `ResponseTooLargeError`. */
  overLimit?: 'cut' | 'fail';
  /** A header sent more than once: its first value (the default), or all joined with `, `. */
  repeatedHeaders?: 'first' | 'join';
  /** The whole exchange's time limit, from the call: connecting, sending, the answer and its body. */
  timeoutMs: number;
}

/** A capped request ran out of time; `timedOut` tells it apart from the connection's own errors. */
export class RequestDeadlineError extends Error {
  readonly code = 'UND_ERR_ABORTED';
  readonly timedOut = true;
  constructor() {
    super('the request did not complete in time');
  }
}

/** A response body longer than the request's `readLimit`, with `overLimit: 'fail'`. */
export class ResponseTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`response is larger than ${limit} bytes`);
  }
}

/** Why a capped request closes its connection once it has read as much as it keeps. */
class BodyCutError extends Error {}

/**
 * Receives one response through undici's dispatcher interface. undici's `request` wraps each
 * exchange in an async resource, a readable stream for the body and an abort signal; for a
 * body that is read whole anyway that doubled the CPU of a loopback request (about 105 against
 * 50 µs here).
 */
class CappedHandler {
  private abort: ((err: Error) => void) | null = null;
  private statusCode = 0;
  private headers: Record<string, string> = {};
  private readonly chunks: Buffer[] = [];
  private read = 0;
  private settled = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly r: CappedRequest,
    private readonly resolve: (r: CappedResponse) => void,
    private readonly reject: (e: Error) => void,
  ) {
    this.timer = setTimeout(() => this.fail(new RequestDeadlineError()), r.timeoutMs);
  }

  onConnect(abort: (err: Error) => void): void {
    // Ended before it reached a connection (its time ran out while connecting or queued).
    if (this.settled) abort(new RequestDeadlineError());
    else this.abort = abort;
  }

  onHeaders(statusCode: number, raw: Buffer[], _resume: () => void, _statusText: string): boolean {
    if (statusCode < 200) return true; // informational: the answer follows
    this.statusCode = statusCode;
    const join = this.r.repeatedHeaders === 'join';
    const headers: Record<string, string> = {};
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!.toString('latin1').toLowerCase();
      const value = raw[i + 1]!.toString('latin1');
      const had = headers[name];
      if (had === undefined) headers[name] = value;
      else if (join) headers[name] = `${had}, ${value}`;
    }
    this.headers = headers;
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.settled) return false;
    const room = this.r.readLimit - this.read;
    if (chunk.length <= room) {
      this.chunks.push(chunk);
      this.read += chunk.length;
      return true;
    }
    if (this.r.overLimit === 'fail') {
      this.fail(new ResponseTooLargeError(this.r.readLimit));
      return false;
    }
    this.chunks.push(chunk.subarray(0, room));
    this.read = this.r.readLimit;
    this.finish();
    // The rest is not read: the connection goes rather than carry it.
    this.abort?.(new BodyCutError('response body cut at the read limit'));
    return false;
  }

  onComplete(): void {
    this.finish();
  }

  onError(err: Error): void {
    this.fail(err);
  }

  private finish(): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.resolve({ statusCode: this.statusCode, headers: this.headers, body: Buffer.concat(this.chunks, this.read) });
  }

  private fail(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.abort?.(err);
    this.reject(err);
  }
}

/**
 * Sends a request and reads its response whole, up to `readLimit` bytes, within `timeoutMs`.
 * Rejects with undici's error for the connection, a `RequestDeadlineError` or a
 * `ResponseTooLargeError`.
 */
export function cappedRequest(dispatcher: Dispatcher, r: CappedRequest): Promise<CappedResponse> {
  return new Promise((resolve, reject) => {
    dispatcher.dispatch({ origin: r.origin, path: r.path, method: r.method, headers: r.headers, body: r.body ?? null }, new CappedHandler(r, resolve, reject));
  });
}
