/** Statistics on SQLite: delivery counts per endpoint, an application's attempts, the queue. */
import { appQueueOf, endpointStatsOf } from '../shared/rows.js';
import type { Database } from 'better-sqlite3';
import { idBoundary } from '../../domain/ids.js';
import { DeliveryStatus } from '../../domain/model.js';
import { emptyBuckets } from '../contract/app-stats.js';
import type { AppAttemptStats } from '../contract/app-stats.js';
import type { EndpointStats, QueueStats, StatsStore } from '../contract/stats.js';
import type { Row } from '../shared/rows.js';
import type { SqliteConnection } from './connection.js';

/** Statistics on SQLite. */
export class SqliteStatsStore implements StatsStore {
  constructor(private readonly c: SqliteConnection) {}

  async endpointStats(endpointId: string, since: number | null, until: number | null): Promise<EndpointStats> {
    const rows = this.c.q('SELECT status, COUNT(*) AS n FROM deliveries WHERE endpoint_id = ? AND created_at >= ? AND created_at < ? GROUP BY status').all(
      endpointId,
      since ?? 0,
      until ?? Number.MAX_SAFE_INTEGER,
    ) as Row[];
    return endpointStatsOf(rows);
  }

  async appAttemptStats(appId: string, since: number, until: number, bucketMs: number): Promise<AppAttemptStats> {
    return appAttemptStats(this.c.db, appId, since, until, bucketMs);
  }

  async queueStats(nowMs: number): Promise<QueueStats> {
    const r = this.c.q(
      `SELECT COALESCE(SUM(next_attempt_at <= @now), 0) AS due,
              COALESCE(SUM(status = ${DeliveryStatus.Pending} AND next_attempt_at > @now), 0) AS scheduled,
              COALESCE(SUM(status = ${DeliveryStatus.Sending} AND next_attempt_at > @now), 0) AS sending,
              MIN(CASE WHEN next_attempt_at <= @now THEN next_attempt_at END) AS oldest
       FROM deliveries WHERE status IN (1, 3)`,
    ).get({ now: nowMs }) as Row;
    return { due: r.due as number, scheduled: r.scheduled as number, sending: r.sending as number, oldestDueAt: (r.oldest as number | null) ?? null };
  }
}

function appAttemptStats(db: Database, appId: string, since: number, until: number, bucketMs: number): AppAttemptStats {
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
  return { buckets, byEventType, queue: appQueueOf(queueRows) };
}
