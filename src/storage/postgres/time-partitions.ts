/**
 * Daily partitions of a table partitioned by time on PostgreSQL: `attempts` by `created_at`
 * (migration 0034, attempt-partitions.ts) and `messages` by id, whose ids begin with their
 * creation time (migration 0037, message-partitions.ts). The partitions of the days ahead are
 * created before rows arrive, and partitions wholly past retention are dropped, a `DROP
 * TABLE` instead of deleting their rows one by one.
 *
 * Each change is a short transaction of its own under the schema's partition lock (nodes
 * doing upkeep at once take turns, and each finds the other's work done) with a lock
 * timeout: a change that would wait long behind a reader of the table gives up until the
 * next round rather than queue the hot path's writes behind it.
 */
import type { Sql, TransactionSql } from 'postgres';
import type { PartitionUpkeep } from '../contract/retention.js';
import { partitionLockKey } from './advisory-locks.js';
import type { PgConnection } from './connection.js';

export const DAY_MS = 86_400_000;
/** Days after today whose partitions are created ahead. */
export const PARTITION_DAYS_AHEAD = 3;
/** How long a change waits for a lock (the partition lock, or a table lock behind readers). */
const LOCK_TIMEOUT = '2s';

/** A table partitioned by day, and how its partition key measures time. */
export interface DailyTable {
  /** The partitioned table. */
  table: string;
  /** Its default partition, taking rows no other partition covers. */
  defaultPartition: string;
  /** The partition key's value at the start of `dayMs`, as an SQL literal. */
  boundLiteral(dayMs: number): string;
  /** The time (epoch ms) of a partition bound as `pg_get_expr` prints it (a literal, quoted or not). */
  boundTime(literal: string): number;
  /** The rows of [fromMs, toMs), as an SQL condition on the partition key. */
  rangeCondition(fromMs: number, toMs: number): string;
}

/** A partition and its range of time, [from, to); null is unbounded. */
export interface TimePartition {
  name: string;
  from: number | null;
  to: number | null;
  isDefault: boolean;
}

/** The name of `t`'s partition of the UTC day that starts at `dayMs`: `<table>_pYYYYMMDD`. */
export function dayPartitionName(t: DailyTable, dayMs: number): string {
  return `${t.table}_p` + new Date(dayMs).toISOString().slice(0, 10).replaceAll('-', '');
}

/** The partitions of `t`, with their ranges. */
export async function partitionsOf(sql: Sql | TransactionSql, t: DailyTable): Promise<TimePartition[]> {
  const rows = await sql<{ name: string; bound: string }[]>`
    SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = ${t.table}::regclass ORDER BY c.relname`;
  return rows.map((r) => partitionOf(t, r.name, r.bound));
}

function partitionOf(t: DailyTable, name: string, bound: string): TimePartition {
  if (bound === 'DEFAULT') return { name, from: null, to: null, isDefault: true };
  const m = /^FOR VALUES FROM \((.+)\) TO \((.+)\)$/.exec(bound);
  if (!m) throw new Error(`${t.table} partition ${name} has a bound of an unexpected form: ${bound}`);
  const time = (v: string) => (v === 'MINVALUE' || v === 'MAXVALUE' ? null : t.boundTime(v));
  return { name, from: time(m[1]!), to: time(m[2]!), isDefault: false };
}

function overlaps(p: TimePartition, from: number, to: number): boolean {
  return !p.isDefault && (p.from === null || p.from < to) && (p.to === null || p.to > from);
}

/** The partition of `t` holding time `at`, other than the default one (none if no partition covers it). */
export function partitionAt(partitions: TimePartition[], at: number): TimePartition | undefined {
  return partitions.find((p) => !p.isDefault && (p.from === null || p.from <= at) && (p.to === null || p.to > at));
}

/** A partition name as a quoted identifier (the names are ours, but quoted all the same). */
export function ident(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

/**
 * Creates `t`'s partition of [from, to) unless a partition covers part of it already. Rows of
 * the range sitting in the default partition (no partition existed when they were written)
 * move into it in the same transaction: PostgreSQL refuses a partition that rows of the
 * default partition belong to. Returns whether it created the partition.
 *
 * Writes to `t` wait while it is created (a SHARE lock on the table, taken only when there is
 * a partition to create): a row being inserted could otherwise be routed to the default
 * partition by the partitions as they were before, and fail the default partition's new
 * constraint once the new partition is attached. This matters when the day being created
 * already receives rows (the first start after a long stop, a clock moved forward); the days
 * ahead are normally created long before.
 */
export async function createDayPartition(tx: TransactionSql, t: DailyTable, from: number, to: number): Promise<boolean> {
  const existing = await partitionsOf(tx, t);
  if (existing.some((p) => overlaps(p, from, to))) return false;
  await tx.unsafe(`LOCK TABLE ${t.table} IN SHARE MODE`);
  const name = ident(dayPartitionName(t, from));
  // Built beside the table and attached: attaching locks the table less than creating a
  // partition of it does (writes and reads of other partitions go on).
  await tx.unsafe(`CREATE TABLE ${name} (LIKE ${t.table} INCLUDING ALL)`);
  if (existing.some((p) => p.isDefault)) {
    await tx.unsafe(`WITH moved AS (DELETE FROM ${ident(t.defaultPartition)} WHERE ${t.rangeCondition(from, to)} RETURNING *)
                     INSERT INTO ${name} SELECT * FROM moved`);
  }
  await tx.unsafe(`ALTER TABLE ${t.table} ATTACH PARTITION ${name} FOR VALUES FROM (${t.boundLiteral(from)}) TO (${t.boundLiteral(to)})`);
  return true;
}

/** Creates `t`'s partitions of today and the days ahead that are missing; notes them in `done`. */
export async function createDaysAhead(c: PgConnection, t: DailyTable, nowMs: number, done: PartitionUpkeep): Promise<void> {
  const today = Math.floor(nowMs / DAY_MS) * DAY_MS;
  for (let day = today; day <= today + PARTITION_DAYS_AHEAD * DAY_MS; day += DAY_MS) {
    const name = dayPartitionName(t, day);
    const created = await partitionStep(c, done, name, (tx) => createDayPartition(tx, t, day, day + DAY_MS));
    if (created) done.created.push(name);
  }
}

/**
 * `t`'s partitions whose whole range is older than `cutoffMs` (the default partition never),
 * oldest first; null, noted in `done`, when they could not be listed.
 */
export async function partitionsPast(c: PgConnection, t: DailyTable, cutoffMs: number, done: PartitionUpkeep): Promise<TimePartition[] | null> {
  try {
    return (await partitionsOf(c.sql, t)).filter((p) => !p.isDefault && p.to !== null && p.to <= cutoffMs).sort((a, b) => (a.to ?? 0) - (b.to ?? 0));
  } catch (err) {
    done.skipped.push({ partition: t.table, reason: `listing the partitions failed: ${(err as Error).message}` });
    return null;
  }
}

/** Runs one change in its own transaction under the partition lock; a failure is noted in `skipped`, never thrown. */
export async function partitionStep<T>(c: PgConnection, done: PartitionUpkeep, partition: string, change: (tx: TransactionSql) => Promise<T>): Promise<T | null> {
  try {
    return await c.sql.begin(async (tx) => {
      const key = partitionLockKey(await c.schema(tx));
      await tx.unsafe(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
      await tx`SELECT pg_advisory_xact_lock(${key}::bigint)`;
      return change(tx);
    }) as T;
  } catch (err) {
    done.skipped.push({ partition, reason: (err as Error).message });
    return null;
  }
}
