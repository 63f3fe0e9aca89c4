/**
 * Daily partitions of `attempts` on PostgreSQL (migration 0034), by `created_at`: the days
 * ahead created, and days wholly past retention dropped (time-partitions.ts) unless an
 * unfinished delivery's history is in them.
 */
import type { TransactionSql } from 'postgres';
import type { PartitionUpkeep } from '../contract/retention.js';
import type { PgConnection } from './connection.js';
import { createDayPartition, createDaysAhead, DAY_MS, ident, partitionsPast, partitionStep } from './time-partitions.js';
import type { DailyTable } from './time-partitions.js';

/**
 * Slack on the time range of a message's attempts, which bounds `created_at` so that only
 * the partitions of that range are read: clocks of nodes differ, and a node whose lease
 * expired mid-attempt records its attempt after the delivery moved on.
 */
export const ATTEMPT_TIME_SLACK_MS = DAY_MS;

/** `attempts`, partitioned by `created_at` (ms since epoch). */
export const ATTEMPTS: DailyTable = {
  table: 'attempts',
  defaultPartition: 'attempts_default',
  boundLiteral: (dayMs) => String(dayMs),
  boundTime: (literal) => Number(literal.replace(/'/g, '')),
  rangeCondition: (from, to) => `created_at >= ${from} AND created_at < ${to}`,
};

/** Creates the partition of attempts of [from, to) (`createDayPartition`); returns whether it did. */
export function createAttemptPartition(tx: TransactionSql, from: number, to: number): Promise<boolean> {
  return createDayPartition(tx, ATTEMPTS, from, to);
}

/**
 * Drops partition `name` unless one of its attempts belongs to a message with an unfinished
 * delivery (pending or sending): that delivery's history stays. Returns whether it dropped.
 */
async function dropUnlessOpen(tx: TransactionSql, name: string): Promise<boolean> {
  // One probe of the partition's message index per unfinished delivery (few, and found on
  // the partial index of unfinished deliveries), never a walk of the partition.
  const [open] = await tx.unsafe(`
    SELECT 1 AS x FROM deliveries d
    CROSS JOIN LATERAL (SELECT 1 FROM ${ident(name)} a WHERE a.app_id = d.app_id AND a.message_id = d.message_id LIMIT 1) a
    WHERE d.status IN (1, 3) LIMIT 1`);
  if (open) return false;
  await tx.unsafe(`DROP TABLE ${ident(name)}`);
  return true;
}

/** Partition upkeep of attempts: notes in `done` what it created, dropped, kept and skipped. */
export async function maintainAttemptPartitions(c: PgConnection, nowMs: number, cutoffMs: number | null, done: PartitionUpkeep): Promise<void> {
  await createDaysAhead(c, ATTEMPTS, nowMs, done);
  if (cutoffMs === null) return;
  for (const p of (await partitionsPast(c, ATTEMPTS, cutoffMs, done)) ?? []) {
    const dropped = await partitionStep(c, done, p.name, (tx) => dropUnlessOpen(tx, p.name));
    if (dropped === true) done.dropped.push(p.name);
    else if (dropped === false) done.kept.push(p.name);
  }
}
