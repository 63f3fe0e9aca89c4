/** Delivery statistics of one application, for the dashboard's charts and queue figures. */

export interface AttemptBucket {
  /** Start of the bucket (epoch ms). */
  start: number;
  success: number;
  failure: number;
  /** Sum and maximum of response durations of the bucket's attempts (0 when empty). */
  durationSumMs: number;
  maxDurationMs: number;
}

export interface AppAttemptStats {
  /** One bucket per `bucketMs` from `since` to `until`, empty ones included. */
  buckets: AttemptBucket[];
  byEventType: Record<string, { success: number; failure: number }>;
  /** Deliveries not finished yet (pending or being sent), and when the oldest was created. */
  queue: { pending: number; sending: number; oldestPendingAt: number | null };
}

/** Empty, dense buckets covering [since, until). */
export function emptyBuckets(since: number, until: number, bucketMs: number): AttemptBucket[] {
  const n = Math.max(0, Math.ceil((until - since) / bucketMs));
  return Array.from({ length: n }, (_, i) => ({ start: since + i * bucketMs, success: 0, failure: 0, durationSumMs: 0, maxDurationMs: 0 }));
}
