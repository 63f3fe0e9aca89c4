/** SQLite queries behind `Store.appAttemptStats`. */
import type { Database } from 'better-sqlite3';
import { idBoundary } from '../../domain/ids.js';
import { emptyBuckets } from '../contract/app-stats.js';
import type { AppAttemptStats } from '../contract/app-stats.js';

type Row = Record<string, number | string | null>;

/** Counts an application's attempts per bucket and event type (an id-range scan of the window) and its unfinished deliveries. */
export function sqliteAppAttemptStats(db: Database, appId: string, since: number, until: number, bucketMs: number): AppAttemptStats {
  // Attempt ids begin with their creation time, so the window is a primary-key range.
  const lo = idBoundary('attempt', since);
  const hi = idBoundary('attempt', until);
  const buckets = emptyBuckets(since, until, bucketMs);
  const perBucket = db
    .prepare(
      `SELECT CAST((created_at - ?) / ? AS INTEGER) AS b, status, COUNT(*) AS n, SUM(duration_ms) AS total, MAX(duration_ms) AS slowest
         FROM attempts WHERE id >= ? AND id < ? AND app_id = ? AND created_at >= ? AND created_at < ?
        GROUP BY b, status`,
    )
    .all(since, bucketMs, lo, hi, appId, since, until) as Row[];
  for (const r of perBucket) {
    const b = buckets[r.b as number];
    if (!b) continue;
    if (r.status === 0) b.success += r.n as number;
    else b.failure += r.n as number;
    b.durationSumMs += r.total as number;
    b.maxDurationMs = Math.max(b.maxDurationMs, r.slowest as number);
  }
  const perType = db
    .prepare(
      `SELECT m.event_type AS et, a.status AS status, COUNT(*) AS n
         FROM attempts a JOIN messages m ON m.id = a.message_id
        WHERE a.id >= ? AND a.id < ? AND a.app_id = ? AND a.created_at >= ? AND a.created_at < ?
        GROUP BY m.event_type, a.status`,
    )
    .all(lo, hi, appId, since, until) as Row[];
  const byEventType: AppAttemptStats['byEventType'] = {};
  for (const r of perType) {
    const e = (byEventType[r.et as string] ??= { success: 0, failure: 0 });
    if (r.status === 0) e.success += r.n as number;
    else e.failure += r.n as number;
  }
  // The partial index on unfinished deliveries per endpoint serves this.
  const queueRows = db
    .prepare(
      `SELECT status, COUNT(*) AS n, MIN(created_at) AS oldest FROM deliveries
        WHERE endpoint_id IN (SELECT id FROM endpoints WHERE app_id = ?) AND status IN (1, 3) GROUP BY status`,
    )
    .all(appId) as Row[];
  const queue: AppAttemptStats['queue'] = { pending: 0, sending: 0, oldestPendingAt: null };
  for (const r of queueRows) {
    if (r.status === 1) queue.pending = r.n as number;
    else queue.sending = r.n as number;
    const oldest = r.oldest as number | null;
    if (oldest !== null && (queue.oldestPendingAt === null || oldest < queue.oldestPendingAt)) queue.oldestPendingAt = oldest;
  }
  return { buckets, byEventType, queue };
}
