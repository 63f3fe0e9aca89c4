/**
 * Batches attempt records: every record added in the same turn of the event loop is
 * written in one transaction. Losing a batch in a crash is safe: the leases expire
 * and the deliveries are sent again (at-least-once).
 */
import type { Logger } from 'pino';
import type { AttemptRecord, Store } from '../storage/store.js';

export class AttemptWriter {
  private pending: { record: AttemptRecord; done: () => void }[] = [];
  private scheduled = false;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly onWritten: (records: AttemptRecord[]) => void,
  ) {}

  /** Queues a record; resolves once it is written (or its write failed and was logged). */
  add(record: AttemptRecord): Promise<void> {
    return new Promise((resolve) => {
      this.pending.push({ record, done: resolve });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => {
          this.writing = this.writing.then(() => this.write());
        });
      }
    });
  }

  private async write(): Promise<void> {
    this.scheduled = false;
    const batch = this.pending.splice(0);
    if (batch.length === 0) return;
    const records = batch.map((b) => b.record);
    try {
      await this.store.recordAttempts(records);
      this.onWritten(records);
    } catch (e: unknown) {
      this.logger.error({ err: e, attempts: records.length }, 'recording attempts failed; their deliveries will be retried when the leases expire');
    } finally {
      for (const b of batch) b.done();
    }
  }

  /** Writes everything queued so far. */
  async flush(): Promise<void> {
    if (this.pending.length > 0) {
      this.scheduled = true;
      this.writing = this.writing.then(() => this.write());
    }
    await this.writing;
  }
}
