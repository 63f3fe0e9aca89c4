/**
 * Retention on PostgreSQL: the oldest finished messages deleted with their deliveries and
 * attempts, and the time partitions of attempts kept (attempt-partitions.ts).
 */
import type { TransactionSql } from 'postgres';
import { idBoundary } from '../../domain/ids.js';
import type { PartitionUpkeep, RetentionStore } from '../contract/retention.js';
import { ATTEMPT_TIME_SLACK_MS, maintainAttemptPartitions } from './attempt-partitions.js';
import type { PgConnection } from './connection.js';

/**
 * Deletes the attempts of messages `ids` (created at `firstCreatedAt` or later), within the
 * time their deliveries were active: attempts are partitioned by time, and a bound range
 * lets PostgreSQL probe the message index of those partitions only, instead of every
 * partition (where it would rather scan each). A message without deliveries has no
 * attempts. An attempt recorded outside the range (later than a day after its delivery's
 * last change) is left to the drop of its partition.
 */
async function deleteAttemptsOf(tx: TransactionSql, ids: string[], firstCreatedAt: number): Promise<void> {
  const [active] = await tx`SELECT MAX(updated_at) AS last FROM deliveries WHERE message_id = ANY(${ids}::text[])`;
  const last = active?.last as number | null | undefined;
  if (last === null || last === undefined) return;
  await tx`DELETE FROM attempts WHERE message_id = ANY(${ids}::text[])
    AND created_at >= ${firstCreatedAt - ATTEMPT_TIME_SLACK_MS} AND created_at <= ${last + ATTEMPT_TIME_SLACK_MS}`;
}

/** Retention on PostgreSQL. */
export class PgRetentionStore implements RetentionStore {
  constructor(private readonly c: PgConnection) {}

  async purgeMessagesBefore(cutoffMs: number, limit: number): Promise<number> {
    // Message ids begin with their creation time: the oldest are a primary-key range scan.
    // Rows of a concurrent purge on another node are skipped, never waited for.
    const bound = idBoundary('message', cutoffMs);
    return this.c.sql.begin(async (tx) => {
      const picked = await tx`
        SELECT m.id, m.created_at FROM messages m
        -- A probe of the message's deliveries per message (a lateral join: NOT EXISTS would be
        -- planned as an anti-join walking every delivery).
        LEFT JOIN LATERAL (SELECT 1 AS open FROM deliveries d WHERE d.message_id = m.id AND d.status IN (1, 3) LIMIT 1) o ON TRUE
        WHERE m.id < ${bound} AND m.created_at < ${cutoffMs} AND o.open IS NULL
        ORDER BY m.id LIMIT ${limit} FOR UPDATE OF m SKIP LOCKED`;
      const ids = picked.map((r) => r.id as string);
      if (ids.length === 0) return 0;
      await deleteAttemptsOf(tx, ids, Math.min(...picked.map((r) => r.created_at as number)));
      await tx`DELETE FROM deliveries WHERE message_id = ANY(${ids}::text[])`;
      await tx`DELETE FROM messages WHERE id = ANY(${ids}::text[])`;
      return ids.length;
    });
  }

  maintainAttemptPartitions(nowMs: number, cutoffMs: number | null): Promise<PartitionUpkeep> {
    return maintainAttemptPartitions(this.c, nowMs, cutoffMs);
  }
}
