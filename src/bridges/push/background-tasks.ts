/**
 * Background tasks: an operation a request starts and that ends later (recover, replay,
 * bulk replay, purge of contents, usage aggregations). Each is stored as `running` when it
 * starts, so its id can be looked up at once, and ends `finished` with its result or
 * `failed` with the reason. Tasks still running when the server stopped are run again on
 * the next start (every runner is idempotent), or marked failed when they cannot be.
 */
import type { Clock } from '../../domain/clock.js';
import { AppError, notFound } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import type { BackgroundTask, BackgroundTaskKind, BackgroundTaskQuery, BackgroundTaskStore } from '../../storage/contract/background-tasks.js';
import type { Page } from '../../storage/contract/paging.js';

export type { BackgroundTask, BackgroundTaskKind, BackgroundTaskStatus } from '../../storage/contract/background-tasks.js';

/** Does the work of one kind of task from its stored params; returns the task's result. */
export type TaskRunner = (params: Record<string, unknown>, task: BackgroundTask) => Promise<Record<string, unknown>>;

/** Where failures of the task machinery itself (not of a task) are reported. */
export interface TaskLog {
  error(obj: object, msg: string): void;
}

export class BackgroundTaskService {
  private readonly runners = new Map<BackgroundTaskKind, TaskRunner>();
  private readonly inflight = new Set<Promise<void>>();
  private stopping = false;
  /** Told of every task that ends (the `background_task.finished` operational webhook). */
  onFinished: ((t: BackgroundTask) => void) | null = null;

  constructor(
    private readonly store: BackgroundTaskStore,
    private readonly clock: Clock,
    private readonly log: TaskLog,
  ) {}

  /** Sets the runner of one kind of task. */
  define(kind: BackgroundTaskKind, runner: TaskRunner): void {
    this.runners.set(kind, runner);
  }

  /** Stores a new running task and starts it; answers before it ends. */
  async start(kind: BackgroundTaskKind, appId: string | null, params: Record<string, unknown>): Promise<BackgroundTask> {
    if (!this.runners.has(kind)) throw new AppError('bad_request', `background task "${kind}" is not available`);
    if (this.stopping) throw new AppError('unavailable', 'the server is stopping; start the task again once it is back');
    const now = this.clock.now();
    const t: BackgroundTask = { id: newId('task', now), task: kind, status: 'running', appId, params, data: {}, createdAt: now, updatedAt: now };
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

  /** Runs again the tasks left running by a previous run of the server; fails those that cannot run. */
  async resumeInterrupted(): Promise<number> {
    const left = await this.store.running();
    for (const t of left) {
      if (this.runners.has(t.task)) this.run(t);
      else await this.end(t, 'failed', { error: `the server stopped while the task ran, and "${t.task}" cannot be resumed` });
    }
    return left.length;
  }

  /** Waits for the tasks in flight; tasks started from now on are refused. */
  async stop(): Promise<void> {
    this.stopping = true;
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  /** Tasks running in this process. */
  get runningCount(): number {
    return this.inflight.size;
  }

  private run(t: BackgroundTask): void {
    const runner = this.runners.get(t.task)!;
    const p = (async () => {
      if (this.stopping) return; // left running: resumed on the next start
      let status: 'finished' | 'failed' = 'finished';
      let data: Record<string, unknown>;
      try {
        data = await runner(t.params, t);
      } catch (err) {
        status = 'failed';
        data = { error: err instanceof Error ? err.message : String(err) };
      }
      await this.end(t, status, data);
    })()
      .catch((err: unknown) => this.log.error({ err, taskId: t.id }, 'background task could not be recorded; it is resumed on the next start'))
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  private async end(t: BackgroundTask, status: 'finished' | 'failed', data: Record<string, unknown>): Promise<void> {
    const now = this.clock.now();
    if (!(await this.store.finish(t.id, status, data, now))) return;
    this.onFinished?.({ ...t, status, data, updatedAt: now });
  }
}
