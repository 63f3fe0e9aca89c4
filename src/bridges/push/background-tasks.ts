/**
 * Background tasks: an operation a request starts and that ends later (recover, replay,
 * bulk replay, purge of contents, usage aggregations). Each is stored as `running` when it
 * starts, so its id can be looked up at once, and ends `finished` with its result or
 * `failed` with the reason.
 *
 * While it runs, a task's `data` is its progress, `{progress: {done, total}}` with the
 * result's counters so far, written with the checkpoint a resumed run continues from, at
 * most once a second (`PROGRESS_EVERY_MS`), never once per item.
 *
 * Ownership: a running task belongs to the node that runs it, under a lease the node renews
 * while the task runs. A task whose lease ran out (its node died or lost the database) is
 * taken over by another node sharing the store, at start or by the periodic sweep, through
 * an atomic claim, so two nodes never both take it; on a store no other node uses, every
 * task left running was left by a previous run and is taken at start. A node that finds its
 * task taken over stops it without ending it. Runners are not all idempotent: each resumes
 * as its own file says (the push runners continue from their checkpoint or take only what
 * is still to do). A runner whose kind is unknown is failed visibly with the reason.
 */
import type { Clock, TimerHandle } from '../../domain/clock.js';
import { AppError, notFound } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import type { BackgroundTask, BackgroundTaskKind, BackgroundTaskQuery, BackgroundTaskStore, TaskProgress } from '../../storage/contract/background-tasks.js';
import type { Page } from '../../storage/contract/paging.js';

export type { BackgroundTask, BackgroundTaskKind, BackgroundTaskStatus } from '../../storage/contract/background-tasks.js';

/** Progress is written at most this often per task. */
export const PROGRESS_EVERY_MS = 1000;

/** What a runner gets besides its params. */
export interface TaskContext {
  /** The task as this run took it: after a restart, with the checkpoint the previous run recorded. */
  readonly task: BackgroundTask;
  /** Aborted when the task must stop where it is: this node is stopping, or another node took it over. */
  readonly signal: AbortSignal;
  /**
   * How far the task is: `done` items of `total` (null when not known in advance), the result's
   * counters so far, and the checkpoint a resumed run continues from. Cheap: kept in memory
   * and written at most once a second.
   */
  progress(done: number, total: number | null, counters: Record<string, unknown>, checkpoint?: Record<string, unknown>): void;
}

/** Does the work of one kind of task from its stored params; returns the task's result. */
export type TaskRunner = (params: Record<string, unknown>, ctx: TaskContext) => Promise<Record<string, unknown>>;

/** Where failures of the task machinery itself (not of a task) are reported. */
export interface TaskLog {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface TaskOwnership {
  /** This node's name in the store. */
  owner: string;
  /** How long a lease lasts; the owner renews it every third of that while the task runs. */
  leaseMs: number;
  /** Whether other nodes share the store: then only tasks whose lease ran out are taken over, and they are looked for periodically. */
  shared: boolean;
}

/** A task this node runs. */
interface Running {
  task: BackgroundTask;
  controller: AbortController;
  /** Progress reported and not yet written. */
  pending: TaskProgress | null;
  lastProgressAt: number;
  lastRenewAt: number;
  /** Another node took it over: this run writes nothing more. */
  lost: boolean;
}

/** The progress a task has when it starts. */
const startData = (): Record<string, unknown> => ({ progress: { done: 0, total: null } });

export class BackgroundTaskService {
  private readonly runners = new Map<BackgroundTaskKind, TaskRunner>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly running = new Map<string, Running>();
  private stopping = false;
  private timer: TimerHandle | null = null;
  private timerMs = 0;
  private ticking: Promise<void> | null = null;
  private again = false;
  private lastSweep = 0;
  /** Told of every task that ends (the `background_task.finished` operational webhook). */
  onFinished: ((t: BackgroundTask) => void) | null = null;

  constructor(
    private readonly store: BackgroundTaskStore,
    private readonly clock: Clock,
    private readonly log: TaskLog,
    private readonly own: TaskOwnership,
  ) {}

  /** Sets the runner of one kind of task. */
  define(kind: BackgroundTaskKind, runner: TaskRunner): void {
    this.runners.set(kind, runner);
  }

  /** Stores a new running task, owned by this node, and starts it; answers before it ends. */
  async start(kind: BackgroundTaskKind, appId: string | null, params: Record<string, unknown>): Promise<BackgroundTask> {
    if (!this.runners.has(kind)) throw new AppError('bad_request', `background task "${kind}" is not available`);
    if (this.stopping) throw new AppError('unavailable', 'the server is stopping; start the task again once it is back');
    const now = this.clock.now();
    const t: BackgroundTask = {
      id: newId('task', now),
      task: kind,
      status: 'running',
      appId,
      params,
      data: startData(),
      checkpoint: null,
      owner: this.own.owner,
      leaseUntil: now + this.own.leaseMs,
      createdAt: now,
      updatedAt: now,
    };
    await this.store.create(t);
    this.run(t);
    return t;
  }

  async get(id: string): Promise<BackgroundTask> {
    const t = await this.store.get(id);
    if (!t) throw notFound('Background task');
    return t;
  }

  list(q: BackgroundTaskQuery): Promise<Page<BackgroundTask>> {
    return this.store.list(q);
  }

  /**
   * Takes over the tasks left running by a node that is gone (on a store no other node uses:
   * every running task, left by this node's previous run) and runs them on; fails visibly
   * those that cannot run. From then on, renews the leases of this node's tasks and, on a
   * shared store, looks for tasks whose owner died. Answers how many were taken.
   */
  async resumeInterrupted(): Promise<number> {
    const taken = await this.takeOver(!this.own.shared);
    this.arm();
    return taken;
  }

  /**
   * Stops: tasks started from now on are refused; running ones are asked to stop where they
   * are (their progress and checkpoint are written and their lease given up, so the next
   * start, or another node, continues them); waits for those that cannot stop midway.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const r of this.running.values()) r.controller.abort(new Error('the server is stopping'));
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
    this.timer?.cancel();
    this.timer = null;
    await this.ticking;
  }

  /** Tasks running in this process. */
  get runningCount(): number {
    return this.inflight.size;
  }

  private async takeOver(all: boolean): Promise<number> {
    const now = this.clock.now();
    this.lastSweep = now;
    const taken = await this.store.claim(this.own.owner, now + this.own.leaseMs, now, { all });
    const resumed: string[] = [];
    for (const t of taken) {
      if (this.running.has(t.id)) continue; // this node's own, whose lease had lapsed: renewed, still running here
      resumed.push(t.id);
      if (this.runners.has(t.task)) this.run(t);
      else await this.end(t, 'failed', { error: `the server stopped while the task ran, and "${t.task}" cannot be resumed` });
    }
    if (resumed.length > 0) this.log.warn({ tasks: resumed }, 'background tasks left running by a stopped node are taken over');
    return resumed.length;
  }

  private run(t: BackgroundTask): void {
    const runner = this.runners.get(t.task)!;
    const now = this.clock.now();
    const r: Running = { task: t, controller: new AbortController(), pending: null, lastProgressAt: now, lastRenewAt: now, lost: false };
    const ctx: TaskContext = {
      task: t,
      signal: r.controller.signal,
      progress: (done, total, counters, checkpoint) => {
        r.pending = { data: { ...counters, progress: { done, total } }, checkpoint: checkpoint ?? null };
      },
    };
    const p = (async () => {
      if (this.stopping) return; // left running: resumed on the next start
      let status: 'finished' | 'failed' = 'finished';
      let data: Record<string, unknown>;
      try {
        data = await runner(t.params, ctx);
      } catch (err) {
        if (r.lost) return; // the node that took it over ends it
        if (r.controller.signal.aborted) return this.release(r);
        status = 'failed';
        data = { error: err instanceof Error ? err.message : String(err) };
      }
      if (!r.lost) await this.end(t, status, data);
    })()
      .catch((err: unknown) => this.log.error({ err, taskId: t.id }, 'background task could not be recorded; it is resumed once its lease runs out'))
      .finally(() => {
        this.running.delete(t.id);
        this.inflight.delete(p);
      });
    this.running.set(t.id, r);
    this.inflight.add(p);
    this.arm();
  }

  /** A task stopped midway by this node's stop: its last progress written, its lease given up. */
  private async release(r: Running): Promise<void> {
    const now = this.clock.now();
    await this.store.renew(r.task.id, this.own.owner, now - 1, now, r.pending ?? undefined);
  }

  private async end(t: BackgroundTask, status: 'finished' | 'failed', data: Record<string, unknown>): Promise<void> {
    const now = this.clock.now();
    if (!(await this.store.finish(t.id, this.own.owner, status, data, now))) return;
    this.onFinished?.({ ...t, status, data, leaseUntil: null, updatedAt: now });
  }

  /** How often the periodic work runs: each second while tasks run here; on a shared store, half a lease otherwise. */
  private interval(): number | null {
    if (this.running.size > 0) return Math.min(PROGRESS_EVERY_MS, Math.floor(this.own.leaseMs / 3));
    return this.own.shared ? Math.floor(this.own.leaseMs / 2) : null;
  }

  /** Schedules the periodic work (again sooner when a task starts); the next is scheduled as each fires, so none is lost. */
  private arm(): void {
    if (this.stopping) return;
    const ms = this.interval();
    if (this.timer && ms !== null && this.timerMs <= ms) return;
    this.timer?.cancel();
    this.timer = null;
    if (ms === null) return;
    this.timerMs = ms;
    this.timer = this.clock.setTimer(ms, () => {
      this.timer = null;
      this.arm();
      this.fire();
    });
  }

  /** Runs the periodic work; a firing while it is at work runs it once more after (never more). */
  private fire(): void {
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = (async () => {
      do {
        this.again = false;
        await this.tick().catch((err: unknown) => this.log.error({ err }, 'background task leases could not be renewed; retried'));
      } while (this.again && !this.stopping);
    })().finally(() => (this.ticking = null));
  }

  private async tick(): Promise<void> {
    if (this.own.shared && !this.stopping && this.clock.now() - this.lastSweep >= this.own.leaseMs / 2) await this.takeOver(false);
    for (const r of [...this.running.values()]) {
      if (r.lost) continue;
      const now = this.clock.now();
      const progress = r.pending !== null && now - r.lastProgressAt >= PROGRESS_EVERY_MS ? r.pending : null;
      if (!progress && now - r.lastRenewAt < this.own.leaseMs / 3) continue;
      if (progress) r.pending = null;
      const held = await this.store.renew(r.task.id, this.own.owner, now + this.own.leaseMs, now, progress ?? undefined);
      r.lastRenewAt = now;
      if (progress) r.lastProgressAt = now;
      if (held || !this.running.has(r.task.id)) continue;
      // Not held, and still running here: ended or held by another node that took it over.
      const current = await this.store.get(r.task.id);
      if (this.running.has(r.task.id) && current?.owner !== this.own.owner) {
        r.lost = true;
        r.controller.abort(new Error('another node took the task over'));
        this.log.warn({ taskId: r.task.id, owner: current?.owner ?? null }, 'background task taken over by another node after its lease ran out; stopped here');
      }
    }
  }
}
