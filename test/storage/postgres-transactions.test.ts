/**
 * PgConnection.transaction: the BEGIN sent with the first statements and the COMMIT with the
 * last ones, on one connection of the pool. What it must keep from `sql.begin`: statements run
 * inside the transaction and in order, a failure rolls everything back and says so, and the
 * connection goes back to the pool in every case.
 */
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect as netConnect, type Socket } from 'node:net';
import postgres from 'postgres';
import assert from 'node:assert/strict';
import { PgConnection } from '../../src/storage/postgres/connection.js';
import { eventually } from '../helpers/eventually.js';
import { TEST_DATABASE_URL, createTestSchema } from '../helpers/pg.js';
import type { TestSchema } from '../helpers/pg.js';
import { skipWithoutPostgres } from '../helpers/requirements.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

describe('postgres: transactions in fewer round trips', { skip: skipWithoutPostgres }, () => {
  let s: TestSchema;
  // One connection: a connection not given back would hang every test after it.
  let c: PgConnection;
  before(async () => {
    s = await createTestSchema();
    c = new PgConnection({ url: TEST_DATABASE_URL, schema: s.schema, max: 1 });
    await c.sql`CREATE TABLE t (k int PRIMARY KEY, v text NOT NULL)`;
  });
  after(async () => {
    await c.end(5);
    await s.drop();
  });

  const rows = async (): Promise<string[]> => (await c.sql`SELECT v FROM t ORDER BY k`).map((r) => r.v as string);
  const clear = async (): Promise<void> => {
    await c.sql`DELETE FROM t`;
  };

  it('runs the statements listed before the COMMIT inside the transaction, in order', async () => {
    await clear();
    const seen = await c.transaction(async (tx, commit) => {
      const [[first], , [count], [last]] = await Promise.all([
        tx`SELECT pg_current_xact_id()::text AS xid`,
        tx`INSERT INTO t VALUES (1, 'a'), (2, 'b')`,
        tx`SELECT count(*)::int AS n FROM t`,
        tx`SELECT pg_current_xact_id()::text AS xid`,
        commit(),
      ]);
      return { first: first?.xid as string, last: last?.xid as string, n: count?.n as number };
    });
    // Outside a transaction, each statement would be one of its own.
    assert.equal(seen.first, seen.last, 'one transaction');
    assert.equal(seen.n, 2, 'the insert ran before the count listed after it');
    assert.deepEqual(await rows(), ['a', 'b']);
  });

  it('commits when the function resolves without sending the COMMIT itself', async () => {
    await clear();
    await c.transaction(async (tx) => {
      await tx`INSERT INTO t VALUES (1, 'a')`;
      await tx`INSERT INTO t VALUES (2, 'b')`;
    });
    assert.deepEqual(await rows(), ['a', 'b']);
  });

  it('rolls back every statement when one sent with the COMMIT fails, and rejects', async () => {
    await clear();
    await assert.rejects(
      c.transaction(async (tx, commit) => {
        await tx`INSERT INTO t VALUES (1, 'a')`;
        await Promise.all([tx`INSERT INTO t VALUES (2, 'b')`, tx`INSERT INTO t VALUES (1, 'again')`, commit()]);
      }),
      (e: Error & { code?: string }) => e.code === '23505',
    );
    assert.deepEqual(await rows(), [], 'nothing of the transaction stayed');
  });

  it('rolls back when the function throws, and gives the connection back', async () => {
    await clear();
    await assert.rejects(
      c.transaction(async (tx) => {
        await tx`INSERT INTO t VALUES (1, 'a')`;
        throw new Error('changed my mind');
      }),
      /changed my mind/,
    );
    assert.deepEqual(await rows(), []);
    // The pool's one connection is free and outside any transaction.
    const [r] = await c.sql`SELECT txid_current_if_assigned() AS x`;
    assert.equal(r?.x, null);
  });

  it('a COMMIT that only rolls back (the transaction had failed) rejects, though its statements were not awaited', async () => {
    await clear();
    await assert.rejects(
      c.transaction(async (tx, commit) => {
        void tx`INSERT INTO t VALUES (1, 'a')`.execute().catch(() => {});
        void tx`SELECT 1 / 0`.execute().catch(() => {});
        await commit();
      }),
      /rolled back/,
    );
    assert.deepEqual(await rows(), []);
  });

  it('rejects when its connection dies mid-transaction, and the pool serves the next query on a new one', { timeout: 15_000 }, async () => {
    const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
    try {
      let pid = 0;
      await assert.rejects(
        c.transaction(async (tx) => {
          pid = (await tx`SELECT pg_backend_pid() AS pid`)[0]?.pid as number;
          await tx`INSERT INTO t VALUES (7, 'lost')`;
          await admin`SELECT pg_terminate_backend(${pid})`;
          await tx`SELECT 1`;
        }),
      );
      // The pool's one connection: handed back dead, it would fail or hang every query after.
      // A query racing the connection's end may still fail; the pool must then open a new one.
      let r: Record<string, unknown> | undefined;
      for (let tries = 0; r === undefined && tries < 20; tries++) {
        r = await c.sql`SELECT pg_backend_pid() AS pid, (SELECT count(*)::int FROM t WHERE k = 7) AS n`.then(
          ([row]) => row,
          async () => {
            await sleep(100);
            return undefined;
          },
        );
      }
      assert.ok(r, 'the pool serves queries again');
      assert.notEqual(r.pid, pid, 'on a new connection');
      assert.equal(r.n, 0, 'nothing of the transaction was committed');
    } finally {
      await admin.end();
    }
  });

  it('a statement sent after its connection has already closed is refused, not a crash of the process', { timeout: 15_000 }, async () => {
    const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
    try {
      await assert.rejects(
        c.transaction(async (tx) => {
          const pid = (await tx`SELECT pg_backend_pid() AS pid`)[0]?.pid as number;
          await admin`SELECT pg_terminate_backend(${pid})`;
          // The driver has seen the connection end before the next statement is written: it used to
          // write it on the next turn to a socket it no longer had, and the TypeError thrown there
          // ended the process (scripts/patch-dependencies.mjs).
          await eventually(async () => (await admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ${pid}`)[0]?.n === 0, 'the backend gone');
          await sleep(200);
          await tx`SELECT 1`;
        }),
        (e: Error & { code?: string }) => e.code === 'CONNECTION_CLOSED' || e.code === 'CONNECTION_ENDED' || /closed|terminat/i.test(e.message),
      );
      // The pool serves queries again, on a new connection.
      await eventually(async () => (await c.sql`SELECT 1`).length === 1, 'the pool serving queries again', { timeoutMs: 2000, intervalMs: 100 });
    } finally {
      await admin.end();
    }
  });

  it('a connection reset while it fetches the array types fails its first query, not the process', { timeout: 15_000 }, async () => {
    // Every new connection first fetches the array types, in a promise the driver does not await:
    // its rejection, unhandled, used to end the process (scripts/patch-dependencies.mjs).
    const proxy = await TcpProxy.to(TEST_DATABASE_URL, 5432);
    const fresh = new PgConnection({ url: proxy.url(TEST_DATABASE_URL), schema: s.schema, max: 1 });
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => void unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      proxy.resetWhenSent('typarray');
      await assert.rejects(fresh.sql`SELECT 1`, (e: Error & { code?: string }) => e.code === 'ECONNRESET', 'the first query fails with the reset');
      // The rejection, had it been left unhandled, is reported within a turn or two.
      await sleep(100);
      assert.deepEqual(unhandled.map(String), [], 'no unhandled rejection');
      const [row] = await fresh.sql<{ a: number[] }[]>`SELECT ARRAY[1, 2]::int[] AS a`;
      assert.deepEqual(row?.a, [1, 2], 'the next connection fetches the types and serves');
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await fresh.end(1);
      await proxy.down();
    }
  });

  it('a connection attempt that closes before its start-up is written leaves the next attempt able to write its own', { timeout: 15_000 }, async () => {
    // Small writes wait for an immediate; a refused attempt's error and close can come before it
    // runs. The driver used to keep that write "scheduled", so the next socket of the connection
    // never sent its start-up message and waited out connect_timeout (scripts/patch-dependencies.mjs).
    let last: Socket | null = null;
    let armed = true;
    const original = globalThis.setImmediate;
    const replaced = ((fn: (...a: unknown[]) => void, ...args: unknown[]) => {
      const timer = original(fn, ...args);
      if (armed && fn.name === 'nextWrite' && last) {
        armed = false;
        const s = last;
        // Once the driver has noted the immediate, and before it runs.
        queueMicrotask(() => {
          s.emit('error', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED', syscall: 'connect' }));
          s.emit('close', true);
          s.destroy();
        });
      }
      return timer;
    }) as typeof setImmediate;
    const { hostname, port } = new URL(TEST_DATABASE_URL);
    const sql = postgres(TEST_DATABASE_URL, {
      max: 1,
      onnotice: () => {},
      connect_timeout: 5,
      backoff: () => 0.05,
      ...({ socket: () => (last = netConnect(Number(port || 5432), hostname)) } as object),
    });
    globalThis.setImmediate = replaced;
    try {
      await assert.rejects(sql`SELECT 1`, (e: Error & { code?: string }) => e.code === 'ECONNREFUSED', 'the first attempt is refused');
      globalThis.setImmediate = original;
      const [row] = await sql<{ two: number }[]>`SELECT 2 AS two`;
      assert.equal(row?.two, 2, 'the next attempt connects and serves (it used to fail with CONNECT_TIMEOUT)');
    } finally {
      globalThis.setImmediate = original;
      await sql.end({ timeout: 1 });
    }
  });

  it('a connection closed cleanly while it starts fails its query and waits out the backoff, instead of reconnecting in a loop', { timeout: 15_000 }, async () => {
    // A proxy in front of a database that is down accepts and closes. The driver used to keep the
    // query and reconnect at once, forever: the query never settled (scripts/patch-dependencies.mjs).
    const proxy = await TcpProxy.to(TEST_DATABASE_URL, 5432);
    const fresh = new PgConnection({ url: proxy.url(TEST_DATABASE_URL), schema: s.schema, max: 1 });
    try {
      proxy.endNew();
      await assert.rejects(fresh.sql`SELECT 1`, (e: Error & { code?: string }) => e.code === 'CONNECTION_CLOSED', 'the query fails with the lost connection');
      const attempts = proxy.accepted;
      await assert.rejects(fresh.sql`SELECT 1`, (e: Error & { code?: string }) => e.code === 'CONNECTION_CLOSED', 'and so does the next, on its own attempt');
      await sleep(300);
      assert.ok(proxy.accepted - attempts <= 2, `one attempt per query, no loop (${proxy.accepted - attempts} more connections)`);
      proxy.endNew(false);
      const [row] = await fresh.sql<{ two: number }[]>`SELECT 2 AS two`;
      assert.equal(row?.two, 2, 'served once the database is reachable');
    } finally {
      proxy.endNew(false);
      await fresh.end(1);
      await proxy.down();
    }
  });

  it('with several hosts, tries each once per query: a host down is passed over, and with every host down the query fails instead of reconnecting in a loop', { timeout: 15_000 }, async () => {
    // A URL naming several hosts (a primary and its standbys) moves to the next host when one
    // fails. The driver never counted the hosts tried, so with every host down the query never
    // settled and the connection reconnected in a loop (scripts/patch-dependencies.mjs).
    const refusing = await TcpProxy.to(TEST_DATABASE_URL, 5432);
    await refusing.down();
    const closing = await TcpProxy.to(TEST_DATABASE_URL, 5432);
    const u = new URL(TEST_DATABASE_URL);
    const user = u.username ? `${u.username}${u.password ? `:${u.password}` : ''}@` : '';
    const url = `${u.protocol}//${user}127.0.0.1:${refusing.port},127.0.0.1:${closing.port}${u.pathname}${u.search}`;
    const fresh = new PgConnection({ url, schema: s.schema, max: 1 });
    try {
      closing.endNew();
      await assert.rejects(fresh.sql`SELECT 1`, (e: Error & { code?: string }) => e.code === 'CONNECTION_CLOSED', 'with every host down the query fails, with the last host\'s error');
      const attempts = closing.accepted;
      await sleep(300);
      assert.equal(closing.accepted, attempts, 'and the connection does not go on reconnecting');
      closing.endNew(false);
      const [row] = await fresh.sql<{ two: number }[]>`SELECT 2 AS two`;
      assert.equal(row?.two, 2, 'the host that is up serves, the one down passed over');
    } finally {
      await fresh.end(1);
      await closing.down();
    }
  });

  it("a backend ended mid-query fails that query with its error, and the next query not at all", { timeout: 15_000 }, async () => {
    // The ended backend's FATAL answer used to wait for the next ReadyForQuery, which came from
    // the next connection: its first query failed with it (scripts/patch-dependencies.mjs).
    const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
    const sql = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {}, backoff: () => 0.05 });
    try {
      const [{ pid }] = (await sql`SELECT pg_backend_pid() AS pid`) as unknown as [{ pid: number }];
      const running = sql`SELECT pg_sleep(10)`;
      running.catch(() => {});
      await eventually(async () => (await admin`SELECT state FROM pg_stat_activity WHERE pid = ${pid}`)[0]?.state === 'active', 'the query running');
      await admin`SELECT pg_terminate_backend(${pid})`;
      await assert.rejects(running, (e: Error & { code?: string }) => e.code === '57P01', 'the running query fails with the reason');
      const [row] = await sql<{ two: number }[]>`SELECT 2 AS two`;
      assert.equal(row?.two, 2, 'the next query is served');
    } finally {
      await sql.end({ timeout: 1 });
      await admin.end();
    }
  });

  it('rejects every statement waiting behind a busy connection when it dies, instead of leaving them pending', { timeout: 15_000 }, async () => {
    const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
    try {
      let pid = 0;
      const settled: string[] = [];
      const outcome = c.transaction(async (tx, commit) => {
        pid = (await tx`SELECT pg_backend_pid() AS pid`)[0]?.pid as number;
        // A statement not yet prepared on this connection is described before it runs: the
        // driver holds the statements after it until then, in the reserved connection's own queue.
        const statements = [tx`SELECT pg_sleep(0.5), ${`fresh-${Date.now()}`}::text AS v`, tx`INSERT INTO t VALUES (8, 'queued')`, tx`SELECT 2`, commit()].map((p, i) =>
          Promise.resolve(p).then(
            () => settled.push(`${i} ok`),
            () => settled.push(`${i} rejected`),
          ),
        );
        await sleep(100);
        await admin`SELECT pg_terminate_backend(${pid})`;
        await Promise.all(statements);
        throw new Error('the connection died');
      });
      const ended = await Promise.race([outcome.then(() => 'resolved', () => 'rejected'), sleep(5000, 'pending')]);
      assert.equal(ended, 'rejected', `statements: ${settled.join(', ')}`);
      assert.deepEqual(settled.sort(), ['0 rejected', '1 rejected', '2 rejected', '3 rejected']);
      await eventually(async () => (await c.sql`SELECT count(*)::int AS n FROM t WHERE k = 8`.catch(() => [{ n: -1 }]))[0]?.n === 0, 'the pool serving queries again, nothing committed', { timeoutMs: 3000, intervalMs: 100 });
    } finally {
      await admin.end();
    }
  });

  it('with durable: false, commits without waiting for the WAL flush', async () => {
    const durable = await c.transaction(async (tx) => (await tx`SHOW synchronous_commit`)[0]?.synchronous_commit as string);
    const lazy = await c.transaction(async (tx) => (await tx`SHOW synchronous_commit`)[0]?.synchronous_commit as string, { durable: false });
    const after = (await c.sql`SHOW synchronous_commit`)[0]?.synchronous_commit as string;
    assert.equal(lazy, 'off');
    assert.notEqual(durable, 'off');
    assert.equal(after, durable, 'the setting ended with the transaction');
  });
});
