/**
 * Token buckets: `rate` tokens a second, holding at most `burst`. The maths is pure over the
 * times passed in, and written once: the in-memory `TokenBucket` (API rate limits, the
 * single-node dispatcher's per-endpoint `throttleRate`) and the bucket PostgreSQL keeps per
 * endpoint in `endpoint_limits` (shared by every node) both use `tokensAt` and
 * `msUntilToken`, so an endpoint's rate limit behaves the same on either database.
 */

/** Tokens in a bucket at `nowMs`, given the level `stored` at `updatedAt` (time never runs backwards). */
export function tokensAt(stored: number, updatedAt: number, nowMs: number, rate: number, burst: number): number {
  const elapsed = Math.max(0, nowMs - updatedAt);
  return Math.min(burst, stored + (elapsed * rate) / 1000);
}

/** Milliseconds until a bucket holding `tokens` has one whole token (0 if it has one). */
export function msUntilToken(tokens: number, rate: number): number {
  if (tokens >= 1) return 0;
  return Math.ceil(((1 - tokens) * 1000) / rate);
}

/**
 * Burst for a delivery rate limit (`throttleRate`): a twentieth of a second's tokens, rounded
 * down, at least one. A full second's worth would let a receiver coming back see about twice its
 * rate in the first second (the stored burst plus that second's refill). With this, a one-second
 * window holds the burst sent at its start and the tokens earned after it: at most the rate plus
 * a twentieth of it, and below 40/s (a burst of one) the rate itself. Rounded up, 25/s allowed 26
 * or 27 in a window, and a receiver's own 25/s quota answered 429 to the extra.
 */
export function throttleBurst(rate: number): number {
  return Math.max(1, Math.floor(rate / 20));
}

/** The level kept for a bucket not used yet: it reads as full, whatever the rate is by then. */
export const FULL_BUCKET = -1;

/** Tokens of an endpoint's `throttleRate` bucket at `nowMs`; a stored `FULL_BUCKET` (any negative level) is full. */
export function throttleTokensAt(stored: number, updatedAt: number, nowMs: number, rate: number): number {
  const burst = throttleBurst(rate);
  if (stored < 0) return burst;
  return tokensAt(stored, updatedAt, nowMs, rate, burst);
}

/** An in-memory token bucket. */
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
    this.tokens = tokensAt(this.tokens, this.updatedAt, nowMs, this.rate, this.burst);
    this.updatedAt = Math.max(this.updatedAt, nowMs);
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

  /** Puts `n` tokens back (never above the burst). */
  giveBack(n: number, nowMs: number): void {
    this.refill(nowMs);
    this.tokens = Math.min(this.burst, this.tokens + n);
  }

  /** Milliseconds until one token is available (0 if one is). */
  msUntilToken(nowMs: number): number {
    this.refill(nowMs);
    return msUntilToken(this.tokens, this.rate);
  }
}
