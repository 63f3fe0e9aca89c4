/**
 * Group commit: work submitted while a commit is being prepared or written shares the
 * next one, so many concurrent publishes cost one transaction (and one fsync).
 *
 * With `minIntervalMs`, commits start at least that long apart: work submitted meanwhile
 * waits and shares the next commit. Fewer, larger commits cost less per item wherever a commit
 * has a fixed price (a durable commit on PostgreSQL, its round trips and wake-ups), at up to
 * that much latency per item. A batch that reaches `maxBatch` does not wait.
 */
export class GroupCommit<I, R> {
  private queue: { item: I; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private running = false;
  /** When the last commit started (performance.now()), for `minIntervalMs`. */
  private lastStart = -Infinity;

  constructor(
    private readonly commit: (items: I[]) => Promise<R[]>,
    private readonly maxBatch = 1000,
    /** Called once per committed batch, before its submitters resume (e.g. one notification per commit). */
    private readonly committed?: (items: I[], results: R[]) => void,
    /** Least time between the starts of two commits, in ms; 0 starts each as soon as the last ends. */
    private readonly minIntervalMs = 0,
  ) {}

  /** Resolves with this item's result once its batch is committed. */
  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.running) {
        this.running = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const wait = this.lastStart + this.minIntervalMs - performance.now();
      if (wait >= 1 && this.queue.length < this.maxBatch) await new Promise((r) => setTimeout(r, Math.ceil(wait)));
      this.lastStart = performance.now();
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        const items = batch.map((b) => b.item);
        const results = await this.commit(items);
        try {
          this.committed?.(items, results);
        } catch {
          // A failing observer must not fail a batch that is committed.
        }
        batch.forEach((b, i) => b.resolve(results[i]!));
      } catch (e: unknown) {
        for (const b of batch) b.reject(e);
      }
    }
    this.running = false;
  }
}
