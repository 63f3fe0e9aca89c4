/**
 * Runs sandbox jobs on a worker thread (worker.ts). Jobs are pipelined (several posted,
 * answered in order) and the job at the head always runs under a watchdog. QuickJS's own
 * time budget stops ordinary runaway code; the watchdog is the backstop for work QuickJS
 * cannot interrupt (a huge native operation, allocation churn): once the worker's thread
 * has spent the time limit plus a grace period of CPU on the job, the worker is terminated
 * and a fresh one started. Like the sandbox's budget (run-clock.ts) it charges CPU time
 * where the system reports it, so a worker that merely waits for a core on a busy machine
 * is not killed; wall time bounds it in any case (`STARVED_WALL_MS`), and is the limit
 * where CPU time is not available. A worker whose code hit the memory limit is replaced
 * too, so a heap it bloated is given back.
 */
import { Worker } from 'node:worker_threads';
import { ThreadClock, WALL_FACTOR } from './run-clock.js';
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
/** With a CPU clock, the longest wall time the job at the head may take, however starved its thread. */
const STARVED_WALL_MS = 60_000;

/** When the watchdog of the job at the head started, on the wall clock and the worker's CPU clock. */
interface Watch {
  id: number;
  wall: number;
  cpu: number | null;
}

export class SandboxPool {
  private worker: Worker | null = null;
  private ready = false;
  private readonly queue: Pending[] = [];
  /** Jobs posted to the worker, in the order it answers them; the first is running. */
  private inflight: (Pending & { id: number })[] = [];
  private timer: NodeJS.Timeout | null = null;
  private watch: Watch | null = null;
  /** The worker thread's CPU clock, once it is ready (null before, or where not available). */
  private workerClock: ThreadClock | null = null;
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
    this.workerClock?.close();
    this.workerClock = null;
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
    const id = this.inflight[0]!.id;
    this.watch = { id, wall: performance.now(), cpu: this.workerClock?.cpuMs() ?? null };
    this.wake(id, this.budgetMs());
  }

  /** The time a job may take: in CPU time of the worker where known, else in wall time. */
  private budgetMs(): number {
    return this.watch?.cpu != null ? this.limits.timeoutMs + this.graceMs : this.limits.timeoutMs * WALL_FACTOR + this.graceMs;
  }

  private wake(id: number, afterMs: number): void {
    // Timers run before the messages of the same event-loop turn: an answer that arrived
    // while this thread was busy is read first (setImmediate runs after them).
    this.timer = setTimeout(() => setImmediate(() => this.check(id)), Math.max(1, afterMs));
    this.timer.unref();
  }

  /** The watchdog's turn: the job at the head has overrun, or its worker only waited for a core. */
  private check(id: number): void {
    const w = this.watch;
    if (!w || w.id !== id || this.inflight[0]?.id !== id) return;
    const cpu = w.cpu === null ? null : this.workerClock?.cpuMs() ?? null;
    const waited = performance.now() - w.wall;
    if (cpu !== null && waited < STARVED_WALL_MS) {
      const left = this.budgetMs() - (cpu - w.cpu!);
      if (left > 0) return this.wake(id, left);
    }
    this.overrun();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.watch = null;
  }

  private answer(w: Worker, a: Answer): void {
    if (w !== this.worker) return;
    if ('ready' in a) {
      this.workerClock?.close();
      this.workerClock = a.cpuPath ? new ThreadClock(a.cpuPath) : null;
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
    const head = this.inflight.shift()!;
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
    this.workerClock?.close();
    this.workerClock = null;
    this.queue.unshift(...this.inflight.splice(0).map(({ job, resolve }) => ({ job, resolve })));
    if (w) void w.terminate();
  }
}

function failure(job: JobIn, reason: string): Result {
  return job.op === 'check' ? reason : job.op === 'evict' ? null : { kind: 'error', reason, fatal: 'time' };
}
