/**
 * Group commit: work submitted while a commit is being prepared or written shares the
 * next one, so many concurrent publishes cost one transaction (and one fsync).
 *
 * With `minIntervalMs`, commits start at least that long apart: work submitted meanwhile
 * waits and shares the next commit. Fewer, larger commits cost less per item wherever a commit
 * has a fixed price (a durable commit on PostgreSQL, its round trips and wake-ups), at up to
 * that much latency per item. A batch that reaches `maxBatch` does not wait.
 */
export interface GroupCommitOptions<I, R> {
  /** Most items in one commit (default 1000). */
  maxBatch?: number | undefined;
  /** Called once per committed batch, before its submitters resume (e.g. one notification per commit). */
  committed?: ((items: I[], results: R[]) => void) | undefined;
  /** Least time between the starts of two commits, in ms; 0 (the default) starts each as soon as the last ends. */
  minIntervalMs?: number | undefined;
  /**
   * Start the first batch at once, in the submitter's turn, rather than in the next one (which
   * gathers what the same turn submits): for reads, which cost nothing to start and where a
   * store that answers at once (SQLite) should not wait a turn. What arrives while a batch runs
   * still shares the next.
   */
  startAtOnce?: boolean | undefined;
}

export class GroupCommit<I, R> {
  private queue: { item: I; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private running = false;
  /** When the last commit started (performance.now()), for `minIntervalMs`. */
  private lastStart = -Infinity;

  private readonly maxBatch: number;
  private readonly committed: ((items: I[], results: R[]) => void) | undefined;
  private readonly minIntervalMs: number;
  private readonly startAtOnce: boolean;

  constructor(
    private readonly commit: (items: I[]) => Promise<R[]>,
    options: GroupCommitOptions<I, R> = {},
  ) {
    this.maxBatch = options.maxBatch ?? 1000;
    this.committed = options.committed;
    this.minIntervalMs = options.minIntervalMs ?? 0;
    this.startAtOnce = options.startAtOnce ?? false;
  }

  /** Resolves with this item's result once its batch is committed. */
  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.running) {
        this.running = true;
        if (this.startAtOnce) void this.drain();
        else setImmediate(() => void this.drain());
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
