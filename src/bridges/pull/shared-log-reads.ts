/**
 * Log reads shared by readers at the same place: every reader woken by one commit that sits
 * at the same position with the same filter gets the answer of one store query. A read's
 * answer is kept until the application's next commit (which may add to it), so readers
 * that come to the same position a little later (after writing a page, or after a drain)
 * share it too.
 *
 * Why a shared answer is never stale for a reader: a reader resets its subscription before
 * it reads, and the next commit of its application forgets every answer (in flight or not)
 * before waking anyone. So an answer a reader joins was started either after the last
 * commit (it sees it), or before a commit whose wake-up is still to come to this reader
 * (which then reads again). Another node's commits arrive as notices; should one be lost,
 * an answer is in any case kept at most `KEEP_MS`, so a new read never lags longer.
 */
import type { LogFilter, LogRead } from '../../storage/contract/pull.js';

/** Answers kept at most (oldest forgotten first); each holds at most one page of messages. */
const MAX_ENTRIES = 512;
/** An answer is used for this long at most, even without a commit. */
const KEEP_MS = 1000;

type StoreRead = (appId: string, after: number, limit: number, filter: LogFilter) => Promise<LogRead>;

interface Entry {
  appId: string;
  at: number;
  answer: Promise<LogRead>;
}

/** A filter as a key: equal filters (lists in any order) give equal keys. */
export function filterKey(f: LogFilter): string {
  const list = (l: readonly string[] | null | undefined): string => (l ? JSON.stringify([...l].sort()) : '*');
  return `${list(f.eventTypes)}|${list(f.channels)}|${list(f.tags)}`;
}

export class SharedLogReads {
  private readonly entries = new Map<string, Entry>();
  /** Store queries made and answers shared (for tests and metrics). */
  queries = 0;
  shared = 0;

  constructor(
    private readonly storeRead: StoreRead,
    private readonly now: () => number,
  ) {}

  /** A reader's read function: its filter's key is computed once. */
  reader(appId: string, filter: LogFilter): (after: number, limit: number) => Promise<LogRead> {
    const prefix = `${appId}\u0000${filterKey(filter)}\u0000`;
    return (after, limit) => this.read(prefix + `${after}:${limit}`, appId, after, limit, filter);
  }

  /** One read (the filter's key computed now). */
  readOnce(appId: string, after: number, limit: number, filter: LogFilter): Promise<LogRead> {
    return this.reader(appId, filter)(after, limit);
  }

  /** Forgets the application's answers: it has new messages. */
  invalidate(appId: string): void {
    for (const [key, e] of this.entries) if (e.appId === appId) this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  private read(key: string, appId: string, after: number, limit: number, filter: LogFilter): Promise<LogRead> {
    const now = this.now();
    const known = this.entries.get(key);
    if (known && now - known.at <= KEEP_MS) {
      this.shared++;
      return known.answer;
    }
    if (known) this.entries.delete(key);
    this.queries++;
    const answer = this.storeRead(appId, after, limit, filter);
    const entry: Entry = { appId, at: now, answer };
    this.entries.set(key, entry);
    // A failed read is not kept: the next reader tries again.
    answer.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    if (this.entries.size > MAX_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    return answer;
  }
}
