/**
 * Runs sandbox jobs on a worker thread (transform-worker.ts). Jobs are pipelined (several
 * posted, answered in order) and the job at the head always runs under a watchdog. QuickJS's own deadline stops ordinary runaway code; the watchdog is the backstop
 * for work QuickJS cannot interrupt (a huge native operation, allocation churn): past the
 * time limit plus a grace period the worker is terminated and a fresh one started. A worker
 * whose code hit the memory limit is replaced too, so a heap it bloated is given back.
 */
import { Worker } from 'node:worker_threads';
import type { Answer, Job } from './worker.js';
import type { RunResult, SandboxLimits } from './sandbox.js';

type JobIn = Job extends infer J ? (J extends { id: number } ? Omit<J, 'id'> : never) : never;
type Result = RunResult | string | null;

interface Pending {
  job: JobIn;
  resolve: (r: Result) => void;
}

/** Extra time a job may take beyond the sandbox's own limit before the worker is killed. */
const DEFAULT_GRACE_MS = 2000;
/** Jobs posted to the worker ahead of their turn, so messaging overlaps with running. */
const PIPELINE = 32;

export class SandboxPool {
  private worker: Worker | null = null;
  private ready = false;
  private readonly queue: Pending[] = [];
  /** Jobs posted to the worker, in the order it answers them; the first is running. */
  private inflight: (Pending & { id: number })[] = [];
  private timer: NodeJS.Timeout | null = null;
  private nextId = 1;
  private closed = false;
  /** Compilations done by the current worker. */
  compilations = 0;
  /** Workers replaced after an overrun, a crash or the memory limit. */
  restarts = 0;

  constructor(
    private readonly limits: SandboxLimits,
    private readonly graceMs = DEFAULT_GRACE_MS,
  ) {}

  /** Queues a job; resolves with the sandbox's answer (never rejects). */
  request(job: JobIn): Promise<Result> {
    if (this.closed) return Promise.resolve(failure(job, 'transformation sandbox is shut down'));
    return new Promise((resolve) => {
      this.queue.push({ job, resolve });
      this.pump();
    });
  }

  /** Terminates the worker; queued jobs fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of [...this.inflight.splice(0), ...this.queue.splice(0)]) p.resolve(failure(p.job, 'transformation sandbox is shut down'));
    this.disarm();
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }

  private spawn(): Worker {
    const w = new Worker(new URL('./worker.js', import.meta.url), { workerData: this.limits });
    // The sandbox never keeps the process alive on its own.
    w.unref();
    w.on('message', (a: Answer) => this.answer(w, a));
    w.on('error', (e: Error) => this.crashed(w, `transformation sandbox crashed: ${e.message}`));
    w.on('exit', (code) => this.crashed(w, `transformation sandbox exited (code ${code})`));
    this.worker = w;
    this.ready = false;
    this.compilations = 0;
    return w;
  }

  private pump(): void {
    if (this.closed || this.queue.length === 0) return;
    const w = this.worker ?? this.spawn();
    if (!this.ready) return;
    while (this.inflight.length < PIPELINE && this.queue.length > 0) {
      const next = this.queue.shift()!;
      const id = this.nextId++;
      this.inflight.push({ ...next, id });
      w.postMessage({ ...next.job, id });
    }
    if (!this.timer) this.arm();
  }

  /** Starts the watchdog of the job at the head (it starts running when the previous one ends). */
  private arm(): void {
    this.disarm();
    if (this.inflight.length === 0) return;
    this.timer = setTimeout(() => this.overrun(), this.limits.timeoutMs + this.graceMs);
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private answer(w: Worker, a: Answer): void {
    if (w !== this.worker) return;
    if ('ready' in a) {
      this.ready = true;
      this.pump();
      return;
    }
    const head = this.inflight[0];
    if (!head || a.id !== head.id) return;
    this.inflight.shift();
    this.compilations = a.compilations;
    const r = a.result;
    head.resolve(r);
    if (r && typeof r === 'object' && r.kind === 'error' && r.fatal === 'memory') this.restart();
    else this.arm();
    this.pump();
  }

  private overrun(): void {
    const head = this.inflight.shift();
    if (!head) return;
    const reason = `transformation exceeded its time limit of ${this.limits.timeoutMs} ms (its sandbox was restarted)`;
    head.resolve(head.job.op === 'check' ? reason : { kind: 'error', reason, fatal: 'time' });
    this.restart();
    this.pump();
  }

  private crashed(w: Worker, reason: string): void {
    if (w !== this.worker) return;
    const head = this.inflight.shift();
    this.restart();
    head?.resolve(failure(head.job, reason));
    this.pump();
  }

  /**
   * Replaces the worker. Jobs posted behind the head never ran (or ran without effect, as
   * runs have no side effects outside the sandbox): they go first to the next worker.
   */
  private restart(): void {
    const w = this.worker;
    this.worker = null;
    this.ready = false;
    this.restarts++;
    this.disarm();
    this.queue.unshift(...this.inflight.splice(0).map(({ job, resolve }) => ({ job, resolve })));
    if (w) void w.terminate();
  }
}

function failure(job: JobIn, reason: string): Result {
  return job.op === 'check' ? reason : job.op === 'evict' ? null : { kind: 'error', reason, fatal: 'time' };
}
