/**
 * Forward-only migrations for PostgreSQL: `migrations/NNNN_description.sql`, each applied
 * once, in its own transaction, recorded in `schema_migrations`. Every transaction first
 * takes a transaction-scoped advisory lock of its schema, so nodes starting together apply
 * each migration exactly once and never see a half-applied schema, while deployments in
 * other schemas of the database migrate at the same time without waiting.
 *
 * A migration's statements wait for their table locks with a lock timeout. Such a lock (an
 * `ALTER TABLE`'s, say) must wait for every transaction that has used the table, and while it
 * waits every later statement on the table queues behind it: left unbounded, one long
 * transaction (an operator's session left open, a long report) would stop every node's
 * publishes and deliveries for as long as it lasts. Instead the migration gives up after the
 * timeout, says who holds the locks, and tries again a few seconds later.
 */
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Sql, TransactionSql } from 'postgres';
import { migrationFiles as listMigrations, migrationSql } from '../shared/migrations.js';
import type { MigrationFile } from '../shared/migrations.js';
import { migrationLockKey } from './advisory-locks.js';

export type { MigrationFile } from '../shared/migrations.js';

/** Directory holding this dialect's NNNN_description.sql files. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/** The migration files of a directory (by default this dialect's), in order. */
export function migrationFiles(dir = MIGRATIONS_DIR): MigrationFile[] {
  return listMigrations(dir);
}

export interface MigrationOptions {
  /** How long a migration's statement waits for a table lock before the attempt gives up. */
  lockTimeoutMs?: number;
  /** The pause before a migration that gave up is tried again. */
  retryPauseMs?: number;
  /** Told, in words, each time a migration gave up waiting for a lock, and who holds the locks. */
  onWait?: (waiting: string) => void;
}

/** The lock timeout of a migration's statements: long enough for the hot path's transactions (milliseconds) to end. */
export const MIGRATION_LOCK_TIMEOUT_MS = 2000;
/** The pause before a migration that gave up waiting for a lock is tried again. */
export const MIGRATION_RETRY_PAUSE_MS = 5000;
/** PostgreSQL's `lock_not_available`: a lock timeout ran out. */
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * Applies pending migrations in the connection's schema (the first of its `search_path`,
 * created if missing). Returns the names of the ones applied now. A migration that cannot
 * take a table lock within the lock timeout is tried again until it can.
 */
export async function runMigrations(sql: Sql, dir = MIGRATIONS_DIR, o: MigrationOptions = {}): Promise<string[]> {
  const lockTimeoutMs = o.lockTimeoutMs ?? MIGRATION_LOCK_TIMEOUT_MS;
  const pauseMs = o.retryPauseMs ?? MIGRATION_RETRY_PAUSE_MS;
  const applied: string[] = [];
  const schema = await targetSchema(sql);
  const lockKey = migrationLockKey(schema);
  for (const file of migrationFiles(dir)) {
    for (;;) {
      try {
        const done = await sql.begin(async (tx) => {
          // No statement timeout: one set on the role or the database (as managed services do)
          // would cut short the wait for another node's migration, or an index build, and stop
          // the upgrade. Nor a lock timeout (a node's sessions have one) for that wait.
          await tx.unsafe('SET LOCAL statement_timeout = 0; SET LOCAL lock_timeout = 0').simple();
          await tx`SELECT pg_advisory_xact_lock(${lockKey}::bigint)`;
          await ensureSchema(tx);
          await tx`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`;
          const [row] = await tx`SELECT 1 AS x FROM schema_migrations WHERE version = ${file.version}`;
          if (row) return false;
          // After the advisory lock: another node's migration may hold that one for minutes.
          await tx.unsafe(`SET LOCAL lock_timeout = ${Math.max(1, Math.round(lockTimeoutMs))}`);
          await tx.unsafe(migrationSql(dir, file)).simple();
          await tx`INSERT INTO schema_migrations (version, name, applied_at) VALUES (${file.version}, ${file.name}, ${Date.now()})`;
          return true;
        });
        if (done) applied.push(file.name);
        break;
      } catch (e) {
        if ((e as { code?: unknown }).code !== LOCK_NOT_AVAILABLE) throw e;
        const holders = await lockHolders(sql, schema, lockTimeoutMs).catch(() => 'sessions this one cannot see');
        o.onWait?.(`migration ${file.name} waited ${lockTimeoutMs} ms for a lock on its tables, held by ${holders}; trying again in ${pauseMs} ms`);
        await sleep(pauseMs);
      }
    }
  }
  return applied;
}

/**
 * The other sessions holding locks on tables of `schema` in transactions older than
 * `olderThanMs`, in words, oldest first (the hot path's transactions last milliseconds).
 */
async function lockHolders(sql: Sql, schema: string, olderThanMs: number): Promise<string> {
  const rows = await sql<{ pid: number; app: string; state: string | null; secs: number; query: string | null }[]>`
    SELECT DISTINCT a.pid, a.application_name AS app, a.state, extract(epoch FROM now() - a.xact_start)::int AS secs, left(a.query, 120) AS query
    FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.granted AND l.locktype = 'relation' AND a.pid <> pg_backend_pid()
      AND l.relation IN (SELECT c.oid FROM pg_class c WHERE c.relnamespace = to_regnamespace(${schema}))
      AND a.xact_start < now() - make_interval(secs => ${olderThanMs / 1000})
    ORDER BY secs DESC, a.pid LIMIT 5`;
  if (rows.length === 0) return 'transactions that have ended since';
  return rows
    .map((r) => `session ${r.pid} (${r.app || 'no application name'}, ${r.state ?? 'state unknown'}, in a transaction for ${r.secs} s${r.query ? `, last statement: ${r.query.replace(/\s+/g, ' ')}` : ''})`)
    .join(', ');
}

/** Versions recorded as applied (empty before the first migration). */
export async function appliedVersions(sql: Sql): Promise<number[]> {
  const [t] = await sql`SELECT to_regclass('schema_migrations') AS t`;
  if (!t?.t) return [];
  return (await sql`SELECT version FROM schema_migrations ORDER BY version`).map((r) => r.version as number);
}

/**
 * The schema the tables go in: the current schema, or, before it exists, the first of the
 * search path (which `ensureSchema` creates).
 */
async function targetSchema(sql: Sql | TransactionSql): Promise<string> {
  const [r] = await sql<{ s: string | null; p: string }[]>`SELECT current_schema() AS s, current_setting('search_path') AS p`;
  if (r?.s) return r.s;
  const first = String(r?.p ?? '')
    .split(',')[0]
    ?.trim()
    .replace(/^"(.*)"$/, '$1');
  if (!first || first === '$user') throw new Error('the database search_path names no schema to create the tables in');
  return first;
}

/** Creates the first schema of the search path if it does not exist yet (under the migration lock). */
async function ensureSchema(tx: TransactionSql): Promise<void> {
  const [cur] = await tx`SELECT current_schema() AS s`;
  if (cur?.s) return;
  await tx`CREATE SCHEMA IF NOT EXISTS ${tx(await targetSchema(tx))}`;
}
