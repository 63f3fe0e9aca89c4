/** The retry policy: a pure function from an attempt's outcome to the next step. */

/** Default delays (seconds) after the immediate first attempt: about 27 h over 8 attempts. */
export const DEFAULT_RETRY_SCHEDULE_SECONDS: readonly number[] = [5, 300, 1800, 7200, 18000, 36000, 36000];

/** Bounds applied to a receiver's `Retry-After`. */
export const RETRY_AFTER_MIN_MS = 1_000;
export const RETRY_AFTER_MAX_MS = 24 * 3600_000;

export interface RetryInput {
  /** Attempts made so far, including the one that just failed (1-based). */
  attempts: number;
  nowMs: number;
  /** Parsed `Retry-After`, in milliseconds from now, if the receiver sent one with 429/503. */
  retryAfterMs?: number | undefined;
  /** A number in [0, 1) used for jitter; injected so the policy stays pure. */
  random: number;
}

export type RetryDecision = { kind: 'retry'; at: number } | { kind: 'give-up' };

/**
 * Decides when to try again after a failed attempt. Each scheduled delay gets ±`jitter`
 * (default 20 %); a receiver's Retry-After, clamped to sane bounds, replaces the delay.
 */
export function nextRetry(input: RetryInput, scheduleSeconds: readonly number[], jitter = 0.2): RetryDecision {
  const delaySec = scheduleSeconds[input.attempts - 1];
  if (delaySec === undefined) return { kind: 'give-up' };
  if (input.retryAfterMs !== undefined) {
    const ms = Math.min(RETRY_AFTER_MAX_MS, Math.max(RETRY_AFTER_MIN_MS, input.retryAfterMs));
    return { kind: 'retry', at: input.nowMs + ms };
  }
  const factor = 1 + jitter * (2 * input.random - 1);
  return { kind: 'retry', at: input.nowMs + Math.round(delaySec * 1000 * factor) };
}

/** Parses a Retry-After header (delta-seconds or HTTP date) into milliseconds from `nowMs`. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/** Parses `SWITCHBOARD_RETRY_SCHEDULE` ("5,300,1800"). Throws on anything but non-negative numbers. */
export function parseRetrySchedule(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  return parts.map((p) => {
    const n = Number(p);
    if (!Number.isFinite(n) || n < 0) throw new Error(`invalid retry delay "${p}": expected seconds >= 0`);
    return n;
  });
}
