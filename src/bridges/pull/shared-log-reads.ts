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
/**
 * Bytes of message content kept in answers at most (oldest forgotten first): readers catching
 * up at many positions must not pin pages nobody needs any more. An answer still being read
 * from the store is always kept, so the readers woken together share it.
 */
const MAX_KEPT_BYTES = 16 * 1024 * 1024;
/** What a message costs besides its payload, roughly. */
const MESSAGE_OVERHEAD_BYTES = 256;
/** An answer is used for this long at most, even without a commit. */
const KEEP_MS = 1000;

type StoreRead = (appId: string, after: number, limit: number, filter: LogFilter) => Promise<LogRead>;

interface Entry {
  appId: string;
  at: number;
  answer: Promise<LogRead>;
  /** Its content's size once it has arrived (0 before). */
  bytes: number;
}

function answerBytes(r: LogRead): number {
  let n = 0;
  for (const { message } of r.messages) n += (message.payload?.length ?? 0) + MESSAGE_OVERHEAD_BYTES;
  return n;
}

/** A filter as a key: equal filters (lists in any order) give equal keys. */
export function filterKey(f: LogFilter): string {
  const list = (l: readonly string[] | null | undefined): string => (l ? JSON.stringify([...l].sort()) : '*');
  return `${list(f.eventTypes)}|${list(f.channels)}|${list(f.tags)}`;
}

export class SharedLogReads {
  private readonly entries = new Map<string, Entry>();
  private keptBytes = 0;
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
    for (const [key, e] of this.entries) if (e.appId === appId) this.forget(key, e);
  }

  /** Answers kept, and the bytes of message content they hold. */
  get size(): { answers: number; bytes: number } {
    return { answers: this.entries.size, bytes: this.keptBytes };
  }

  private forget(key: string, e: Entry): void {
    if (this.entries.get(key) !== e) return;
    this.entries.delete(key);
    this.keptBytes -= e.bytes;
  }

  /** Forgets the oldest arrived answers while over the limits. */
  private trim(): void {
    for (const [key, e] of this.entries) {
      if (this.keptBytes <= MAX_KEPT_BYTES && this.entries.size <= MAX_ENTRIES) return;
      if (e.bytes > 0 || this.entries.size > MAX_ENTRIES) this.forget(key, e);
    }
  }

  private read(key: string, appId: string, after: number, limit: number, filter: LogFilter): Promise<LogRead> {
    const now = this.now();
    const known = this.entries.get(key);
    if (known && now - known.at <= KEEP_MS) {
      this.shared++;
      return known.answer;
    }
    if (known) this.forget(key, known);
    this.queries++;
    const answer = this.storeRead(appId, after, limit, filter);
    const entry: Entry = { appId, at: now, answer, bytes: 0 };
    this.entries.set(key, entry);
    answer.then(
      (r) => {
        if (this.entries.get(key) !== entry) return;
        entry.bytes = answerBytes(r);
        this.keptBytes += entry.bytes;
        this.trim();
      },
      // A failed read is not kept: the next reader tries again.
      () => this.forget(key, entry),
    );
    if (this.entries.size > MAX_ENTRIES) this.trim();
    return answer;
  }
}
