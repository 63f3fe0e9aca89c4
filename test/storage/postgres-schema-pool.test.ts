/**
 * The pool of migrated schemas that PostgreSQL tests share within a process
 * (test/helpers/pg.ts): a schema given back comes out again exactly as its migrations left
 * it, and one whose structure changed is dropped instead of reused. Where autovacuum is off,
 * the catalogs that making and dropping schemas fills with dead rows are vacuumed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import postgres from 'postgres';
import { T0, app, endpoint, message } from '../helpers/fixtures.js';
import { TEST_DATABASE_URL, migratedTestSchema, vacuumBloatedCatalogs } from '../helpers/pg.js';
import { eventually } from '../helpers/eventually.js';
import { skipWithoutPostgres } from '../helpers/requirements.js';

const DAY = 86_400_000;

async function schemaExists(name: string): Promise<boolean> {
  const sql = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  try {
    return (await sql`SELECT 1 FROM pg_namespace WHERE nspname = ${name}`).length > 0;
  } finally {
    await sql.end();
  }
}

describe('postgres: the pool of migrated test schemas', { skip: skipWithoutPostgres }, () => {
  it('gives a schema back as its migrations left it: rows, seed rows, sequences and partitions', async () => {
    const first = await migratedTestSchema();
    const store = first.store(2);
    const pristine = {
      sequence: [...(await store.sql`SELECT id, last FROM pull_sequence ORDER BY id`)],
      partitions: [...(await store.sql`SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relispartition ORDER BY relname`)],
    };
    const a = app();
    await store.createApplication(a);
    const ep = endpoint(a.id);
    await store.createEndpoint(ep);
    await store.publish([{ message: message(a.id, T0), deliveries: [{ endpointId: ep.id, leaseUntil: null }] }]);
    await store.sql`UPDATE pull_sequence SET last = last + 41`;
    // A partition made after the migrations, as the partition upkeep makes the days ahead.
    const far = Date.UTC(2090, 0, 1);
    await store.sql.unsafe(`CREATE TABLE attempts_p20900101 PARTITION OF attempts FOR VALUES FROM (${far}) TO (${far + DAY})`);
    await first.drop();

    const again = await migratedTestSchema();
    try {
      assert.equal(again.schema, first.schema, 'the schema is reused');
      const s = again.store(2);
      for (const table of ['applications', 'endpoints', 'messages', 'deliveries']) {
        const [r] = await s.sql`SELECT count(*)::int AS n FROM ${s.sql(table)}`;
        assert.equal(r?.n, 0, `${table} is empty`);
      }
      assert.deepEqual([...(await s.sql`SELECT id, last FROM pull_sequence ORDER BY id`)], pristine.sequence, 'the migrations\' own rows are back');
      assert.deepEqual(
        [...(await s.sql`SELECT relname FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND relispartition ORDER BY relname`)],
        pristine.partitions,
        'only the migrations\' partitions remain',
      );
      // The identity sequence starts again: the first delivery of the reused schema is number 1.
      const b = app();
      await s.createApplication(b);
      const ep2 = endpoint(b.id);
      await s.createEndpoint(ep2);
      await s.publish([{ message: message(b.id, T0), deliveries: [{ endpointId: ep2.id, leaseUntil: null }] }]);
      const [d] = await s.sql`SELECT min(id)::int AS id FROM deliveries`;
      assert.equal(d?.id, 1);
    } finally {
      await again.drop();
    }
  });

  it('drops a schema whose structure changed instead of reusing it', async () => {
    const first = await migratedTestSchema();
    const store = first.store(1);
    await store.sql`CREATE TABLE not_from_a_migration (x int)`;
    await first.drop();
    assert.equal(await schemaExists(first.schema), false, 'the changed schema is gone');
    const next = await migratedTestSchema();
    try {
      assert.notEqual(next.schema, first.schema);
    } finally {
      await next.drop();
    }
  });

  it('vacuums the catalogs once schemas made and dropped have left enough dead rows in them', async () => {
    const sql = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
    try {
      const vacuums = async (): Promise<number> => {
        const [r] = await sql<{ n: number }[]>`SELECT (vacuum_count + autovacuum_count)::int AS n FROM pg_stat_sys_tables WHERE relname = 'pg_attribute'`;
        return r?.n ?? 0;
      };
      assert.equal(await vacuumBloatedCatalogs(sql, Number.POSITIVE_INFINITY), false, 'below the threshold, nothing is vacuumed');
      const before = await vacuums();
      assert.equal(await vacuumBloatedCatalogs(sql, 0), true);
      // Another test process may be vacuuming the same catalog (SKIP_LOCKED leaves it to that one): counted once it ends.
      await eventually(async () => (await vacuums()) > before, 'pg_attribute vacuumed');
    } finally {
      await sql.end();
    }
  });
});
