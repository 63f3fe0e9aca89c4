/**
 * Tests of PostgreSQL migrations and time partitions: for one migration on tables already
 * holding rows, a fresh schema and a folder of the migrations before it (the test migrates to
 * there, writes rows as the version before wrote them, then runs the rest); for partition
 * upkeep, a migrated store with an endpoint to deliver to; and where a partitioned table's
 * rows landed.
 */
import { after, before } from 'node:test';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TransactionSql } from 'postgres';
import { newId } from '../../src/domain/ids.js';
import { DeliveryStatus } from '../../src/domain/model.js';
import type { Endpoint, Message } from '../../src/domain/model.js';
import { DAY_MS } from '../../src/operations/retention.js';
import type { PartitionUpkeep } from '../../src/storage/contract/retention.js';
import { MIGRATIONS_DIR, migrationFiles } from '../../src/storage/postgres/migrator.js';
import type { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { eventually } from './eventually.js';
import { T0, app, attemptRecord, endpoint, message } from './fixtures.js';
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

/** What an upkeep round did to the partitions of `table` alone. */
export function upkeepOf(r: PartitionUpkeep, table: string): PartitionUpkeep {
  const mine = (n: string) => n.startsWith(table);
  return {
    created: r.created.filter(mine),
    dropped: r.dropped.filter(mine),
    // Only message partitions hold messages.
    droppedMessages: table === 'messages' ? r.droppedMessages : 0,
    kept: r.kept.filter(mine),
    skipped: r.skipped.filter((s) => mine(s.partition)),
  };
}

/** Made before the describe's tests and dropped after them: a migrated schema with a store, an application and one endpoint of it. */
export function upkeepStore(): {
  readonly store: PostgresStore;
  readonly schema: TestSchema;
  readonly appId: string;
  readonly ep: Endpoint;
  /**
   * Publishes a message at `at` (with `eventId`) to the endpoint and records an attempt
   * `retryDays` later; the delivery stays open (retrying a year later) when `open`.
   */
  delivered: (at: number, o?: { eventId?: string; open?: boolean; retryDays?: number }) => Promise<{ m: Message; attemptId: string }>;
  /**
   * Upkeep on another node: a session of its own runs `create` (making a partition) in a
   * transaction and keeps it open while `write` starts, until `write` waits on a lock; then
   * commits. Resolves with what `write` resolved to.
   */
  writeWhileCreating: <T>(create: (tx: TransactionSql) => Promise<void>, write: () => Promise<T>) => Promise<T>;
} {
  const appId = newId('application', T0);
  const ep = endpoint(appId);
  let schema: TestSchema | undefined;
  let store: PostgresStore | undefined;
  before(async () => {
    schema = await createTestSchema();
    store = schema.store(3);
    await store.migrate();
    await store.createApplication(app({ id: appId, name: 'p' }));
    await store.createEndpoint(ep);
  });
  after(async () => schema?.drop());
  const made = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('the store is made before the tests');
    return v;
  };
  return {
    get store() {
      return made(store);
    },
    get schema() {
      return made(schema);
    },
    appId,
    ep,
    delivered: async (at, o = {}) => {
      const s = made(store);
      const m = message(appId, at, { eventId: o.eventId ?? null });
      await s.publish([{ message: m, deliveries: [{ endpointId: ep.id, leaseUntil: null }] }]);
      const tried = at + (o.retryDays ?? 0) * DAY_MS;
      const [c] = await s.claimDue(ep.id, 1, tried, tried + 60_000);
      if (!c) throw new Error(`nothing to claim at ${tried}`);
      const rec = attemptRecord(c, o.open ? { status: DeliveryStatus.Pending, at: at + 365 * DAY_MS } : { status: DeliveryStatus.Success }, tried);
      await s.recordAttempts([rec]);
      return { m, attemptId: rec.attempt.id };
    },
    writeWhileCreating: async (create, write) => {
      const upkeep = made(schema).store(2);
      let writing: ReturnType<typeof write> | undefined;
      await upkeep.sql.begin(async (tx) => {
        await create(tx);
        writing = write();
        await eventually(async () => {
          const [w] = await upkeep.sql`SELECT COUNT(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`;
          return (w?.n as number) > 0;
        }, 'the write waiting for the partition');
      });
      return await writing!;
    },
  };
}
