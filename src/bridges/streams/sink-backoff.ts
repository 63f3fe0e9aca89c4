/**
 * How long a sink waits before its next try after failed deliveries in a row: 1 s, 2 s, 4 s ...
 * doubling up to 10 minutes, each spread by a random ±20% so that sinks failing together (one
 * broker down) do not all come back in the same instant.
 */

/** The wait after the first failure. */
export const SINK_BACKOFF_BASE_MS = 1000;
/** The longest wait between two tries. */
export const SINK_BACKOFF_CAP_MS = 10 * 60 * 1000;
/** How far a wait is spread either way, as a fraction of it. */
export const SINK_BACKOFF_JITTER = 0.2;

/**
 * The wait before the next try after `failures` failures in a row (1 for the first).
 * `random` returns a number in [0, 1); 0.5 gives the wait without jitter.
 */
export function sinkBackoffMs(failures: number, random: () => number = Math.random): number {
  const n = Math.max(1, Math.floor(failures));
  // 2^30 s is far past the cap: clamp the exponent so the arithmetic stays finite.
  const plain = Math.min(SINK_BACKOFF_CAP_MS, SINK_BACKOFF_BASE_MS * 2 ** Math.min(n - 1, 30));
  const spread = 1 + SINK_BACKOFF_JITTER * (2 * random() - 1);
  return Math.min(SINK_BACKOFF_CAP_MS, Math.round(plain * spread));
}
