/**
 * Runs scheduled sources (poll and cron) on the injected clock. Every run is claimed in
 * the store first (compare-and-set of its due time into a lease), so with several nodes on
 * one store each due run happens on exactly one of them; a run's result is saved only under
 * the lease it claimed. A run cut short by a crash is retried when its lease ends, with the
 * same scheduled time and therefore the same event ids: it never emits twice for one tick.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../domain/clock.js';
import { AppError, toError } from '../../domain/errors.js';
import type { RunResult, RunState } from '../../storage/contract/ingest.js';
import type { Store } from '../../storage/contract/store.js';
import { cronPayload, nextCronTime } from '../../domain/sources/cron.js';
import type { CronConfig } from '../../domain/sources/cron.js';
import type { IngestSource } from '../../domain/providers/source.js';
import type { IngestSourceService } from '../ingest/ingest-sources.js';
import type { MessageService } from '../push/messages.js';
import { PollRunner } from './poll-source.js';
import type { Emit } from './poll-source.js';
import type { PollClient } from './poll-source-http.js';

export interface SchedulerOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  sources: IngestSourceService;
  messages: MessageService;
  client: PollClient;
  /** How long a claimed run may take before another claimer may retry it. */
  leaseMs: number;
  /** Runs in flight at once on this node. */
  concurrency?: number;
  /** Longest sleep: other nodes' changes are noticed at least this often. */
  sweepMs?: number;
}

/** Delay after a run that failed for a reason the runner did not handle (a config it cannot read, a store error). */
function errorBackoff(failures: number): number {
  return Math.min(1000 * 2 ** Math.min(failures, 20), 3_600_000);
}

export class SourceScheduler {
  private timer: TimerHandle | null = null;
  private ticking = false;
  private again = false;
  private stopping = false;
  /** Only a started scheduler runs anything (nodes with the `api` role never start theirs). */
  private started = false;
  private readonly running = new Set<Promise<void>>();
  private readonly poll: PollRunner;
  private readonly concurrency: number;
  private readonly sweepMs: number;

  constructor(private readonly o: SchedulerOptions) {
    this.concurrency = o.concurrency ?? 4;
    this.sweepMs = o.sweepMs ?? 30_000;
    this.poll = new PollRunner(o.store.ingest, o.client, this.emit);
  }

  /** Publishes one message of a source; an event id already published is a duplicate, not an error. */
  private readonly emit: Emit = async (source, m) => {
    const app = await this.o.sources.appFor(source);
    // A duplicate comes from a retried run of the same tick: that message was published already.
    await this.o.messages.publish(app, { eventType: m.eventType, eventId: m.eventId, payload: m.payload });
  };

  /** Starts; on a single-node store, leases left by a previous process are released first. */
  async start(opts: { releaseOrphanedLeases: boolean }): Promise<void> {
    if (opts.releaseOrphanedLeases) await this.o.store.ingest.releaseRunLeases(this.o.clock.now());
    this.started = true;
    this.poke();
  }

  /** Looks for due runs now (after a source was created or changed). */
  poke(): void {
    if (!this.started || this.stopping) return;
    this.setTimer(0);
  }

  /**
   * Stops taking runs and waits for the ones in flight, at most `graceMs`: a poll of an API
   * that hangs is then cut by its owner closing the poll client, and `idle()` waits for its
   * run to end (as a failed poll, saved under its lease).
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.timer?.cancel();
    this.timer = null;
    await Promise.race([Promise.allSettled([...this.running]), sleep(graceMs, undefined, { ref: false })]);
  }

  /** Resolves once no run is in flight. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private setTimer(ms: number): void {
    this.timer?.cancel();
    this.timer = this.o.clock.setTimer(ms, () => void this.tick());
  }

  private async tick(): Promise<void> {
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = true;
    try {
      do {
        this.again = false;
        await this.claimDue();
      } while (this.again && !this.stopping);
      await this.arm();
    } catch (e: unknown) {
      this.o.logger.error({ err: toError(e) }, 'source scheduler: could not look for due runs');
      if (!this.stopping) this.setTimer(this.sweepMs);
    } finally {
      this.ticking = false;
    }
  }

  /** Sleeps until the earliest due run, at most `sweepMs`; when every slot is busy, until a run ends. */
  private async arm(): Promise<void> {
    if (this.stopping) return;
    if (this.running.size >= this.concurrency) return this.setTimer(this.sweepMs);
    const next = await this.o.store.ingest.nextRunAt();
    const now = this.o.clock.now();
    this.setTimer(next === null ? this.sweepMs : Math.max(0, Math.min(next - now, this.sweepMs)));
  }

  private async claimDue(): Promise<void> {
    const free = this.concurrency - this.running.size;
    if (free <= 0 || this.stopping) return;
    const now = this.o.clock.now();
    for (const due of await this.o.store.ingest.dueRuns(now, free)) {
      const state = await this.o.store.ingest.claimRun(due.sourceId, due.nextRunAt, now + this.o.leaseMs);
      if (!state) continue; // another node claimed it
      const p = this.runOne(state).finally(() => {
        this.running.delete(p);
        this.poke();
      });
      this.running.add(p);
    }
  }

  private async runOne(state: RunState): Promise<void> {
    const now = this.o.clock.now();
    let result: RunResult;
    try {
      const parsed = await this.o.sources.load(state.sourceId);
      if (!parsed) return; // deleted meanwhile
      if (parsed.kind === 'poll') result = await this.poll.run(parsed.source, parsed.config, state, now);
      else if (parsed.kind === 'cron') result = await this.runCron(parsed.source, parsed.config, state, now);
      else return; // no longer a scheduled type: its schedule was removed with the change
    } catch (e: unknown) {
      const failures = state.failures + 1;
      const reason = e instanceof AppError ? e.message : toError(e).message;
      result = { nextRunAt: now + errorBackoff(failures), tickAt: state.tickAt, lastRunAt: now, lastOutcome: 'error', lastError: reason.slice(0, 1000), failures };
    }
    try {
      const saved = await this.o.store.ingest.finishRun(state.sourceId, state.leaseToken, result);
      if (!saved) this.o.logger.info({ source: state.sourceId }, 'source run finished after its lease was taken over; result dropped');
      if (result.lastOutcome === 'error') this.o.logger.warn({ source: state.sourceId, error: result.lastError, failures: result.failures }, 'source run failed');
    } catch (e: unknown) {
      this.o.logger.error({ err: toError(e), source: state.sourceId }, 'could not save a source run; it runs again when its lease ends');
    }
  }

  /** One cron tick: the payload, with an event id derived from the tick, so a retried tick is a duplicate. */
  private async runCron(source: IngestSource, c: CronConfig, state: RunState, now: number): Promise<RunResult> {
    try {
      await this.emit(source, { eventType: c.eventType, eventId: `cron.${state.tickAt}`, payload: cronPayload(c) });
    } catch (e: unknown) {
      const failures = state.failures + 1;
      return { nextRunAt: now + errorBackoff(failures), tickAt: state.tickAt, lastRunAt: now, lastOutcome: 'error', lastError: toError(e).message.slice(0, 1000), failures };
    }
    // Ticks missed while no node ran are skipped: one emission for the oldest, then the next one due.
    const next = nextCronTime(c, Math.max(now, state.tickAt));
    return { nextRunAt: next, tickAt: next, lastRunAt: now, lastOutcome: 'emitted', lastError: null, failures: 0 };
  }
}
