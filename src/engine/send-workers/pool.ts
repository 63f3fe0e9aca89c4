/**
 * Sends delivery requests on worker threads (worker.ts), one per core by default, so the
 * main thread (HTTP API, database, scheduling) never waits behind signing, socket writes or
 * response reading. The requests of one event-loop turn go to the worker with the fewest in
 * flight, 32 at a time, and cross in one message per worker; results come back the same way.
 *
 * Workers start on the first request, not with the server. A worker that dies (a crash, an
 * exit, running out of memory, terminated) is replaced at once, and each request it held
 * resolves as a failed result ("send worker exited"): the attempt is recorded as failed and
 * retried by the retry policy like any failed attempt. The request may have reached the
 * receiver before the worker died, so this can cost a duplicate, never a loss.
 */
import { Worker } from 'node:worker_threads';
import type { ResourceLimits } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { SendRequest, SendResult, Sender } from '../http-sender.js';
import { sendWorkerHeapLimits } from './heap-limits.js';
import type { FromWorker, SendJob, SendWorkerData, ToWorker } from './protocol.js';

export interface SendWorkerPoolOptions extends SendWorkerData {
  /** Threads to send on (at least 1). */
  workers: number;
  /**
   * What the workers' heaps are sized for (heap-limits.ts): the node's in-flight cap and the
   * largest payload. Without it the workers get V8's default limits.
   */
  heap?: { maxInflight: number; maxPayloadBytes: number };
  logger?: Logger;
}

interface Pending {
  resolve: (r: SendResult) => void;
  postedAt: number;
}

/** One worker thread and its requests. */
interface Slot {
  index: number;
  worker: Worker | null;
  ready: boolean;
  /** Requests posted to the worker and not yet answered. */
  inflight: Map<number, Pending>;
  /** Requests queued in this turn, posted together when it ends. */
  outbox: SendJob[];
  /** Workers in a row that died before they were ready (a start-up failure, not a crash). */
  failedStarts: number;
}

/** After this many failed starts in a row a slot waits before starting another worker. */
const FAILED_STARTS_BEFORE_BACKOFF = 3;
const START_BACKOFF_MS = 1000;
/** Requests of one turn sent to one worker before the next goes to the least busy. */
const TURN_BATCH = 32;

export class SendWorkerPool implements Sender {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private flushScheduled = false;
  /** Where this turn's requests go (see `pick`). */
  private turnSlot: Slot | null = null;
  private closed = false;
  /** Workers replaced after they died. */
  restarts = 0;

  constructor(private readonly o: SendWorkerPoolOptions) {
    if (!Number.isInteger(o.workers) || o.workers < 1) throw new Error('a send worker pool needs at least one worker');
  }

  send(req: SendRequest): Promise<SendResult> {
    if (this.closed) return Promise.resolve({ kind: 'error', reason: 'send workers are shut down', durationMs: 0 });
    if (this.slots.length === 0) this.start();
    const slot = this.pick();
    const id = this.nextId++;
    return new Promise<SendResult>((resolve) => {
      slot.inflight.set(id, { resolve, postedAt: performance.now() });
      slot.outbox.push({ id, req });
      this.scheduleFlush();
    });
  }

  /** Threads running (or starting). */
  get size(): number {
    return this.slots.filter((s) => s.worker !== null).length;
  }

  /** Requests each worker holds, by slot. */
  inflightPerWorker(): number[] {
    return this.slots.map((s) => s.inflight.size);
  }

  /** The resource limits worker `index` runs with, as its thread reports them. */
  workerResourceLimits(index: number): ResourceLimits | undefined {
    return this.slots[index]?.worker?.resourceLimits;
  }

  /**
   * Test hook: makes worker `index` end itself with `process.exit(code)`, as a crashing
   * worker would, with whatever it has in flight.
   */
  exitWorker(index: number, code = 1): void {
    this.slots[index]?.worker?.postMessage({ kind: 'exit', code } satisfies ToWorker);
  }

  /** Stops every worker; requests still in flight resolve as failed. */
  async close(): Promise<void> {
    this.closed = true;
    const workers: Worker[] = [];
    for (const s of this.slots) {
      this.failAll(s, 'send workers are shut down');
      if (s.worker) workers.push(s.worker);
      s.worker = null;
    }
    await Promise.all(workers.map((w) => w.terminate()));
  }

  /** Starts every worker at once, in parallel (the first request waits only for the first to load). */
  private start(): void {
    for (let i = 0; i < this.o.workers; i++) {
      const slot: Slot = { index: i, worker: null, ready: false, inflight: new Map(), outbox: [], failedStarts: 0 };
      this.slots.push(slot);
      this.spawn(slot);
    }
  }

  /** The heap limits each worker starts with (undefined: V8's defaults). */
  get heapLimits(): ResourceLimits | undefined {
    const h = this.o.heap;
    return h ? sendWorkerHeapLimits({ workers: this.o.workers, maxInflight: h.maxInflight, maxPayloadBytes: h.maxPayloadBytes, turnBatch: TURN_BATCH }) : undefined;
  }

  private spawn(slot: Slot): void {
    const data: SendWorkerData = { allowedNetworks: this.o.allowedNetworks, timeoutMs: this.o.timeoutMs };
    const resourceLimits = this.heapLimits;
    const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: data, ...(resourceLimits ? { resourceLimits } : {}) });
    // Requests in flight keep the process alive through their callers; an idle pool does not.
    w.unref();
    slot.worker = w;
    slot.ready = false;
    w.on('message', (m: FromWorker) => this.received(slot, w, m));
    w.on('error', (e: Error) => this.o.logger?.error({ err: e, worker: slot.index }, 'send worker failed'));
    w.on('exit', (code: number) => this.exited(slot, w, code));
    // Jobs queued while the slot had no worker go now; the worker reads them once it has loaded.
    if (slot.outbox.length > 0) this.scheduleFlush();
  }

  private received(slot: Slot, w: Worker, m: FromWorker): void {
    if (slot.worker !== w) return;
    if (m.kind === 'ready') {
      slot.ready = true;
      slot.failedStarts = 0;
      return;
    }
    for (const a of m.answers) {
      const p = slot.inflight.get(a.id);
      if (!p) continue;
      slot.inflight.delete(a.id);
      p.resolve(a.result);
    }
  }

  /** A worker ended: what it held fails (and is retried by the retry policy), and a new one takes its place. */
  private exited(slot: Slot, w: Worker, code: number): void {
    if (slot.worker !== w || this.closed) return;
    slot.worker = null;
    const held = slot.inflight.size;
    // Jobs not yet posted never reached it: they stay queued for the replacement.
    const unposted = new Set(slot.outbox.map((j) => j.id));
    for (const [id, p] of slot.inflight) {
      if (unposted.has(id)) continue;
      slot.inflight.delete(id);
      p.resolve({ kind: 'error', reason: `send worker exited (code ${code}) with the request in flight; it may have reached the endpoint`, durationMs: Math.round(performance.now() - p.postedAt) });
    }
    this.restarts++;
    this.o.logger?.warn({ worker: slot.index, code, inflight: held }, 'send worker exited; starting another, its requests in flight are retried');
    if (!slot.ready) slot.failedStarts++;
    if (slot.failedStarts >= FAILED_STARTS_BEFORE_BACKOFF) {
      setTimeout(() => {
        if (!this.closed) this.spawn(slot);
      }, START_BACKOFF_MS).unref();
    } else this.spawn(slot);
  }

  /**
   * The worker for the next request: the one this turn's requests already go to, so they cross
   * in one message, until it has a batch's worth; then the least busy.
   */
  private pick(): Slot {
    const cur = this.turnSlot;
    if (cur !== null && cur.worker !== null && cur.outbox.length < TURN_BATCH) return cur;
    this.turnSlot = this.leastBusy();
    return this.turnSlot;
  }

  /** The slot with a worker and the fewest requests in flight (any slot when none has a worker). */
  private leastBusy(): Slot {
    let best: Slot | null = null;
    for (const s of this.slots) {
      if (s.worker === null) continue;
      if (best === null || s.inflight.size < best.inflight.size) best = s;
    }
    return best ?? this.slots[0]!;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Everything queued in this turn of the loop goes in one message per worker.
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    this.turnSlot = null;
    for (const s of this.slots) {
      if (s.outbox.length === 0 || s.worker === null) continue;
      const jobs = s.outbox;
      s.outbox = [];
      s.worker.postMessage({ kind: 'send', jobs } satisfies ToWorker);
    }
  }

  private failAll(s: Slot, reason: string): void {
    for (const p of s.inflight.values()) p.resolve({ kind: 'error', reason, durationMs: 0 });
    s.inflight.clear();
    s.outbox = [];
  }
}
