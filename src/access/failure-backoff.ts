/**
 * Exponential back-off after repeated failures, per key (a client address, a credential):
 * after `freeFailures` failures the key is blocked for `baseBlockMs`, and each further
 * failure doubles that, up to `maxBlockMs`. One failure is forgiven per `decayMs` that
 * passes (a leak, as in a leaky bucket), so a key left alone is forgotten.
 * Memory is bounded: at most `maxTracked` keys, the least recently failed dropped first.
 * Pure logic on the injected clock's time.
 */

export interface BackoffPolicy {
  /** Failures allowed before the first block (the last of them starts it). */
  freeFailures: number;
  /** Length of the first block; each further failure doubles it. */
  baseBlockMs: number;
  /** Longest block. */
  maxBlockMs: number;
  /** One failure is forgiven per this much time. */
  decayMs: number;
  /** Most keys remembered; the least recently failed is dropped first. */
  maxTracked: number;
}

interface FailureRecord {
  failures: number;
  /** When the failure count was last brought up to date (decay counts from here). */
  settledAt: number;
  blockedUntil: number;
}

/** What a failure did to its key. */
export interface FailureOutcome {
  /** The key is now blocked for this long (0: not blocked). */
  blockMs: number;
  /** The failure started a block of a key that was not blocked. */
  blockStarted: boolean;
}

export class FailureBackoff {
  /** Map order is recency order: a failing key is moved to the end, the first is the oldest. */
  private readonly records = new Map<string, FailureRecord>();

  constructor(private readonly policy: BackoffPolicy) {}

  /** Milliseconds the key is still blocked for at `now`; 0 when it may try. */
  blockedFor(key: string, now: number): number {
    const r = this.records.get(key);
    return r ? Math.max(0, r.blockedUntil - now) : 0;
  }

  /** Counts a failure of `key` at `now` and returns the block it earned. */
  fail(key: string, now: number): FailureOutcome {
    const p = this.policy;
    const r = this.records.get(key) ?? { failures: 0, settledAt: now, blockedUntil: 0 };
    const wasBlocked = r.blockedUntil > now;
    this.decay(r, now);
    r.failures += 1;
    // The failure that uses up the free ones blocks for baseBlockMs, each later one twice as long.
    const beyond = r.failures - p.freeFailures;
    const blockMs = beyond < 0 ? 0 : Math.min(p.maxBlockMs, p.baseBlockMs * 2 ** Math.min(beyond, 40));
    r.blockedUntil = Math.max(r.blockedUntil, now + blockMs);
    this.records.delete(key);
    this.records.set(key, r);
    if (this.records.size > p.maxTracked) this.records.delete(this.records.keys().next().value!);
    return { blockMs, blockStarted: blockMs > 0 && !wasBlocked };
  }

  /** Keys remembered now (for tests and metrics). */
  get size(): number {
    return this.records.size;
  }

  private decay(r: FailureRecord, now: number): void {
    const forgiven = Math.floor((now - r.settledAt) / this.policy.decayMs);
    if (forgiven <= 0) return;
    r.failures = Math.max(0, r.failures - forgiven);
    r.settledAt += forgiven * this.policy.decayMs;
  }
}
