/** Statistics: delivery counts per endpoint, per application, and of the whole queue. */
import type { AppAttemptStats } from './app-stats.js';

/** Deliveries of an endpoint per state. */
export interface EndpointStats {
  success: number;
  pending: number;
  fail: number;
  sending: number;
}

/** The delivery queue at one instant, for metrics. */
export interface QueueStats {
  /** Deliveries due now (pending, or leased with an expired lease). */
  due: number;
  /** Pending deliveries due later (retries waiting for their time). */
  scheduled: number;
  /** Deliveries leased and in flight. */
  sending: number;
  /** When the longest-waiting due delivery fell due, or null if none is due. */
  oldestDueAt: number | null;
}

/** Delivery statistics for the API, the dashboard and metrics. */
export interface StatsStore {
  endpointStats(endpointId: string, since: number | null, until: number | null): Promise<EndpointStats>;
  /** An application's attempts in [since, until) per `bucketMs` bucket and per event type, and its unfinished deliveries. */
  appAttemptStats(appId: string, since: number, until: number, bucketMs: number): Promise<AppAttemptStats>;
  /** Counts of the delivery queue at `nowMs` (metrics). */
  queueStats(nowMs: number): Promise<QueueStats>;
}
