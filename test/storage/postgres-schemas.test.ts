/**
 * Deployments in two schemas of one PostgreSQL database are independent: they migrate at the
 * same time, a migration in one never waits for the other's, a capped claim in one never
 * waits for the other's claim locks, and neither hears the other's notices (the last is in
 * postgres-store.test.ts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import postgres from 'postgres';
import { claimLockSpace, endpointLockKey, migrationLockKey } from '../../src/storage/postgres/advisory-locks.js';
import { appliedVersions, migrationFiles, runMigrations } from '../../src/storage/postgres/migrator.js';
import type { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { T0, app, endpoint, message } from '../helpers/fixtures.js';
import { eventually } from '../helpers/eventually.js';
import { TEST_DATABASE_URL, createTestSchema } from '../helpers/pg.js';
import type { TestSchema } from '../helpers/pg.js';
import { skipWithoutPostgres } from '../helpers/requirements.js';

/** A session that takes locks and holds them until `release`. */
async function lockHolder(): Promise<{ hold: (lock: string) => Promise<void>; release: () => Promise<void> }> {
  const sql = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  const reserved = await sql.reserve();
  await reserved`BEGIN`;
  return {
    hold: async (lock) => {
      await reserved.unsafe(`SELECT ${lock}`);
    },
    release: async () => {
      await reserved`COMMIT`;
      reserved.release();
      await sql.end();
    },
  };
}

describe('postgres: two schemas in one database', { skip: skipWithoutPostgres }, () => {
  let one: TestSchema;
  let two: TestSchema;
  before(async () => {
    one = await createTestSchema();
    two = await createTestSchema();
  });
  after(async () => {
    await one.drop();
    await two.drop();
  });

  it('migrate at the same time, each migration applied once per schema', async () => {
    const nodes = [one.store(2), two.store(2), one.store(2), two.store(2)];
    const applied = await Promise.all(nodes.map((n) => runMigrations(n.sql)));
    const names = migrationFiles().map((f) => f.name);
    assert.deepEqual([...applied[0]!, ...applied[2]!].sort(), names, 'schema one: every migration once');
    assert.deepEqual([...applied[1]!, ...applied[3]!].sort(), names, 'schema two: every migration once');
    assert.deepEqual(await appliedVersions(nodes[1]!.sql), migrationFiles().map((f) => f.version));
  });

  it('a held migration lock blocks its own schema only', async () => {
    const three = await createTestSchema();
    const four = await createTestSchema();
    const holder = await lockHolder();
    try {
      await holder.hold(`pg_advisory_xact_lock(${migrationLockKey(three.schema)}::bigint)`);
      let threeDone = false;
      const threeRun = runMigrations(three.store(1).sql).then((r) => {
        threeDone = true;
        return r;
      });
      // The other schema migrates fully while schema three's lock is held.
      assert.deepEqual(await runMigrations(four.store(1).sql), migrationFiles().map((f) => f.name));
      assert.equal(threeDone, false, 'schema three waits for its lock');
      await holder.release();
      assert.equal((await threeRun).length, migrationFiles().length, 'and migrates once it is free');
    } finally {
      await holder.release().catch(() => {});
      await three.drop();
      await four.drop();
    }
  });

  it("a capped claim waits for its own schema's claim lock only", async () => {
    const a: PostgresStore = one.store(2);
    const b: PostgresStore = two.store(2);
    await a.migrate();
    await b.migrate();
    // The same application and endpoint ids in both schemas: only the schema tells the locks apart.
    const ap = app();
    const ep = endpoint(ap.id);
    for (const s of [a, b]) {
      await s.createApplication(ap);
      await s.createEndpoint(ep);
      await s.publish([{ message: message(ap.id, T0), deliveries: [{ endpointId: ep.id, leaseUntil: null }] }]);
    }
    const holder = await lockHolder();
    try {
      await holder.hold(`pg_advisory_xact_lock(${claimLockSpace(one.schema)}::int, ${endpointLockKey(ep.id)}::int)`);
      let aDone = false;
      const aClaim = a.cluster.claimDueCapped(ep.id, 5, T0 + 10, T0 + 60_000, 5).then((r) => {
        aDone = true;
        return r;
      });
      const bClaim = await b.cluster.claimDueCapped(ep.id, 5, T0 + 10, T0 + 60_000, 5);
      assert.equal(bClaim.claims.length, 1, 'schema two claims while schema one is locked');
      await eventually(async () => {
        const [r] = await a.sql`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`;
        return (r?.n as number) > 0;
      }, 'the claim in schema one waiting on its lock');
      assert.equal(aDone, false, 'schema one waits for its endpoint lock');
      await holder.release();
      assert.equal((await aClaim).claims.length, 1, 'and claims once it is free');
    } finally {
      await holder.release().catch(() => {});
    }
  });
});
