/**
 * Forward-only migrations for PostgreSQL: `migrations/NNNN_description.sql`, each applied
 * once, in its own transaction, recorded in `schema_migrations`. Every transaction first
 * takes a transaction-scoped advisory lock of its schema, so nodes starting together apply
 * each migration exactly once and never see a half-applied schema, while deployments in
 * other schemas of the database migrate at the same time without waiting.
 */
import { fileURLToPath } from 'node:url';
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

/**
 * Applies pending migrations in the connection's schema (the first of its `search_path`,
 * created if missing). Returns the names of the ones applied now.
 */
export async function runMigrations(sql: Sql, dir = MIGRATIONS_DIR): Promise<string[]> {
  const applied: string[] = [];
  const lockKey = migrationLockKey(await targetSchema(sql));
  for (const file of migrationFiles(dir)) {
    const done = await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${lockKey}::bigint)`;
      await ensureSchema(tx);
      await tx`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`;
      const [row] = await tx`SELECT 1 AS x FROM schema_migrations WHERE version = ${file.version}`;
      if (row) return false;
      await tx.unsafe(migrationSql(dir, file)).simple();
      await tx`INSERT INTO schema_migrations (version, name, applied_at) VALUES (${file.version}, ${file.name}, ${Date.now()})`;
      return true;
    });
    if (done) applied.push(file.name);
  }
  return applied;
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
