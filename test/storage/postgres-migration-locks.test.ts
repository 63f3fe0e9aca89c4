/**
 * A migration's table lock (an `ALTER TABLE`'s) waits for every transaction that has used the
 * table, and every later statement on the table queues behind it. A migration gives up after
 * its lock timeout, says who holds the locks, and tries again, so a long transaction of another
 * session never stops the other nodes' statements behind a waiting migration.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { runMigrations } from '../../src/storage/postgres/migrator.js';
import { eventually } from '../helpers/eventually.js';
import { TEST_DATABASE_URL, createTestSchema } from '../helpers/pg.js';
import type { TestSchema } from '../helpers/pg.js';
import { skipWithoutPostgres } from '../helpers/requirements.js';

describe('postgres: a migration behind a long transaction', { skip: skipWithoutPostgres, timeout: 60_000 }, () => {
  let s: TestSchema;
  let dir: string;
  let sql: postgres.Sql;
  before(async () => {
    s = await createTestSchema();
    dir = mkdtempSync(join(tmpdir(), 'switchboard-migrations-'));
    sql = postgres(TEST_DATABASE_URL, { max: 2, onnotice: () => {}, connection: { search_path: s.schema, application_name: 'migrating-node' } });
    writeFileSync(join(dir, '0001_t.sql'), 'CREATE TABLE t (k int NOT NULL);\n');
    assert.deepEqual(await runMigrations(sql, dir), ['0001_t.sql']);
  });
  after(async () => {
    await sql.end();
    rmSync(dir, { recursive: true, force: true });
    await s.drop();
  });

  it('gives up its lock while the transaction lasts, so writes to the table go on, names the holder, and applies once it ends', async () => {
    writeFileSync(join(dir, '0002_b.sql'), 'ALTER TABLE t ADD COLUMN b int;\n');
    const operator = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {}, connection: { search_path: s.schema, application_name: 'operator-console' } });
    const node = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {}, connection: { search_path: s.schema } });
    const held = await operator.reserve();
    try {
      // An operator's session left open in a transaction that read the table.
      const [{ pid }] = (await held`SELECT pg_backend_pid() AS pid`) as unknown as [{ pid: number }];
      await held`BEGIN`;
      await held`SELECT count(*) FROM t`;
      const waits: string[] = [];
      const migrating = runMigrations(sql, dir, { lockTimeoutMs: 300, retryPauseMs: 200, onWait: (w) => waits.push(w) });
      migrating.catch(() => {});
      await eventually(() => waits.length > 0, 'the migration saying it waits');
      assert.match(waits[0]!, /^migration 0002_b\.sql waited 300 ms for a lock on its tables, held by session (\d+) \(operator-console, idle in transaction, in a transaction for \d+ s, last statement: SELECT count\(\*\) FROM t\); trying again in 200 ms$/);
      assert.equal(Number(/session (\d+)/.exec(waits[0]!)![1]), pid, "the operator's session is named");
      // Another node writes to the table while the migration keeps trying: it waits at most
      // one lock timeout behind the migration's attempt, never for the operator's transaction.
      for (let i = 0; i < 3; i++) {
        const written = node`INSERT INTO t (k) VALUES (${i})`.then(() => 'written');
        assert.equal(await Promise.race([written, sleep(10_000, 'still waiting', { ref: false })]), 'written', 'the write is not held behind the migration');
        await sleep(150);
      }
      await held`COMMIT`;
      assert.deepEqual(await migrating, ['0002_b.sql'], 'applied once the transaction ended');
      const cols = await node<{ column_name: string }[]>`SELECT column_name FROM information_schema.columns WHERE table_schema = ${s.schema} AND table_name = 't' ORDER BY ordinal_position`;
      assert.deepEqual(cols.map((c) => c.column_name), ['k', 'b']);
    } finally {
      held.release();
      await operator.end();
      await node.end();
    }
  });

  it('applies a migration that runs longer than a statement timeout set on the role or the database', async () => {
    writeFileSync(join(dir, '0003_slow.sql'), 'SELECT pg_sleep(0.3);\n');
    // A managed service's role-wide limit, here set on the session as it would arrive.
    const limited = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {}, connection: { search_path: s.schema, statement_timeout: 100 } });
    try {
      assert.deepEqual(await runMigrations(limited, dir), ['0003_slow.sql'], 'a migration longer than the limit applies');
      const [row] = await limited<{ v: string }[]>`SELECT current_setting('statement_timeout') AS v`;
      assert.equal(row?.v, '100ms', 'the session keeps its own limit afterwards');
    } finally {
      await limited.end();
    }
  });
});
