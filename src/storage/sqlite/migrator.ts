/** Forward-only migrations for SQLite: each file applied once, in an immediate transaction. */
import type { Database } from 'better-sqlite3';
import { fileURLToPath } from 'node:url';
import { migrationFiles, migrationSql } from '../shared/migrations.js';

/** Directory holding this dialect's NNNN_description.sql files. */
const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/** Applies the migrations not yet recorded in `schema_migrations`. */
export function runSqliteMigrations(db: Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const applied = new Set((db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
  for (const file of migrationFiles(MIGRATIONS_DIR)) {
    if (applied.has(file.version)) continue;
    const sql = migrationSql(MIGRATIONS_DIR, file);
    db.transaction(() => {
      db.exec(sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(file.version, file.name, Date.now());
    }).immediate();
  }
}
