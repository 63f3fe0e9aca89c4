/**
 * A node that stops inside a transaction (frozen, paused, or cut off by the network without a
 * reset, so its connections stay open) holds that transaction's locks until PostgreSQL ends its
 * session. The claim lock of an endpoint, or the position counter's lock that every publish
 * takes, held that way would stop every other node's publishes (each publish batch is one
 * transaction, so one endpoint's lock holds up the node's whole batch). A node's sessions are
 * opened with `idle_in_transaction_session_timeout`: the database ends the stopped session and
 * the other nodes go on. Here a "stopped node" is a connection whose transaction takes a lock
 * and then waits for the test; a store on the same schema plays another node.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import postgres from 'postgres';
import { loadConfig } from '../../src/config.js';
import { openStore } from '../../src/composition/open-store.js';
import type { Endpoint } from '../../src/domain/model.js';
import type { ClusterNotice } from '../../src/storage/contract/cluster.js';
import { PgConnection } from '../../src/storage/postgres/connection.js';
import { channelFor, payloadHead } from '../../src/storage/postgres/notices.js';
import { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { eventually } from '../helpers/eventually.js';
import { T0, app, endpoint, message } from '../helpers/fixtures.js';
import { TEST_DATABASE_URL, createTestSchema, migratedTestSchema } from '../helpers/pg.js';
import type { TestSchema } from '../helpers/pg.js';
import { skipWithoutPostgres } from '../helpers/requirements.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';

/** Short, so the tests do not wait long; the product's default is 10 s. */
const IDLE_MS = 300;

/** A setting of a session of the store the server would open with `env`, on the database at `url`. */
async function sessionSetting(url: string, name: string, env: Record<string, string>): Promise<string> {
  const store = openStore(loadConfig({ SWITCHBOARD_DATABASE_URL: url, ...env })) as PostgresStore;
  try {
    const [row] = await store.sql<{ v: string }[]>`SELECT current_setting(${name}) AS v`;
    return row!.v;
  } finally {
    await store.close();
  }
}

describe('postgres: a node stopped mid-transaction', { skip: skipWithoutPostgres, timeout: 60_000 }, () => {
  let s: TestSchema;
  let other: PostgresStore;
  before(async () => {
    s = await migratedTestSchema();
    other = s.store(2);
  });
  after(async () => s.drop());

  async function anEndpoint(): Promise<Endpoint> {
    const ap = app();
    await other.createApplication(ap);
    const ep = endpoint(ap.id);
    await other.createEndpoint(ep);
    return ep;
  }

  /**
   * Opens a transaction on a node of its own that runs `lock`, then stops: its session sits idle
   * in the transaction until `resume()`, after which it sends one more statement and commits.
   */
  async function stoppedNode(lock: (c: PgConnection, tx: Parameters<Parameters<PgConnection['transaction']>[0]>[0]) => Promise<unknown>) {
    const c = new PgConnection({ url: TEST_DATABASE_URL, schema: s.schema, max: 1, idleInTransactionTimeoutMs: IDLE_MS });
    let resume!: () => void;
    const resumed = new Promise<void>((r) => (resume = r));
    let locked!: (pid: number) => void;
    const holding = new Promise<number>((r) => (locked = r));
    const done = c.transaction(async (tx) => {
      await c.schema(tx);
      const [row] = await tx<{ pid: number }[]>`SELECT pg_backend_pid() AS pid`;
      await lock(c, tx);
      locked(row!.pid);
      await resumed;
      await tx`SELECT 1`;
    });
    done.catch(() => {});
    const pid = await holding;
    return { c, pid, resume, done };
  }

  async function sessionState(pid: number): Promise<string | null> {
    const [row] = await other.sql<{ state: string | null }[]>`SELECT state FROM pg_stat_activity WHERE pid = ${pid}`;
    return row?.state ?? null;
  }

  it("lets another node publish past an endpoint's claim lock the stopped node held", async () => {
    const ep = await anEndpoint();
    const node = await stoppedNode((c, tx) => c.lockEndpoints(tx, [ep.id]));
    try {
      assert.equal(await sessionState(node.pid), 'idle in transaction', 'the stopped node holds the lock, idle');
      // Leasing at publish takes the endpoint's claim lock: this waits until the session is ended.
      const [published] = await other.publish([{ message: message(ep.appId, T0), deliveries: [{ endpointId: ep.id, leaseUntil: T0 + 60_000 }] }]);
      assert.equal(published?.kind, 'created');
      assert.equal(published.kind === 'created' && published.deliveries[0]!.leaseToken, 1, 'leased at publish, as with no node stopped');
      assert.equal(await sessionState(node.pid), null, "the database ended the stopped node's session");
      node.resume();
      await assert.rejects(node.done, (e: Error & { code?: string }) => e.code === 'CONNECTION_CLOSED', 'the node, going on, finds its transaction gone');
      const [again] = await node.c.sql<{ one: number }[]>`SELECT 1 AS one`;
      assert.equal(again?.one, 1, "and the node's pool serves again on a new connection");
    } finally {
      node.resume();
      await node.c.end(1);
    }
  });

  it("lets every other node publish past the position counter's lock the stopped node held", async () => {
    const ep = await anEndpoint();
    // What a publish cut off after its first statements leaves behind.
    const node = await stoppedNode((_c, tx) => tx`SELECT 1 FROM pull_sequence WHERE id = 1 FOR UPDATE`);
    try {
      const m = message(ep.appId, T0 + 1);
      const [published] = await other.publish([{ message: m, deliveries: [{ endpointId: ep.id, leaseUntil: null }] }]);
      assert.equal(published?.kind, 'created');
      assert.equal((await other.getMessage(ep.appId, m.id))?.id, m.id, 'stored');
      node.resume();
      await assert.rejects(node.done);
    } finally {
      node.resume();
      await node.c.end(1);
    }
  });

  it('opens every session with the configured limit, by default 10 s, and leaves the server its own with 0', async () => {
    const show = (env: Record<string, string>): Promise<string> => sessionSetting(s.url, 'idle_in_transaction_session_timeout', env);
    assert.equal(await show({}), '10s');
    assert.equal(await show({ SWITCHBOARD_DATABASE_IDLE_IN_TRANSACTION_MS: '2500' }), '2500ms');
    const plain = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
    try {
      const [own] = await plain<{ v: string }[]>`SELECT current_setting('idle_in_transaction_session_timeout') AS v`;
      assert.equal(await show({ SWITCHBOARD_DATABASE_IDLE_IN_TRANSACTION_MS: '0' }), own!.v, "the server's own setting");
    } finally {
      await plain.end();
    }
  });
});

/**
 * A frozen node, or one cut off by the network, stops reading its connections. PostgreSQL keeps
 * every notification in its queue until each listener has read it, so the frozen node's notice
 * listener would pin the queue while it grows, until it is full and every node's publish fails
 * (its `pg_notify` refused at commit). A node's sessions are opened with `tcp_user_timeout`: the
 * server drops the session whose data has gone untaken that long, which frees the queue. Here
 * a proxy between a node and the database stops reading, both ways.
 */
describe("postgres: a frozen node's notice listener", { skip: skipWithoutPostgres, timeout: 60_000 }, () => {
  /** Short, so the test does not wait long; the product's default is 30 s. */
  const USER_TIMEOUT_MS = 1000;
  let s: TestSchema;
  let other: PostgresStore;
  let proxy: TcpProxy;
  before(async () => {
    s = await migratedTestSchema();
    other = s.store(2);
    proxy = await TcpProxy.to(TEST_DATABASE_URL, 5432);
  });
  after(async () => {
    await proxy.down();
    await s.drop();
  });

  /** The backend pid of the session through the proxy that listens, if any. */
  async function listenerPid(): Promise<number | null> {
    const ports = proxy.upstreamPorts();
    const [row] = await other.sql<{ pid: number }[]>`
      SELECT pid FROM pg_stat_activity WHERE client_port = ANY(${ports}::int[]) AND query ILIKE 'LISTEN%'`;
    return row?.pid ?? null;
  }

  it('is dropped by the database once its notifications go untaken, and listens again when the node is back', async () => {
    const node = new PostgresStore({ url: proxy.url(TEST_DATABASE_URL), schema: s.schema, max: 1, tcpUserTimeoutMs: USER_TIMEOUT_MS });
    try {
      const heard: ClusterNotice[] = [];
      let reconnected = 0;
      await node.cluster.listen(
        (n) => heard.push(n),
        () => reconnected++,
      );
      const pid = await eventually(listenerPid, "the node's listening session");
      const [setting] = await other.sql<{ v: string }[]>`SELECT setting AS v FROM pg_settings WHERE name = 'tcp_user_timeout'`;
      assert.ok(setting, 'the server knows tcp_user_timeout');
      proxy.freeze();
      // Other nodes' notices, far more than the socket buffers between the database and the
      // node hold (each payload distinct: PostgreSQL folds equal ones of one transaction).
      const channel = channelFor(s.schema);
      for (let r = 0; r < 4; r++) {
        await other.sql`SELECT pg_notify(${channel}, ${payloadHead('elsewhere')} || '["d",["' || g || repeat('x', 7000) || '"]]]}')
          FROM generate_series(${r * 1000}::int, ${r * 1000 + 999}::int) g`;
      }
      await eventually(
        async () => (await other.sql`SELECT 1 FROM pg_stat_activity WHERE pid = ${pid}`).length === 0,
        "the database dropping the frozen node's listening session",
        { timeoutMs: 20_000 },
      );
      proxy.thaw();
      await eventually(() => reconnected > 0, 'the node listening again');
      await other.sql`SELECT pg_notify(${channel}, ${payloadHead('elsewhere')} || '["d",["after-thaw"]]]}')`;
      await eventually(() => heard.some((n) => n.kind === 'due' && n.endpointIds.includes('after-thaw')), 'a notice sent after the node came back');
    } finally {
      proxy.thaw();
      await node.close();
    }
  });

  it('opens every session with the configured limit, by default 30 s, and leaves the server its own with 0', async () => {
    const show = (env: Record<string, string>): Promise<string> => sessionSetting(s.url, 'tcp_user_timeout', env);
    assert.equal(await show({}), '30000');
    assert.equal(await show({ SWITCHBOARD_DATABASE_TCP_USER_TIMEOUT_MS: '2500' }), '2500');
    assert.equal(await show({ SWITCHBOARD_DATABASE_TCP_USER_TIMEOUT_MS: '0' }), '0', "the server's own setting");
  });
});

describe('postgres: a transaction whose session the database ended', { skip: skipWithoutPostgres, timeout: 30_000 }, () => {
  let s: TestSchema;
  before(async () => {
    s = await createTestSchema();
    const setup = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {}, connection: { search_path: s.schema } });
    await setup`CREATE TABLE t (k int NOT NULL)`;
    await setup.end();
  });
  after(async () => s.drop());

  it('runs none of its later statements on the reconnected connection, outside any transaction', async () => {
    const c = new PgConnection({ url: TEST_DATABASE_URL, schema: s.schema, max: 1, idleInTransactionTimeoutMs: IDLE_MS });
    try {
      await c.sql`SELECT 1`;
      let resume!: () => void;
      const resumed = new Promise<void>((r) => (resume = r));
      let sentLater!: (answers: Promise<unknown[]>) => void;
      const later = new Promise<unknown[]>((r) => (sentLater = r));
      const done = c.sql.begin(async (tx) => {
        await tx`INSERT INTO t VALUES (1)`;
        await resumed;
        // Sent after the database ended the session: the driver used to run each on the pool's
        // reconnected connection, committed on its own (scripts/patch-dependencies.mjs).
        const answers = Promise.all([2, 3].map((k) => tx`INSERT INTO t VALUES (${k})`.catch((e: { code?: string }) => e.code)));
        sentLater(answers);
        await answers;
      });
      done.catch(() => {});
      // Another query of the node makes the pool's connection reconnect meanwhile.
      await assert.rejects(done, (e: Error & { code?: string }) => e.code === 'CONNECTION_CLOSED', 'the transaction fails with its connection');
      const [other] = await c.sql<{ x: number }[]>`SELECT 42 AS x`;
      assert.equal(other?.x, 42);
      resume();
      assert.deepEqual(await later, ['CONNECTION_CLOSED', 'CONNECTION_CLOSED'], 'the later statements are refused');
      const rows = await c.sql<{ k: number }[]>`SELECT k FROM t ORDER BY k`;
      assert.deepEqual(rows.map((r) => r.k), [], 'nothing of the transaction stayed');
    } finally {
      await c.end(1);
    }
  });
});
