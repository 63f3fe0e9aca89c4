/**
 * PostgreSQL for tests: the server at SWITCHBOARD_TEST_DATABASE_URL, one fresh schema per
 * use (so concurrent runs never collide), dropped at the end.
 *
 * Migrating a schema costs PostgreSQL about 0.3 s of CPU, and the API suite starts over a
 * hundred servers on PostgreSQL. So a test that needs a migrated schema and leaves its
 * structure alone takes one from this process's pool (`migratedTestSchema`): given back,
 * the schema is put back as its migrations left it (rows, sequences, tables) in one short
 * transaction and reused; the pool's schemas are dropped when the process has nothing left
 * to do. Tests of the migrations themselves, or that change a schema's structure, use
 * `createTestSchema`.
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

/**
 * One connection of this process for the pool's work (making, putting back and dropping
 * schemas), instead of one per use: a new PostgreSQL session costs the server about 20 ms
 * of CPU before it runs anything. Closed after half a second unused, so it never holds the
 * process open (the pool's last drops, on `beforeExit`, open it again).
 */
let shared: postgres.Sql | null = null;
function poolAdmin(): postgres.Sql {
  return (shared ??= postgres(TEST_DATABASE_URL, { max: 1, idle_timeout: 0.5, onnotice: () => {} }));
}

/**
 * The catalogs that making and dropping schemas fills with dead rows: a migrated schema is
 * some hundred tables, indexes, sequences and types, each a row in several of these.
 */
const CHURNED_CATALOGS = [
  'pg_class',
  'pg_attribute',
  'pg_type',
  'pg_depend',
  'pg_index',
  'pg_constraint',
  'pg_attrdef',
  'pg_inherits',
  'pg_namespace',
  'pg_sequence',
  'pg_trigger',
  'pg_description',
  'pg_statistic',
];
/** Dead catalog rows past which a test process vacuums the catalogs before making a schema. */
const CATALOG_DEAD_ROWS = 20_000;

/**
 * Vacuums the catalogs when schemas made and dropped have left many dead rows in them. Where
 * autovacuum is off, nothing else removes them: a suite run leaves ~100,000 in `pg_attribute`
 * alone, and every scan of `pg_type` (each new connection's lookup of array types) or
 * `pg_class` slows down with them, run after run. Measured on one API test entry on
 * PostgreSQL with three runs' worth of dead rows, then vacuumed: PostgreSQL's CPU 9.1-9.7 s
 * against 6.2-6.9 s, the test process's 26 against 22.5-23 CPU-s. `SKIP_LOCKED`: a catalog
 * another process is vacuuming is left to it. A user without the right to vacuum a catalog
 * gets a warning from PostgreSQL, not an error. True when it vacuumed.
 */
export async function vacuumBloatedCatalogs(sql: postgres.Sql, deadRows = CATALOG_DEAD_ROWS): Promise<boolean> {
  const [row] = await sql<{ dead: number }[]>`
    SELECT coalesce(sum(n_dead_tup), 0)::int AS dead FROM pg_stat_sys_tables
    WHERE schemaname = 'pg_catalog' AND relname IN ${sql(CHURNED_CATALOGS)}`;
  if ((row?.dead ?? 0) < deadRows) return false;
  await sql.unsafe(`VACUUM (SKIP_LOCKED) ${CHURNED_CATALOGS.map((c) => `pg_catalog.${c}`).join(', ')}`).catch(() => undefined);
  return true;
}

/** Creates a uniquely named schema. */
export async function createTestSchema(prefix = 'sbtest'): Promise<TestSchema> {
  const schema = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const sql = admin();
  try {
    await vacuumBloatedCatalogs(sql);
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

/** What a pooled schema looked like when its migrations were done, to put it back so. */
interface Pristine {
  schema: string;
  /** The tables the migrations made, partitions included. */
  tables: Set<string>;
  /** The tables whose rows are cleared: all but `schema_migrations` and partitions (cleared through their parent). */
  cleared: string[];
  /** Rows the migrations wrote (besides `schema_migrations`), by table, as JSON. */
  seeds: Map<string, string>;
  sequences: string[];
}

const POOL_PREFIX = 'sbpool';
const idle: Pristine[] = [];
let cleanupRegistered = false;

/** The schema's tables (partitioned ones and partitions included), with whether each is a partition. */
async function describeSchema(sql: postgres.Sql, schema: string): Promise<{ name: string; partition: boolean }[]> {
  const rows = await sql<{ name: string; partition: boolean }[]>`
    SELECT c.relname AS name, c.relispartition AS partition
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${schema} AND c.relkind IN ('r', 'p')`;
  return [...rows];
}

async function makePristine(): Promise<Pristine> {
  const schema = `${POOL_PREFIX}_${process.pid}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const sql = poolAdmin();
  try {
    await dropAbandonedPools(sql);
    await vacuumBloatedCatalogs(sql);
    await sql`CREATE SCHEMA ${sql(schema)}`;
    const store = new PostgresStore({ url: TEST_DATABASE_URL, schema, max: 1 });
    try {
      await store.migrate();
    } finally {
      await store.close();
    }
    const tables = await describeSchema(sql, schema);
    const seeds = new Map<string, string>();
    const cleared = tables.filter((t) => !t.partition && t.name !== 'schema_migrations').map((t) => t.name);
    for (const t of cleared) {
      const [r] = await sql<{ rows: string | null }[]>`SELECT json_agg(x)::text AS rows FROM ${sql(schema)}.${sql(t)} x`;
      if (r?.rows) seeds.set(t, r.rows);
    }
    const sequences = (
      await sql<{ name: string }[]>`SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ${schema} AND c.relkind = 'S'`
    ).map((r) => r.name);
    return { schema, tables: new Set(tables.map((t) => t.name)), cleared, seeds, sequences };
  } catch (err) {
    await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`.catch(() => undefined);
    throw err;
  }
}

/**
 * Puts a pooled schema back as its migrations left it. False when its structure changed in
 * a way this does not undo (a table that is not a partition of one of its own appeared), so
 * it must be dropped instead.
 */
async function restore(sql: postgres.Sql, p: Pristine): Promise<boolean> {
  return sql.begin(async (tx) => {
    await tx`SELECT set_config('search_path', ${p.schema}, true)`;
    const now = await describeSchema(tx as unknown as postgres.Sql, p.schema);
    for (const t of now) {
      if (p.tables.has(t.name)) continue;
      // Partitions made since (the attempts of days ahead) go; anything else is a change of structure.
      if (!t.partition) return false;
      await tx`DROP TABLE ${tx(t.name)}`;
    }
    // A table of the migrations that is gone is a change of structure too.
    if (now.filter((t) => p.tables.has(t.name)).length !== p.tables.size) return false;
    // Twice: triggers of the first pass (a deleted message raises its application's pull horizon) write rows.
    const clear = p.cleared.map((t) => `DELETE FROM ${quoted(t)};`).join(' ');
    await tx.unsafe(`${clear} ${clear}`).simple();
    for (const [t, rows] of p.seeds) {
      await tx.unsafe(`INSERT INTO ${quoted(t)} OVERRIDING SYSTEM VALUE SELECT * FROM json_populate_recordset(NULL::${quoted(t)}, $1::text::json)`, [rows]);
    }
    for (const q of p.sequences) await tx.unsafe(`ALTER SEQUENCE ${quoted(q)} RESTART`);
    return true;
  });
}

const quoted = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/** Drops the pool schemas of processes of this machine that are gone (killed before they could drop them). */
async function dropAbandonedPools(sql: postgres.Sql): Promise<void> {
  const rows = await sql<{ name: string }[]>`SELECT nspname AS name FROM pg_namespace WHERE nspname LIKE ${POOL_PREFIX + '\\_%'}`;
  for (const { name } of rows) {
    const pid = Number(name.split('_')[1]);
    if (!Number.isInteger(pid) || pid === process.pid || alive(pid)) continue;
    await sql`DROP SCHEMA IF EXISTS ${sql(name)} CASCADE`.catch(() => undefined);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Drops the idle pool once the process has nothing else to do (the event loop runs again for it, then ends). */
function registerCleanup(): void {
  if (cleanupRegistered) return;
  cleanupRegistered = true;
  process.on('beforeExit', () => {
    if (idle.length === 0) return;
    const gone = idle.splice(0);
    const sql = poolAdmin();
    shared = null;
    // The client's socket alone may not hold the process open until the drops are done.
    const hold = setInterval(() => {}, 1000);
    void (async () => {
      for (const p of gone) await sql`DROP SCHEMA IF EXISTS ${sql(p.schema)} CASCADE`.catch(() => undefined);
      await sql.end();
    })().finally(() => clearInterval(hold));
  });
}

/**
 * A migrated schema of its own, from this process's pool: `drop` puts it back as the
 * migrations left it, for the next test of the process (or drops it, if its structure
 * changed). For tests that leave the schema's structure alone.
 */
export async function migratedTestSchema(): Promise<TestSchema> {
  registerCleanup();
  const p = idle.pop() ?? (await makePristine());
  const u = new URL(TEST_DATABASE_URL);
  u.searchParams.set('search_path', p.schema);
  const stores: PostgresStore[] = [];
  let given = false;
  return {
    schema: p.schema,
    url: u.toString(),
    store(max = 5) {
      const s = new PostgresStore({ url: TEST_DATABASE_URL, schema: p.schema, max });
      stores.push(s);
      return s;
    },
    async drop() {
      if (given) return;
      given = true;
      for (const s of stores) await s.close();
      const sql = poolAdmin();
      if (await restore(sql, p).catch(() => false)) idle.push(p);
      else await sql`DROP SCHEMA IF EXISTS ${sql(p.schema)} CASCADE`;
    },
  };
}
