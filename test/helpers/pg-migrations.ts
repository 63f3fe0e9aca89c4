/**
 * Tests of one PostgreSQL migration on tables already holding rows: a fresh schema and a
 * folder of the migrations before it (the test migrates to there, writes rows as the version
 * before wrote them, then runs the rest); and where a partitioned table's rows landed.
 */
import { after, before } from 'node:test';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS_DIR, migrationFiles } from '../../src/storage/postgres/migrator.js';
import type { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { createTestSchema } from './pg.js';
import type { TestSchema } from './pg.js';

/** Made before the describe's tests and removed after them: a fresh schema, and the migrations before `version` in `dir`. */
export function beforeMigration(version: number): { readonly schema: TestSchema; readonly dir: string } {
  let schema: TestSchema | undefined;
  let dir = '';
  before(async () => {
    schema = await createTestSchema();
    dir = mkdtempSync(join(tmpdir(), 'sb-migrations-')) + '/';
    for (const f of migrationFiles().filter((m) => m.version < version)) copyFileSync(join(MIGRATIONS_DIR, f.name), join(dir, f.name));
  });
  after(async () => {
    await schema?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    get schema(): TestSchema {
      if (!schema) throw new Error('the schema is made before the tests');
      return schema;
    },
    get dir(): string {
      return dir;
    },
  };
}

/** The partitions of `table` in the store's schema, by name. */
export async function tablePartitions(store: PostgresStore, table: string): Promise<string[]> {
  const rows = await store.sql`SELECT c.relname AS n FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = ${table}::regclass ORDER BY 1`;
  return rows.map((r) => r.n as string);
}

/** The partition of `table` holding the row with `id`. */
export async function partitionHolding(store: PostgresStore, table: string, id: string): Promise<string | undefined> {
  const [r] = await store.sql.unsafe(`SELECT tableoid::regclass::text AS p FROM ${table} WHERE id = $1`, [id]);
  return r?.p as string | undefined;
}
