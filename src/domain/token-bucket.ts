/** A token bucket: `rate` tokens a second, holding at most `burst`. Pure over the time passed in. */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private rate: number,
    private burst: number,
    nowMs: number,
  ) {
    this.tokens = burst;
    this.updatedAt = nowMs;
  }

  /** Changes the rate, keeping the tokens already earned. */
  setRate(rate: number, burst: number): void {
    this.rate = rate;
    this.burst = burst;
    this.tokens = Math.min(this.tokens, burst);
  }

  private refill(nowMs: number): void {
    const elapsed = Math.max(0, nowMs - this.updatedAt);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.rate) / 1000);
    this.updatedAt = nowMs;
  }

  /** Whole tokens available now. */
  available(nowMs: number): number {
    this.refill(nowMs);
    return Math.floor(this.tokens);
  }

  /** Takes up to `n` tokens; returns how many were taken. */
  take(n: number, nowMs: number): number {
    this.refill(nowMs);
    const got = Math.min(n, Math.floor(this.tokens));
    this.tokens -= got;
    return got;
  }

  /** Milliseconds until one token is available (0 if one is). */
  msUntilToken(nowMs: number): number {
    this.refill(nowMs);
    if (this.tokens >= 1) return 0;
    return Math.ceil(((1 - this.tokens) * 1000) / this.rate);
  }
}

/**
 * Burst for a delivery rate limit (`throttleRate`): a twentieth of a second's tokens, at least one.
 * A full second's worth would let a receiver coming back see about twice its rate in the first
 * second (the stored burst plus that second's refill); with this, any one-second window holds at
 * most the rate plus a twentieth of it (rounded up).
 */
export function throttleBurst(rate: number): number {
  return Math.max(1, Math.ceil(rate / 20));
}
