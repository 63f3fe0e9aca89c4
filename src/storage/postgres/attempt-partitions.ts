/**
 * Daily partitions of `attempts` on PostgreSQL (migration 0034): the partitions of the days
 * ahead are created before rows arrive, and partitions wholly past retention are dropped, a
 * `DROP TABLE` instead of deleting their rows message by message.
 *
 * Each change is a short transaction of its own under the schema's partition lock (nodes
 * doing upkeep at once take turns, and each finds the other's work done) with a lock
 * timeout: a change that would wait long behind a reader of `attempts` gives up until the
 * next round rather than queue the attempt writes behind it.
 */
import type { Sql, TransactionSql } from 'postgres';
import type { PartitionUpkeep } from '../contract/retention.js';
import { attemptPartitionLockKey } from './advisory-locks.js';
import type { PgConnection } from './connection.js';

const DAY_MS = 86_400_000;
/** Days after today whose partitions are created ahead. */
export const PARTITION_DAYS_AHEAD = 3;
/** The partition taking rows no other partition covers (created by migration 0034). */
const DEFAULT_PARTITION = 'attempts_default';
/**
 * Slack on the time range of a message's attempts, which bounds `created_at` so that only
 * the partitions of that range are read: clocks of nodes differ, and a node whose lease
 * expired mid-attempt records its attempt after the delivery moved on.
 */
export const ATTEMPT_TIME_SLACK_MS = DAY_MS;
/** How long a change waits for a lock (the partition lock, or a table lock behind readers). */
const LOCK_TIMEOUT = '2s';

/** A partition of `attempts` and its range of `created_at`, [from, to); null is unbounded. */
export interface AttemptPartition {
  name: string;
  from: number | null;
  to: number | null;
  isDefault: boolean;
}

/** The name of the partition of the UTC day that starts at `dayMs`: `attempts_pYYYYMMDD`. */
export function dayPartitionName(dayMs: number): string {
  return 'attempts_p' + new Date(dayMs).toISOString().slice(0, 10).replaceAll('-', '');
}

/** The partitions of `attempts`, with their ranges. */
export async function attemptPartitions(sql: Sql | TransactionSql): Promise<AttemptPartition[]> {
  const rows = await sql<{ name: string; bound: string }[]>`
    SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'attempts'::regclass ORDER BY c.relname`;
  return rows.map((r) => partitionOf(r.name, r.bound));
}

function partitionOf(name: string, bound: string): AttemptPartition {
  if (bound === 'DEFAULT') return { name, from: null, to: null, isDefault: true };
  const m = /^FOR VALUES FROM \((.+)\) TO \((.+)\)$/.exec(bound);
  if (!m) throw new Error(`attempts partition ${name} has a bound of an unexpected form: ${bound}`);
  return { name, from: boundValue(m[1]!), to: boundValue(m[2]!), isDefault: false };
}

function boundValue(v: string): number | null {
  return v === 'MINVALUE' || v === 'MAXVALUE' ? null : Number(v.replace(/'/g, ''));
}

function overlaps(p: AttemptPartition, from: number, to: number): boolean {
  return !p.isDefault && (p.from === null || p.from < to) && (p.to === null || p.to > from);
}

/** A partition name as a quoted identifier (the names are ours, but quoted all the same). */
function ident(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

/**
 * Creates the partition of [from, to) unless a partition covers part of it already. Rows of
 * the range sitting in the default partition (no partition existed when they were written)
 * move into it in the same transaction: PostgreSQL refuses a partition that rows of the
 * default partition belong to. Returns whether it created the partition.
 */
export async function createAttemptPartition(tx: TransactionSql, from: number, to: number): Promise<boolean> {
  const existing = await attemptPartitions(tx);
  if (existing.some((p) => overlaps(p, from, to))) return false;
  const name = ident(dayPartitionName(from));
  // Built beside the table and attached: attaching locks `attempts` less than creating a
  // partition of it does (attempt writes and reads of other partitions go on).
  await tx.unsafe(`CREATE TABLE ${name} (LIKE attempts INCLUDING ALL)`);
  if (existing.some((p) => p.isDefault)) {
    await tx.unsafe(`WITH moved AS (DELETE FROM ${ident(DEFAULT_PARTITION)} WHERE created_at >= ${from} AND created_at < ${to} RETURNING *)
                     INSERT INTO ${name} SELECT * FROM moved`);
  }
  await tx.unsafe(`ALTER TABLE attempts ATTACH PARTITION ${name} FOR VALUES FROM (${from}) TO (${to})`);
  return true;
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
    CROSS JOIN LATERAL (SELECT 1 FROM ${ident(name)} a WHERE a.message_id = d.message_id LIMIT 1) a
    WHERE d.status IN (1, 3) LIMIT 1`);
  if (open) return false;
  await tx.unsafe(`DROP TABLE ${ident(name)}`);
  return true;
}

/** Partition upkeep of one store (`RetentionStore.maintainAttemptPartitions`). */
export async function maintainAttemptPartitions(c: PgConnection, nowMs: number, cutoffMs: number | null): Promise<PartitionUpkeep> {
  const done: PartitionUpkeep = { created: [], dropped: [], kept: [], skipped: [] };
  const today = Math.floor(nowMs / DAY_MS) * DAY_MS;
  for (let day = today; day <= today + PARTITION_DAYS_AHEAD * DAY_MS; day += DAY_MS) {
    const name = dayPartitionName(day);
    const created = await step(c, done, name, (tx) => createAttemptPartition(tx, day, day + DAY_MS));
    if (created) done.created.push(name);
  }
  if (cutoffMs === null) return done;
  let past: AttemptPartition[];
  try {
    past = (await attemptPartitions(c.sql)).filter((p) => !p.isDefault && p.to !== null && p.to <= cutoffMs);
  } catch (err) {
    done.skipped.push({ partition: 'attempts', reason: `listing the partitions failed: ${(err as Error).message}` });
    return done;
  }
  for (const p of past) {
    const dropped = await step(c, done, p.name, (tx) => dropUnlessOpen(tx, p.name));
    if (dropped === true) done.dropped.push(p.name);
    else if (dropped === false) done.kept.push(p.name);
  }
  return done;
}

/** Runs one change in its own transaction under the partition lock; a failure is noted in `skipped`, never thrown. */
async function step(c: PgConnection, done: PartitionUpkeep, partition: string, change: (tx: TransactionSql) => Promise<boolean>): Promise<boolean | null> {
  try {
    return await c.sql.begin(async (tx) => {
      const key = attemptPartitionLockKey(await c.schema(tx));
      await tx.unsafe(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
      await tx`SELECT pg_advisory_xact_lock(${key}::bigint)`;
      return change(tx);
    });
  } catch (err) {
    done.skipped.push({ partition, reason: (err as Error).message });
    return null;
  }
}
