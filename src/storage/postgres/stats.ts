/** Statistics on PostgreSQL: delivery counts per endpoint, an application's attempts, the queue. */
import { appQueueOf, endpointStatsOf } from '../shared/rows.js';
import type { Sql } from 'postgres';
import { idBoundary } from '../../domain/ids.js';
import { DeliveryStatus } from '../../domain/model.js';
import { emptyBuckets } from '../contract/app-stats.js';
import type { AppAttemptStats } from '../contract/app-stats.js';
import type { EndpointStats, QueueStats, StatsStore } from '../contract/stats.js';
import { appOfEndpoint } from './app-keys.js';
import type { PgConnection } from './connection.js';

/** Latest time a range left open at its end stands for. */
const MAX_TIME = Number.MAX_SAFE_INTEGER;

/** Statistics on PostgreSQL. */
export class PgStatsStore implements StatsStore {
  constructor(private readonly c: PgConnection) {}

  async endpointStats(endpointId: string, since: number | null, until: number | null): Promise<EndpointStats> {
    const rows = await this.c.sql`SELECT status, COUNT(*) AS n FROM deliveries
      WHERE app_id = ${appOfEndpoint(this.c.sql, endpointId)} AND endpoint_id = ${endpointId} AND created_at >= ${since ?? 0} AND created_at < ${until ?? MAX_TIME} GROUP BY status`;
    return endpointStatsOf(rows);
  }

  async appAttemptStats(appId: string, since: number, until: number, bucketMs: number): Promise<AppAttemptStats> {
    return appAttemptStats(this.c.sql, appId, since, until, bucketMs);
  }

  async queueStats(nowMs: number): Promise<QueueStats> {
    const [r] = await this.c.sql`
      SELECT COUNT(*) FILTER (WHERE next_attempt_at <= ${nowMs}) AS due,
             COUNT(*) FILTER (WHERE status = ${DeliveryStatus.Pending} AND next_attempt_at > ${nowMs}) AS scheduled,
             COUNT(*) FILTER (WHERE status = ${DeliveryStatus.Sending} AND next_attempt_at > ${nowMs}) AS sending,
             MIN(next_attempt_at) FILTER (WHERE next_attempt_at <= ${nowMs}) AS oldest
      FROM deliveries WHERE status IN (1, 3)`;
    return { due: (r?.due as number) ?? 0, scheduled: (r?.scheduled as number) ?? 0, sending: (r?.sending as number) ?? 0, oldestDueAt: (r?.oldest as number | null) ?? null };
  }
}

/** Counts an application's attempts per bucket and event type (an id-range scan of the window) and its unfinished deliveries. */
async function appAttemptStats(sql: Sql, appId: string, since: number, until: number, bucketMs: number): Promise<AppAttemptStats> {
  // Attempt ids begin with their creation time, so the window is a range of the primary key (app_id, id, created_at).
  const lo = idBoundary('attempt', since);
  const hi = idBoundary('attempt', until);
  const buckets = emptyBuckets(since, until, bucketMs);
  const perBucket = await sql`
    SELECT (created_at - ${since}::bigint) / ${bucketMs}::bigint AS b, status, COUNT(*) AS n, SUM(duration_ms)::bigint AS total, MAX(duration_ms) AS slowest
    FROM attempts WHERE id >= ${lo} AND id < ${hi} AND app_id = ${appId} AND created_at >= ${since} AND created_at < ${until}
    GROUP BY b, status`;
  for (const r of perBucket) {
    const b = buckets[r.b as number];
    if (!b) continue;
    if (r.status === 0) b.success += r.n as number;
    else b.failure += r.n as number;
    b.durationSumMs += r.total as number;
    b.maxDurationMs = Math.max(b.maxDurationMs, r.slowest as number);
  }
  const perType = await sql`
    SELECT m.event_type AS et, a.status AS status, COUNT(*) AS n
    FROM attempts a JOIN messages m ON m.app_id = a.app_id AND m.id = a.message_id
    WHERE a.id >= ${lo} AND a.id < ${hi} AND a.app_id = ${appId} AND a.created_at >= ${since} AND a.created_at < ${until}
    GROUP BY m.event_type, a.status`;
  const byEventType: AppAttemptStats['byEventType'] = {};
  for (const r of perType) {
    const e = (byEventType[r.et as string] ??= { success: 0, failure: 0 });
    if (r.status === 0) e.success += r.n as number;
    else e.failure += r.n as number;
  }
  // The partial index on unfinished deliveries, led by the application, serves this.
  const queueRows = await sql`
    SELECT status, COUNT(*) AS n, MIN(created_at) AS oldest FROM deliveries WHERE app_id = ${appId} AND status IN (1, 3) GROUP BY status`;
  return { buckets, byEventType, queue: appQueueOf(queueRows) };
}
