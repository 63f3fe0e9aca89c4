/**
 * PostgreSQL for tests: the server at SWITCHBOARD_TEST_DATABASE_URL, one fresh schema per
 * use (so concurrent runs never collide), dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { PostgresStore } from '../../src/storage/postgres/postgres-store.js';

export const TEST_DATABASE_URL = process.env.SWITCHBOARD_TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

export interface TestSchema {
  /** The schema's name. */
  schema: string;
  /** TEST_DATABASE_URL with `search_path` set to the schema (for child processes). */
  url: string;
  /** A store on the schema (not yet migrated); closed by `drop`. */
  store(max?: number): PostgresStore;
  /** Closes the stores made here and drops the schema. */
  drop(): Promise<void>;
}

function admin(): postgres.Sql {
  return postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
}

/** Creates a uniquely named schema. */
export async function createTestSchema(prefix = 'sbtest'): Promise<TestSchema> {
  const schema = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const sql = admin();
  try {
    await sql`CREATE SCHEMA ${sql(schema)}`;
  } finally {
    await sql.end();
  }
  const u = new URL(TEST_DATABASE_URL);
  u.searchParams.set('search_path', schema);
  const stores: PostgresStore[] = [];
  return {
    schema,
    url: u.toString(),
    store(max = 5) {
      const s = new PostgresStore({ url: TEST_DATABASE_URL, schema, max });
      stores.push(s);
      return s;
    },
    async drop() {
      for (const s of stores) await s.close();
      const a = admin();
      try {
        await a`DROP SCHEMA IF EXISTS ${a(schema)} CASCADE`;
      } finally {
        await a.end();
      }
    },
  };
}
