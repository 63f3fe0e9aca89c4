/**
 * Retention on PostgreSQL: the time partitions of attempts and messages kept
 * (attempt-partitions.ts, message-partitions.ts), and the messages a partition drop cannot
 * take deleted row by row with their deliveries and attempts.
 */
import type { TransactionSql } from 'postgres';
import { idBoundary } from '../../domain/ids.js';
import type { PartitionUpkeep, RetentionStore } from '../contract/retention.js';
import { ATTEMPT_TIME_SLACK_MS, maintainAttemptPartitions } from './attempt-partitions.js';
import type { PgConnection } from './connection.js';
import { MESSAGES, maintainMessagePartitions } from './message-partitions.js';
import { inKeys } from './app-keys.js';
import type { MessageKeys } from './app-keys.js';
import { partitionAt, partitionsOf } from './time-partitions.js';

/**
 * Deletes the attempts of messages `ids` (created at `firstCreatedAt` or later), within the
 * time their deliveries were active: attempts are partitioned by time, and a bound range
 * lets PostgreSQL probe the message index of those partitions only, instead of every
 * partition (where it would rather scan each). A message without deliveries has no
 * attempts. An attempt recorded outside the range (later than a day after its delivery's
 * last change) is left to the drop of its partition.
 */
async function deleteAttemptsOf(tx: TransactionSql, keys: MessageKeys, firstCreatedAt: number): Promise<void> {
  const [active] = await tx`SELECT MAX(updated_at) AS last FROM deliveries WHERE (app_id, message_id) IN ${inKeys(tx, keys)}`;
  const last = active?.last as number | null | undefined;
  if (last === null || last === undefined) return;
  await tx`DELETE FROM attempts WHERE (app_id, message_id) IN ${inKeys(tx, keys)}
    AND created_at >= ${firstCreatedAt - ATTEMPT_TIME_SLACK_MS} AND created_at <= ${last + ATTEMPT_TIME_SLACK_MS}`;
}

/** Retention on PostgreSQL. */
export class PgRetentionStore implements RetentionStore {
  constructor(private readonly c: PgConnection) {}

  /**
   * Messages of a daily partition go with their partition, once all of its day is past the
   * cutoff: the row-by-row purge stops at the start of the day partition the cutoff falls in
   * (so a message is kept at most a day past the period). Before it, it deletes what the
   * drops leave: messages of days kept for an unfinished delivery, of the first partition
   * (the table as it was before partitioning) and of the default partition.
   */
  async purgeMessagesBefore(cutoffMs: number, limit: number): Promise<number> {
    const day = partitionAt(await partitionsOf(this.c.sql, MESSAGES), cutoffMs);
    const rowCutoff = Math.min(day?.from ?? cutoffMs, cutoffMs);
    // Message ids begin with their creation time, so `id < bound` prunes the partitions of
    // later days. Messages are taken in primary-key order, by application (the order the key
    // serves; each partition is read along its key). Rows of a concurrent purge on another
    // node are skipped, never waited for.
    const bound = idBoundary('message', rowCutoff);
    return this.c.sql.begin(async (tx) => {
      const picked = await tx`
        SELECT m.app_id, m.id, m.created_at FROM messages m
        -- A probe of the message's deliveries per message (a lateral join: NOT EXISTS would be
        -- planned as an anti-join walking every delivery).
        LEFT JOIN LATERAL (SELECT 1 AS open FROM deliveries d WHERE d.app_id = m.app_id AND d.message_id = m.id AND d.status IN (1, 3) LIMIT 1) o ON TRUE
        WHERE m.id < ${bound} AND m.created_at < ${rowCutoff} AND o.open IS NULL
        ORDER BY m.app_id, m.id LIMIT ${limit} FOR UPDATE OF m SKIP LOCKED`;
      if (picked.length === 0) return 0;
      const keys = { apps: picked.map((r) => r.app_id as string), ids: picked.map((r) => r.id as string) };
      await deleteAttemptsOf(tx, keys, Math.min(...picked.map((r) => r.created_at as number)));
      await tx`DELETE FROM deliveries WHERE (app_id, message_id) IN ${inKeys(tx, keys)}`;
      await tx`DELETE FROM message_event_ids WHERE (app_id, message_id) IN ${inKeys(tx, keys)}`;
      await tx`DELETE FROM messages WHERE (app_id, id) IN ${inKeys(tx, keys)} AND id < ${bound}`;
      return picked.length;
    });
  }

  async maintainPartitions(nowMs: number, cutoffMs: number | null): Promise<PartitionUpkeep> {
    const done: PartitionUpkeep = { created: [], dropped: [], droppedMessages: 0, kept: [], skipped: [] };
    await maintainAttemptPartitions(this.c, nowMs, cutoffMs, done);
    await maintainMessagePartitions(this.c, nowMs, cutoffMs, done);
    return done;
  }
}
