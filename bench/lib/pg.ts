/**
 * PostgreSQL for the benchmarks: a fresh schema per run in the database at
 * BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), dropped afterwards,
 * named like the test suite's (`<prefix>_<time>_<random>`), so runs never collide.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

export const BENCH_DATABASE_URL = process.env['BENCH_DATABASE_URL'] || 'postgres://postgres@127.0.0.1:5432/test';

export interface BenchSchema {
  schema: string;
  /**
   * The database URL for one node: `search_path` set to the schema and `application_name`
   * to `<schema>_<node>`, so that node's database sessions can be found.
   */
  url(node: string): string;
  /** Process ids of the database backends serving that node's sessions. */
  backendPids(node: string): Promise<number[]>;
  /**
   * Process ids of the server's own processes that work for every session of the database
   * server (WAL writer, background writer, checkpointer, autovacuum): shared with anything else
   * using that server, so reported apart from the sessions.
   */
  sharedPids(): Promise<number[]>;
  /** Deliveries of the schema counted by status (0 delivered, 1 pending, 2 failed, 3 sending). */
  deliveryStatusCounts(): Promise<Record<number, number>>;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

function admin(): postgres.Sql {
  return postgres(BENCH_DATABASE_URL, { max: 1, onnotice: () => {} });
}

export async function createBenchSchema(prefix = 'sbbench'): Promise<BenchSchema> {
  const schema = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const sql = admin();
  try {
    await sql`CREATE SCHEMA ${sql(schema)}`;
  } catch (err) {
    await sql.end();
    throw new Error(`cannot create a schema in ${BENCH_DATABASE_URL} (set BENCH_DATABASE_URL): ${err instanceof Error ? err.message : String(err)}`);
  }
  const appName = (node: string): string => `${schema}_${node}`.slice(0, 63);
  return {
    schema,
    url(node) {
      const u = new URL(BENCH_DATABASE_URL);
      u.searchParams.set('search_path', schema);
      u.searchParams.set('application_name', appName(node));
      return u.toString();
    },
    async backendPids(node) {
      const rows = await sql<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE application_name = ${appName(node)}`;
      return rows.map((r) => Number(r.pid));
    },
    async sharedPids() {
      const rows = await sql<{ pid: number }[]>`SELECT pid FROM pg_stat_activity WHERE backend_type <> 'client backend'`;
      return rows.map((r) => Number(r.pid));
    },
    async deliveryStatusCounts() {
      const rows = await sql<{ status: number; n: number }[]>`SELECT status, count(*)::int AS n FROM ${sql(schema)}.deliveries GROUP BY status`;
      return Object.fromEntries(rows.map((r) => [Number(r.status), Number(r.n)]));
    },
    async drop() {
      try {
        await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`;
      } finally {
        await sql.end();
      }
    },
  };
}
