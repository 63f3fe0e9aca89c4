/**
 * Daily partitions of `messages` on PostgreSQL (migration 0037), by id: message ids begin
 * with their creation time, so a day's messages are the ids from the day's boundary id to the
 * next day's. The days ahead are created and days wholly past retention dropped
 * (time-partitions.ts), unless one of their messages still has an unfinished delivery.
 *
 * Dropping a day of messages takes what hangs off them first, in batches of their own
 * (each a short transaction, so none holds locks or bloats the WAL at once): the attempts
 * recorded for them after their day (those of their day went with the attempts' own
 * partition) and their deliveries, which stay one table (the engine finds an endpoint's due
 * deliveries across every day; split by day, each claim would probe each day's index). The
 * drop itself is one transaction: no unfinished delivery appeared meanwhile, the pull
 * horizon is raised past the day's positions (a cursor below it answers 410, as after a
 * purge), the day's event ids are released, and the table goes.
 */
import type { TransactionSql } from 'postgres';
import { idBoundary, idTime } from '../../domain/ids.js';
import type { PartitionUpkeep } from '../contract/retention.js';
import { ATTEMPT_TIME_SLACK_MS } from './attempt-partitions.js';
import type { PgConnection } from './connection.js';
import { createDaysAhead, ident, partitionsPast, partitionStep } from './time-partitions.js';
import type { DailyTable, TimePartition } from './time-partitions.js';

/** Rows deleted per statement ahead of a drop. */
const BATCH = 5_000;

/** The boundary id of a time, as an SQL literal (its characters are base62 and the prefix). */
function idLiteral(ms: number): string {
  return `'${idBoundary('message', ms)}'`;
}

/** `messages`, partitioned by id (ids begin with their creation time). */
export const MESSAGES: DailyTable = {
  table: 'messages',
  defaultPartition: 'messages_default',
  boundLiteral: idLiteral,
  boundTime: (literal) => {
    const t = idTime('message', literal.replace(/^'(.*)'$/, '$1'));
    if (t === null) throw new Error(`messages partition bound ${literal} is not a message id`);
    return t;
  },
  rangeCondition: (from, to) => `id >= ${idLiteral(from)} AND id < ${idLiteral(to)}`,
};

/** The condition on a message id column for partition `p`'s range. */
function inRange(column: string, p: TimePartition): string {
  const lower = p.from === null ? [] : [`${column} >= ${idLiteral(p.from)}`];
  return [...lower, `${column} < ${idLiteral(p.to ?? Number.MAX_SAFE_INTEGER)}`].join(' AND ');
}

/** Whether a message of partition `p` has a delivery pending or sending (found on the partial index of unfinished deliveries). */
async function hasOpenDelivery(sql: PgConnection['sql'] | TransactionSql, p: TimePartition): Promise<boolean> {
  const [open] = await sql.unsafe(`SELECT 1 AS x FROM deliveries WHERE status IN (1, 3) AND ${inRange('message_id', p)} LIMIT 1`);
  return open !== undefined;
}

/** Deletes, a batch per statement, the attempts and deliveries of partition `p`'s messages. */
async function deleteDependents(c: PgConnection, p: TimePartition): Promise<void> {
  // Attempts of the day's messages recorded from the day on (the attempts' own partitions of
  // earlier days went already): a range of each later partition's message index.
  const since = p.from === null ? '' : ` AND created_at >= ${p.from - ATTEMPT_TIME_SLACK_MS}`;
  for (;;) {
    const r = await c.sql.unsafe(`DELETE FROM attempts a USING (SELECT id, created_at FROM attempts WHERE ${inRange('message_id', p)}${since} LIMIT ${BATCH}) x
                                  WHERE a.id = x.id AND a.created_at = x.created_at`);
    if (r.count < BATCH) break;
  }
  for (;;) {
    const r = await c.sql.unsafe(`DELETE FROM deliveries WHERE id IN (SELECT id FROM deliveries WHERE ${inRange('message_id', p)} AND status NOT IN (1, 3) LIMIT ${BATCH})`);
    if (r.count < BATCH) break;
  }
}

/** The drop itself, under the partition lock: false (kept) if an unfinished delivery appeared meanwhile. */
async function dropPartition(tx: TransactionSql, p: TimePartition): Promise<boolean> {
  if (await hasOpenDelivery(tx, p)) return false;
  const part = ident(p.name);
  // The highest position of each application in the partition, one probe of its (app_id,
  // seq) index per application (a skip scan), never a walk of the partition.
  await tx.unsafe(`
    WITH RECURSIVE a AS (
      (SELECT app_id FROM ${part} ORDER BY app_id LIMIT 1)
      UNION ALL
      SELECT (SELECT app_id FROM ${part} WHERE app_id > a.app_id ORDER BY app_id LIMIT 1) FROM a WHERE a.app_id IS NOT NULL),
    top AS (SELECT a.app_id, (SELECT max(seq) FROM ${part} WHERE app_id = a.app_id) AS seq FROM a WHERE a.app_id IS NOT NULL)
    INSERT INTO pull_horizon (app_id, purged_seq) SELECT app_id, seq FROM top WHERE seq IS NOT NULL
    ON CONFLICT (app_id) DO UPDATE SET purged_seq = GREATEST(pull_horizon.purged_seq, EXCLUDED.purged_seq)`);
  await tx.unsafe(`DELETE FROM message_event_ids WHERE ${inRange('message_id', p)}`);
  await tx.unsafe(`DELETE FROM deliveries WHERE ${inRange('message_id', p)}`);
  await tx.unsafe(`DROP TABLE ${part}`);
  return true;
}

/** Partition upkeep of messages: notes in `done` what it created, dropped, kept and skipped. */
export async function maintainMessagePartitions(c: PgConnection, nowMs: number, cutoffMs: number | null, done: PartitionUpkeep): Promise<void> {
  await createDaysAhead(c, MESSAGES, nowMs, done);
  if (cutoffMs === null) return;
  for (const p of (await partitionsPast(c, MESSAGES, cutoffMs, done)) ?? []) {
    try {
      if (await hasOpenDelivery(c.sql, p)) {
        done.kept.push(p.name);
        continue;
      }
      await deleteDependents(c, p);
    } catch (err) {
      done.skipped.push({ partition: p.name, reason: (err as Error).message });
      continue;
    }
    const dropped = await partitionStep(c, done, p.name, (tx) => dropPartition(tx, p));
    if (dropped === true) done.dropped.push(p.name);
    else if (dropped === false) done.kept.push(p.name);
  }
}
