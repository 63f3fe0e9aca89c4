/**
 * Retention: deletes messages older than the retention period, with their payloads,
 * deliveries and attempts, in small batches. Between batches it yields to the event loop, so
 * deliveries and API requests are never held up by a long purge.
 *
 * Each run first keeps the store's time partitions of attempts and messages (PostgreSQL): the
 * days ahead created, and, with a retention period, partitions wholly past it dropped. That
 * runs even when retention keeps everything, so rows always land in their day's partition.
 * So does the removal of expired idempotent responses (those publishes store are removed
 * nowhere else).
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../domain/clock.js';
import type { Metrics } from './metrics.js';
import type { Store } from '../storage/contract/store.js';

export const DAY_MS = 86_400_000;

export interface RetentionOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Days to keep; 0 keeps everything. */
  retentionDays: number;
  metrics?: Metrics | undefined;
  /** Messages deleted per transaction. */
  batchSize?: number;
  /** Time between purges. */
  intervalMs?: number;
}

/** Lets queued I/O callbacks and timers run before the next batch. */
const yieldToEventLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

export class RetentionService {
  private timer: TimerHandle | null = null;
  private running: Promise<number> | null = null;
  private stopped = false;

  constructor(private readonly o: RetentionOptions) {}

  get enabled(): boolean {
    return this.o.retentionDays > 0;
  }

  /** Purges (or, keeping everything, only keeps the partitions) now, then every interval. */
  start(): void {
    this.stopped = false;
    this.arm(0);
  }

  /** Stops the timer and waits for a purge in progress to finish its current batch. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = null;
    await this.running?.catch(() => 0);
  }

  private arm(ms: number): void {
    if (this.stopped) return;
    this.timer = this.o.clock.setTimer(ms, () => {
      this.timer = null;
      void this.purge()
        .catch((err: unknown) => this.o.logger.error({ err }, 'retention purge failed'))
        .finally(() => this.arm(this.o.intervalMs ?? 3_600_000));
    });
  }

  /** Keeps the partitions, then deletes everything past retention, batch by batch; returns how many messages went. */
  purge(): Promise<number> {
    this.running ??= this.purgeAll().finally(() => (this.running = null));
    return this.running;
  }

  private async purgeAll(): Promise<number> {
    const now = this.o.clock.now();
    const cutoff = this.enabled ? now - this.o.retentionDays * DAY_MS : null;
    const dropped = await this.maintainPartitions(now, cutoff);
    this.o.metrics?.retentionPurged(dropped);
    await this.dropExpiredIdempotent(now);
    if (cutoff === null) return dropped;
    const total =
      dropped +
      (await this.inBatches(async (limit) => {
        const n = await this.o.store.purgeMessagesBefore(cutoff, limit);
        this.o.metrics?.retentionPurged(n);
        return n;
      }));
    if (total > 0) this.o.logger.info({ messages: total, before: new Date(cutoff).toISOString() }, 'retention purged old messages');
    return total;
  }

  /**
   * Runs `batch` (which deletes up to `limit` rows and says how many went) until a batch comes
   * short or the service stops, yielding to the event loop in between; returns the total.
   */
  private async inBatches(batch: (limit: number) => Promise<number>): Promise<number> {
    const limit = this.o.batchSize ?? 500;
    let total = 0;
    for (;;) {
      const n = await batch(limit);
      total += n;
      if (n < limit || this.stopped) return total;
      await yieldToEventLoop();
    }
  }

  /** Deletes expired idempotent responses, batch by batch; a failure is logged and never stops the purge. */
  private async dropExpiredIdempotent(now: number): Promise<void> {
    try {
      await this.inBatches((limit) => this.o.store.dropExpiredIdempotent(now, limit));
    } catch (err) {
      this.o.logger.error({ err }, 'removing expired idempotent responses failed');
    }
  }

  /**
   * The store's partition upkeep, logged; a failure is logged and never stops the purge.
   * Returns how many messages went with the partitions dropped.
   */
  private async maintainPartitions(now: number, cutoff: number | null): Promise<number> {
    try {
      const r = await this.o.store.maintainPartitions(now, cutoff);
      for (const s of r.skipped) this.o.logger.warn({ partition: s.partition, reason: s.reason }, 'partition upkeep skipped a step; it is tried again on the next run');
      if (r.created.length + r.dropped.length + r.kept.length > 0) {
        this.o.logger.info({ created: r.created, dropped: r.dropped, droppedMessages: r.droppedMessages, keptForUnfinishedDeliveries: r.kept }, 'time partitions maintained');
      }
      return r.droppedMessages;
    } catch (err) {
      this.o.logger.error({ err }, 'partition upkeep failed');
      return 0;
    }
  }
}
