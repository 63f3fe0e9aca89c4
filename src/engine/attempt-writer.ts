/**
 * Batches attempt records: every record added within a short window (or until a batch is
 * full) is written in one transaction, so records share the pages each commit writes.
 * Losing a batch in a crash is safe: the leases expire and the deliveries are sent again
 * (at-least-once). A batch refused because the database is away for a moment (a restart, a
 * failover, a network cut) is written again while that lasts, up to a bound, so that a short
 * outage does not send every delivery that ended during it a second time.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { classifyStorageFault } from '../storage/contract/storage-faults.js';
import type { AttemptRecord, RecordedAttempts, Store } from '../storage/contract/store.js';
import { isUniqueViolation } from '../storage/contract/unique-violation.js';

/**
 * How long the first record of a batch waits for others. The request has ended and its
 * endpoint's slot is free; the node's and the application's slots are held this much longer.
 */
const BATCH_WINDOW_MS = 2;
/** A batch this large is written at once. */
const BATCH_MAX = 256;

/** How a batch refused by a database that is away is written again. */
export interface RecordRetry {
  /** The first wait, doubled after each refusal up to `maxDelayMs`. */
  firstDelayMs: number;
  maxDelayMs: number;
  /**
   * How long after the first refusal the batch is still tried: well within a lease's grace
   * (`SWITCHBOARD_LEASE_GRACE_MS`, 15 s), after which the deliveries are sent again anyway.
   */
  windowMs: number;
}

const RECORD_RETRY: RecordRetry = { firstDelayMs: 250, maxDelayMs: 2000, windowMs: 10_000 };

export class AttemptWriter {
  private pending: { record: AttemptRecord; done: () => void }[] = [];
  /** The batch being written. */
  private inWrite: readonly { record: AttemptRecord }[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** A write is chained and has not taken its batch yet. */
  private queued = false;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    /** Told what each written batch left to do (deliveries resent at once). */
    private readonly onWritten: (records: AttemptRecord[], recorded: RecordedAttempts) => void,
    private readonly retry: RecordRetry = RECORD_RETRY,
  ) {}

  /** Aborted at shutdown: a refused batch is not tried again (its leases expire as after a crash). */
  private readonly retries = new AbortController();

  /**
   * Queues a record; resolves once it is written (or its write failed and was logged). With
   * `now`, the batch is written without waiting out the window (records that arrived in the
   * meantime share it): something waits on this record, such as the next message of an
   * ordering key.
   */
  add(record: AttemptRecord, o: { now?: boolean } = {}): Promise<void> {
    return new Promise((resolve) => {
      this.pending.push({ record, done: resolve });
      // Queued: the write about to run takes this record too.
      if (this.queued) return;
      if (o.now || this.pending.length >= BATCH_MAX) this.writeNow();
      else this.timer ??= setTimeout(() => this.writeNow(), BATCH_WINDOW_MS);
    });
  }

  private writeNow(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.queued) return;
    this.queued = true;
    this.writing = this.writing.then(() => this.write());
  }

  private async write(): Promise<void> {
    this.queued = false;
    const batch = this.pending.splice(0);
    if (batch.length === 0) return;
    this.inWrite = batch;
    const records = batch.map((b) => b.record);
    const giveUpAt = performance.now() + this.retry.windowMs;
    let delay = this.retry.firstDelayMs;
    try {
      for (let tries = 1; ; tries++) {
        try {
          const recorded = await this.store.recordAttempts(records);
          if (tries > 1) this.logger.info({ attempts: records.length, tries }, 'attempts recorded once the database answered again');
          this.onWritten(records, recorded);
          return;
        } catch (e: unknown) {
          if (tries > 1 && isUniqueViolation(e)) {
            // An earlier try lost its connection after its commit: the records are stored.
            // (What it would have said of resends is lost: the sweep finds those deliveries due.)
            this.onWritten(records, { resent: [] });
            return;
          }
          const kind = classifyStorageFault(e)?.kind;
          const away = kind === 'unavailable' || kind === 'busy' || kind === 'timeout';
          if (!away || this.retries.signal.aborted || performance.now() + delay > giveUpAt) {
            this.logger.error({ err: e, attempts: records.length, tries }, 'recording attempts failed; their deliveries will be retried when the leases expire');
            return;
          }
          if (tries === 1) this.logger.warn({ err: e, attempts: records.length }, 'recording attempts failed; trying again while the database is away');
          // A stop ends the wait at once.
          await sleep(delay, undefined, { signal: this.retries.signal }).catch(() => {});
          delay = Math.min(delay * 2, this.retry.maxDelayMs);
        }
      }
    } finally {
      this.inWrite = [];
      for (const b of batch) b.done();
    }
  }

  /** Stops trying refused batches again (at shutdown); a wait in progress ends at once. */
  stopRetries(): void {
    this.retries.abort();
  }

  /**
   * The deliveries whose attempt is queued or being written, at most `max`: their request
   * has ended, though the store still shows them leased.
   */
  unrecorded(max: number): number[] {
    const ids: number[] = [];
    for (const list of [this.inWrite, this.pending]) {
      for (const b of list) {
        if (ids.length >= max) return ids;
        ids.push(b.record.deliveryId);
      }
    }
    return ids;
  }

  /** Writes everything queued so far. */
  async flush(): Promise<void> {
    if (this.pending.length > 0) this.writeNow();
    await this.writing;
  }
}
