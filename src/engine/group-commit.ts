/**
 * Group commit: work submitted while a commit is being prepared or written shares the
 * next one, so many concurrent publishes cost one transaction (and one fsync).
 */
export class GroupCommit<I, R> {
  private queue: { item: I; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private running = false;

  constructor(
    private readonly commit: (items: I[]) => Promise<R[]>,
    private readonly maxBatch = 1000,
    /** Called once per committed batch, before its submitters resume (e.g. one notification per commit). */
    private readonly committed?: (items: I[], results: R[]) => void,
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
