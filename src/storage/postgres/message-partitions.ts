/**
 * Daily partitions of `messages` on PostgreSQL (migration 0037), by id: message ids begin
 * with their creation time, so a day's messages are the ids from the day's boundary id to the
 * next day's. The days ahead are created and days wholly past retention dropped
 * (time-partitions.ts), unless one of their messages still has an unfinished delivery.
 *
 * Dropping a day of messages takes what hangs off them first, walking the day's messages by
 * key in batches of their own (each a few short statements, so none holds locks or bloats the
 * WAL at once): the attempts recorded for them after their day (those of their day went with
 * the attempts' own partition), their deliveries, which stay one table (the engine finds an
 * endpoint's due deliveries across every day; split by day, each claim would probe each day's
 * index), and their event ids. The drop itself is one transaction: no unfinished delivery
 * appeared meanwhile, the pull horizon is raised past the day's positions (a cursor below it
 * answers 410, as after a purge), and the table goes.
 */
import type { TransactionSql } from 'postgres';
import { idBoundary, idTime } from '../../domain/ids.js';
import type { PartitionUpkeep } from '../contract/retention.js';
import { ATTEMPT_TIME_SLACK_MS } from './attempt-partitions.js';
import type { PgConnection } from './connection.js';
import { inKeys } from './app-keys.js';
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

/** Whether a message of partition `p` has a delivery pending or sending (a walk of the partial index of unfinished deliveries, which holds only those). */
async function hasOpenDelivery(sql: PgConnection['sql'] | TransactionSql, p: TimePartition): Promise<boolean> {
  const [open] = await sql.unsafe(`SELECT 1 AS x FROM deliveries WHERE status IN (1, 3) AND ${inRange('message_id', p)} LIMIT 1`);
  return open !== undefined;
}

/**
 * Deletes what hangs off partition `p`'s messages, walking them in key order a batch at a time
 * (each batch its own statements): their attempts recorded from their day on (the attempts'
 * own partitions of earlier days went already), their deliveries and their event ids, all
 * found by the (application, message) keys. Returns how many messages the walk found (a day
 * past retention gets no new ones).
 */
async function deleteDependents(c: PgConnection, p: TimePartition): Promise<number> {
  const since = p.from === null ? 0 : p.from - ATTEMPT_TIME_SLACK_MS;
  let after = { app: '', id: '' };
  let messages = 0;
  for (;;) {
    const batch = await c.sql.unsafe(`SELECT app_id, id FROM ${ident(p.name)} WHERE (app_id, id) > ($1, $2) ORDER BY app_id, id LIMIT ${BATCH}`, [after.app, after.id]);
    if (batch.length === 0) return messages;
    messages += batch.length;
    const keys = { apps: batch.map((r) => r.app_id as string), ids: batch.map((r) => r.id as string) };
    await c.sql`DELETE FROM attempts WHERE (app_id, message_id) IN ${inKeys(c.sql, keys)} AND created_at >= ${since}`;
    await c.sql`DELETE FROM deliveries WHERE (app_id, message_id) IN ${inKeys(c.sql, keys)} AND status NOT IN (1, 3)`;
    await c.sql`DELETE FROM message_event_ids WHERE (app_id, message_id) IN ${inKeys(c.sql, keys)}`;
    const last = batch[batch.length - 1]!;
    after = { app: last.app_id as string, id: last.id as string };
  }
}

/**
 * The drop itself, under the partition lock: false (kept) if an unfinished delivery appeared
 * meanwhile (a resend of one of the day's messages since the batches ran).
 */
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
  await tx.unsafe(`DROP TABLE ${part}`);
  return true;
}

/** Partition upkeep of messages: notes in `done` what it created, dropped, kept and skipped. */
export async function maintainMessagePartitions(c: PgConnection, nowMs: number, cutoffMs: number | null, done: PartitionUpkeep): Promise<void> {
  await createDaysAhead(c, MESSAGES, nowMs, done);
  if (cutoffMs === null) return;
  for (const p of (await partitionsPast(c, MESSAGES, cutoffMs, done)) ?? []) {
    let messages: number;
    try {
      if (await hasOpenDelivery(c.sql, p)) {
        done.kept.push(p.name);
        continue;
      }
      messages = await deleteDependents(c, p);
    } catch (err) {
      done.skipped.push({ partition: p.name, reason: (err as Error).message });
      continue;
    }
    const dropped = await partitionStep(c, done, p.name, (tx) => dropPartition(tx, p));
    if (dropped === true) {
      done.dropped.push(p.name);
      done.droppedMessages += messages;
    } else if (dropped === false) done.kept.push(p.name);
  }
}
