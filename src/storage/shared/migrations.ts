/**
 * Forward-only migrations, the same scheme on both databases: each dialect's `migrations/`
 * folder holds `NNNN_description.sql` files, applied once each, in order, and recorded in
 * `schema_migrations`. Each dialect runs them in its own kind of transaction.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A migration file and the version its name starts with. */
export interface MigrationFile {
  version: number;
  name: string;
}

/** The migration files of a directory, in order. */
export function migrationFiles(dir: string): MigrationFile[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_.+\.sql$/.test(f))
    .sort()
    .map((name) => ({ version: Number(name.slice(0, 4)), name }));
}

/** The SQL of one migration file. */
export function migrationSql(dir: string, file: MigrationFile): string {
  return readFileSync(join(dir, file.name), 'utf8');
}

