/**
 * Store lookups of poller requests, kept briefly: a long poll in a loop comes back once per
 * commit that wakes it, and each comeback would otherwise look its poller token and its
 * polling endpoint up in the store again.
 *
 * An answer is used for `KEEP_MS` at most. Every write of a polling endpoint or poller
 * token forgets the application's answers on the node that made it, at once (a rotated,
 * revoked or deleted token stops working there with the next request), and on the other
 * nodes when the write's notice arrives (PostgreSQL; a listener that reconnects forgets
 * everything, as notices may have been lost meanwhile). Misses are not kept: a guessed
 * token costs a lookup every time and fills nothing. An answer still being looked up is
 * shared by the requests that ask meanwhile, and forgotten like the others.
 */

/** How long an answer is used at most (the staleness bound should a notice be lost). */
const KEEP_MS = 1000;
/** Answers kept at most; the oldest are forgotten first. */
const MAX_ENTRIES = 10_000;

interface Entry<V> {
  at: number;
  /** The application the answer belongs to, once it has arrived (null before). */
  appId: string | null;
  value: Promise<V | null>;
}

export class KeptLookups<V extends { appId: string }> {
  private readonly entries = new Map<string, Entry<V>>();

  constructor(private readonly now: () => number) {}

  /** The answer for `key`: a kept one, or `load`'s (kept unless null or failed). */
  get(key: string, load: () => Promise<V | null>): Promise<V | null> {
    const now = this.now();
    const known = this.entries.get(key);
    if (known && now - known.at <= KEEP_MS) return known.value;
    if (known) this.entries.delete(key);
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
    const entry: Entry<V> = { at: now, appId: null, value: load() };
    this.entries.set(key, entry);
    entry.value.then(
      (v) => {
        if (v === null) this.forget(key, entry);
        else entry.appId = v.appId;
      },
      () => this.forget(key, entry),
    );
    return entry.value;
  }

  /** Forgets the application's answers (all when no id is given), and every one still being looked up. */
  invalidate(appId?: string): void {
    if (appId === undefined) {
      this.entries.clear();
      return;
    }
    for (const [key, e] of this.entries) if (e.appId === null || e.appId === appId) this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  private forget(key: string, entry: Entry<V>): void {
    if (this.entries.get(key) === entry) this.entries.delete(key);
  }
}
