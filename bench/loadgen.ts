/**
 * The load generator: undici connection pools POSTing to the server (the publish API, ingest
 * URLs; one server or several in turn), either closed-loop (N clients, each sending its next
 * request when the previous one answered) or open-loop (requests started on a fixed
 * schedule, independent of answers, so a slow server cannot slow the offered load;
 * in-flight requests are capped to bound memory).
 *
 * Latency is measured per request from just before `request()` to the end of the
 * response body, recorded in an HdrHistogram. Only requests that *start* after the
 * warm-up count towards latency and only those that *complete* inside the measured
 * window count towards the rate.
 */
import { Pool } from 'undici';
import { LatencyHistogram, wallMs, type LatencySummary } from './lib/hist.js';
import { sleep } from './lib/proc.js';

export interface LoadRequest {
  path: string;
  body: string;
  /** Headers of this request only (e.g. a signature over its body), added to the common ones. */
  headers?: Record<string, string>;
  /** Called with the wall-clock time the 2xx answer's body ended, if it did. */
  onAnswer?: (wallMsDone: number) => void;
}

/** Builds request number `seq`; `measured` is false during the warm-up. Called right before sending. */
export type NextRequest = (seq: number, measured: boolean) => LoadRequest;

interface CommonOptions {
  /** Several servers: requests go to them in turn (request n to server n mod count). */
  baseUrl: string | string[];
  headers: Record<string, string>;
  warmupMs: number;
  /** Length of the measured window, after the warm-up. */
  durationMs: number;
  next: NextRequest;
  /** Stop after this many requests even if time remains. */
  maxRequests?: number;
}

export interface ClosedLoopOptions extends CommonOptions {
  concurrency: number;
}

export interface OpenLoopOptions extends CommonOptions {
  ratePerSec: number;
  /** Requests in flight at most; beyond it sends are delayed (and the delay shows as lag). */
  maxInFlight: number;
}

export interface LoadResult {
  mode: 'closed' | 'open';
  concurrency: number | null;
  targetRatePerSec: number | null;
  /** Requests sent in total (warm-up included). */
  sent: number;
  /** 2xx answers in total (warm-up included). */
  okTotal: number;
  /** 2xx answers completed inside the measured window. */
  ok: number;
  /** 2xx answers to requests started after the warm-up (those built with measured=true). */
  okMeasured: number;
  /** Non-2xx answers and transport errors, by status or error code (whole run). */
  errors: Record<string, number>;
  windowMs: number;
  /** Wall-clock bounds of the measured window. */
  windowStart: number;
  windowEnd: number;
  acceptedPerSec: number;
  /** Request latency (send to end of response), requests started in the window. */
  latency: LatencySummary;
  /** Open loop only: how late requests started against their schedule. */
  startLag: LatencySummary | null;
  /** 2xx answers per server, whole run (one entry unless several servers were given). */
  okByServer: number[];
}

function makePool(baseUrl: string, connections: number): Pool {
  return new Pool(baseUrl, {
    connections,
    pipelining: 1,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
    keepAliveTimeout: 60_000,
  });
}

class Run {
  sent = 0;
  /** Requests answered 2xx per server (in the order of `baseUrl`), whole run. */
  readonly okByServer: number[];
  okTotal = 0;
  ok = 0;
  okMeasured = 0;
  readonly errors: Record<string, number> = {};
  readonly latency = new LatencyHistogram();
  windowStart = 0;
  windowEnd = 0;

  constructor(
    private readonly pools: Pool[],
    private readonly headers: Record<string, string>,
  ) {
    this.okByServer = pools.map(() => 0);
  }

  async send(req: LoadRequest, measured: boolean): Promise<void> {
    const server = this.sent % this.pools.length;
    const pool = this.pools[server] as Pool;
    this.sent++;
    const t0 = performance.now();
    let key: string | null = null;
    try {
      const headers = req.headers ? { ...this.headers, ...req.headers } : this.headers;
      const res = await pool.request({ method: 'POST', path: req.path, headers, body: req.body });
      await res.body.dump();
      if (res.statusCode < 200 || res.statusCode >= 300) key = String(res.statusCode);
    } catch (err) {
      key = (err as { code?: string }).code ?? (err instanceof Error ? err.name : 'error');
    }
    const t1 = performance.now();
    const done = wallMs();
    if (key !== null) {
      this.errors[key] = (this.errors[key] ?? 0) + 1;
      return;
    }
    req.onAnswer?.(done);
    this.okTotal++;
    this.okByServer[server] = (this.okByServer[server] ?? 0) + 1;
    if (done >= this.windowStart && done <= this.windowEnd) this.ok++;
    if (measured) {
      this.okMeasured++;
      this.latency.recordMs(t1 - t0);
    }
  }

  errorCount(): number {
    return Object.values(this.errors).reduce((a, b) => a + b, 0);
  }

  /** Nothing but failures so far: the server is not answering; give up early. */
  hopeless(): boolean {
    return this.okTotal === 0 && this.errorCount() >= 1000;
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.close()));
  }
}

function makePools(baseUrl: string | string[], connections: number): Pool[] {
  const urls = Array.isArray(baseUrl) ? baseUrl : [baseUrl];
  if (urls.length === 0) throw new Error('no server to send to');
  // Each server gets the full connection count: load is spread evenly, so that is only a cap.
  return urls.map((u) => makePool(u, connections));
}

export async function closedLoop(opts: ClosedLoopOptions): Promise<LoadResult> {
  const run = new Run(makePools(opts.baseUrl, opts.concurrency), opts.headers);
  const start = wallMs();
  run.windowStart = start + opts.warmupMs;
  run.windowEnd = run.windowStart + opts.durationMs;
  const max = opts.maxRequests ?? Number.MAX_SAFE_INTEGER;
  let seq = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const now = wallMs();
      if (now >= run.windowEnd || seq >= max || run.hopeless()) return;
      const n = seq++;
      const measured = now >= run.windowStart;
      await run.send(opts.next(n, measured), measured);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, () => worker()));
  const end = Math.min(wallMs(), run.windowEnd);
  await run.close();
  return result(run, 'closed', opts.concurrency, null, end, null);
}

export async function openLoop(opts: OpenLoopOptions): Promise<LoadResult> {
  const run = new Run(makePools(opts.baseUrl, opts.maxInFlight), opts.headers);
  const lag = new LatencyHistogram();
  const start = wallMs();
  run.windowStart = start + opts.warmupMs;
  run.windowEnd = run.windowStart + opts.durationMs;
  const total = Math.min(opts.maxRequests ?? Number.MAX_SAFE_INTEGER, Math.floor((opts.ratePerSec * (opts.warmupMs + opts.durationMs)) / 1000));
  const intervalMs = 1000 / opts.ratePerSec;
  // Requests may start late (event loop busy, in-flight cap) but never after the window plus 5 s.
  const hardStop = run.windowEnd + 5_000;
  const inFlight = new Set<Promise<void>>();
  let seq = 0;
  while (seq < total && !run.hopeless()) {
    const now = wallMs();
    if (now >= hardStop) break;
    const due = Math.min(total, Math.floor((now - start) / intervalMs) + 1);
    while (seq < due && inFlight.size < opts.maxInFlight) {
      const intended = start + seq * intervalMs;
      const measured = intended >= run.windowStart;
      if (measured) lag.recordMs(now - intended);
      const p = run.send(opts.next(seq, measured), measured);
      seq++;
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
    if (seq < due) {
      // At the in-flight cap: wait for any request to finish.
      await Promise.race(inFlight);
    } else {
      const nextAt = start + seq * intervalMs;
      await sleep(Math.max(0, Math.min(5, nextAt - wallMs())));
    }
  }
  // Let the last requests finish (bounded by the pool's 30 s timeouts).
  await Promise.all(inFlight);
  const end = Math.min(wallMs(), run.windowEnd);
  await run.close();
  return result(run, 'open', null, opts.ratePerSec, end, lag.summary());
}

function result(
  run: Run,
  mode: 'closed' | 'open',
  concurrency: number | null,
  rate: number | null,
  end: number,
  startLag: LatencySummary | null,
): LoadResult {
  const windowMs = Math.max(1, end - run.windowStart);
  return {
    mode,
    concurrency,
    targetRatePerSec: rate,
    sent: run.sent,
    okTotal: run.okTotal,
    ok: run.ok,
    okMeasured: run.okMeasured,
    errors: run.errors,
    windowMs: Math.round(windowMs),
    windowStart: run.windowStart,
    windowEnd: end,
    acceptedPerSec: Math.round((run.ok / windowMs) * 1000),
    latency: run.latency.summary(),
    startLag,
    okByServer: [...run.okByServer],
  };
}
