/**
 * The connection pool a PostgreSQL store opens, with what every concern's queries share:
 * the secret box, this node's identity, and the cluster notices a write transaction queues.
 */
import { randomBytes } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import type { Sql, TransactionSql } from 'postgres';
import { SecretBox } from '../../security/crypto.js';
import { WAITED_UNREACHABLE, markDatabaseConnectionError } from '../contract/storage-faults.js';
import { claimLockSpace, endpointLockKeys } from './advisory-locks.js';
import { channelFor, encodeNotices } from './notices.js';
import type { EncodedNotice } from './notices.js';
import { decodeText, encodeText } from './text.js';

/** Which PostgreSQL database and schema, and how the pool and caps are sized. */
export interface PostgresOptions {
  /** `postgres://user:password@host:port/database`; query parameters such as `search_path` are passed to the server. */
  url: string;
  /** Schema holding the tables (sets `search_path`); by default the URL's or the server's. */
  schema?: string | undefined;
  /** Most connections in the pool (one more is opened for notices). */
  max?: number | undefined;
  /** Seals endpoint secrets and headers at rest; plaintext without one. */
  box?: SecretBox | undefined;
  /** Most deliveries of one endpoint in flight at once, over all nodes, when leased at publish time. */
  endpointConcurrency?: number | undefined;
  /**
   * Milliseconds a session of this node may sit idle inside a transaction before the database
   * ends it (`idle_in_transaction_session_timeout`), releasing its locks: a node that stops
   * mid-transaction (frozen, paused, cut off by the network without a reset) would otherwise
   * hold its claim locks, or the position counter's lock, and stop every other node's
   * publishes. Absent or 0 leaves PostgreSQL's own setting; Switchboard's configuration
   * (`SWITCHBOARD_DATABASE_IDLE_IN_TRANSACTION_MS`) gives its default.
   */
  idleInTransactionTimeoutMs?: number | undefined;
  /**
   * Milliseconds the database keeps a session whose data this node does not take or acknowledge
   * (`tcp_user_timeout`): a frozen node's notice listener stops pinning the server's notification
   * queue after this long. Absent or 0 leaves PostgreSQL's own setting; Switchboard's
   * configuration (`SWITCHBOARD_DATABASE_TCP_USER_TIMEOUT_MS`) gives its default.
   */
  tcpUserTimeoutMs?: number | undefined;
  /**
   * Milliseconds a statement of this node waits for a lock before it fails with 55P03
   * (`lock_timeout`), a storage fault answered 503: an operator's DDL or `LOCK TABLE` left in
   * an open transaction would otherwise hold every statement that touches its table, for good.
   * Migrations wait for each other without it. Absent or 0 leaves PostgreSQL's own setting;
   * Switchboard's configuration (`SWITCHBOARD_DATABASE_LOCK_TIMEOUT_MS`) gives its default.
   */
  lockTimeoutMs?: number | undefined;
}

/**
 * The statement that gives a new connection the session settings set here (milliseconds; absent
 * or 0 leaves the server's own), or undefined for none. They are set once the connection is
 * ready, not sent as startup parameters, which a connection pooler refuses (PgBouncer closes
 * the connection: "unsupported startup parameter").
 */
function sessionSetup(settings: Record<string, number | undefined>): string | undefined {
  const sets = Object.entries(settings)
    .filter((e): e is [string, number] => Number.isInteger(e[1]) && (e[1] as number) > 0)
    .map(([name, ms]) => `SET ${name} = ${ms}`);
  return sets.length > 0 ? sets.join('; ') : undefined;
}

/** The longest a ping (a health check's) waits for the database. */
const PING_TIMEOUT_MS = 5000;

/** The longest a ROLLBACK after a failed transaction is waited for. */
const ROLLBACK_WAIT_MS = 30_000;

/** Whether `e` says the connection it came from is gone (rather than a statement refused). */
function connectionLost(e: unknown): boolean {
  if (e instanceof postgres.PostgresError) return e.severity === 'FATAL' || e.severity === 'PANIC';
  const err = e as { code?: unknown; syscall?: unknown };
  // Socket errors (ECONNRESET, EPIPE...) carry their system call; postgres.js's own name the connection.
  return typeof err.syscall === 'string' || (typeof err.code === 'string' && /^CONNECT(ION)?_/.test(err.code));
}

/** The parts of postgres.js's parsed options a socket is opened from. */
interface SocketTarget {
  host: string[];
  port: number[];
  path?: string | false | undefined;
}

/**
 * Opens the pool's sockets as postgres.js would (a Unix socket path, or the hosts in turn),
 * marking their errors as the database's: a refused or reset connection is then answered as
 * the database unreachable (503), where the same codes from any other connection are not.
 */
function databaseSockets(): (o: SocketTarget) => Socket {
  let next = 0;
  return (o) => {
    const i = next++ % Math.max(1, o.host.length);
    const host = o.host[i] ?? 'localhost';
    const port = o.port[i] ?? o.port[0] ?? 5432;
    const socket = o.path ? netConnect(o.path) : netConnect(port, host);
    // postgres.js names these in its errors and uses the host for TLS.
    Object.assign(socket, { host, port });
    socket.on('error', markDatabaseConnectionError);
    return socket;
  };
}

/** The PostgreSQL pool of a store and what its queries share. */
export class PgConnection {
  readonly sql: Sql;
  /** Seals secrets at rest. */
  readonly box: SecretBox;
  /** This node's identity in cluster notices. */
  readonly nodeId = randomBytes(9).toString('base64url');
  /** Most deliveries of one endpoint in flight at once when leased at publish time. */
  readonly endpointConcurrency: number;
  /**
   * This node's leased deliveries whose request has ended, their attempt not recorded yet
   * (`ClusterStore.countEndedRequests`): the live leases counted against the caps leave them out.
   */
  endedRequests: () => readonly number[] = () => [];

  constructor(opts: PostgresOptions) {
    this.url = opts.url;
    this.connectionParams = {
      application_name: 'switchboard',
      ...(opts.schema ? { search_path: opts.schema } : {}),
    };
    this.sessionSetup = sessionSetup({
      idle_in_transaction_session_timeout: opts.idleInTransactionTimeoutMs,
      tcp_user_timeout: opts.tcpUserTimeoutMs,
      lock_timeout: opts.lockTimeoutMs,
    });
    this.sql = postgres(opts.url, {
      max: opts.max ?? 10,
      onnotice: () => {},
      // BIGINT columns hold milliseconds and counters, all below 2^53.
      types: {
        int8: { to: 20, from: [20], serialize: (v: number) => String(v), parse: (v: string) => Number(v) },
        text: { to: 25, from: [25], serialize: encodeText, parse: decodeText },
      },
      connection: this.connectionParams,
      onclose: () => this.closes++,
      // Seconds before a connection that failed is opened again. postgres.js's default grows
      // to 20 s, and a request waits for it: while the database is away, a request would hang
      // that long before its 503. With a 1 s cap a request alone is answered within about a
      // second (under load most wait in the pool's queue until the database is back), and the
      // pool is back within about a second of the database.
      backoff: (retries: number) => (0.5 + Math.random() / 2) * Math.min(2 ** retries / 100, 1),
      // postgres.js takes a socket factory (its types leave the option out), and the settings
      // (`setup`, added to it by scripts/patch-dependencies.mjs).
      ...({ socket: databaseSockets(), setup: this.sessionSetup } as object),
    });
    this.box = opts.box ?? SecretBox.plaintext();
    this.endpointConcurrency = opts.endpointConcurrency ?? 20;
  }

  private readonly url: string;
  private readonly connectionParams: Record<string, string>;
  /** The `SET`s every new connection runs before its first query; undefined for none. */
  private readonly sessionSetup: string | undefined;
  /** The connection of `ping`, apart from the pool; opened on the first ping. */
  private pinger: Sql | null = null;
  /** Whether `end` was called: no ping opens a connection after it. */
  private ended = false;

  /**
   * Whether the database answers, on a connection of its own: a health check never waits in the
   * pool's queue (while the database is away under load, every query of the pool waits there
   * for a connection), and fails after `timeoutMs` at most (a connection whose packets are
   * dropped is then opened afresh).
   */
  async ping(timeoutMs = PING_TIMEOUT_MS): Promise<void> {
    if (this.ended) throw new Error('the store is closed');
    const sql = (this.pinger ??= postgres(this.url, {
      max: 1,
      onnotice: () => {},
      connection: this.connectionParams,
      connect_timeout: Math.ceil(timeoutMs / 1000),
      // Closed when health checks stop, so the pool's sessions are all it keeps open then.
      idle_timeout: 30,
      backoff: () => 0,
      ...({ socket: databaseSockets(), setup: this.sessionSetup } as object),
    }));
    const stop = new AbortController();
    const timedOut = sleep(timeoutMs, true, { ref: false, signal: stop.signal }).catch(() => false);
    try {
      if (await Promise.race([sql`SELECT 1`.then(() => false), timedOut])) {
        if (this.pinger === sql) this.pinger = null;
        void sql.end({ timeout: 0 });
        throw new Error(`the database did not answer within ${timeoutMs} ms`);
      }
    } finally {
      stop.abort();
    }
  }

  /**
   * Fails every query (and transaction) waiting in the pool's queue for a connection with a
   * `WAITED_UNREACHABLE` fault saying `why`; how many. None of them was sent, so nothing of
   * them is stored. (`failWaiting` is added to postgres.js by scripts/patch-dependencies.mjs.)
   */
  failWaiting(why: string): number {
    const pool = this.sql as Sql & { failWaiting?: (error: () => Error) => number };
    if (!pool.failWaiting) return 0;
    return pool.failWaiting(() => Object.assign(new Error(`${why}: the query waited for a connection and was not sent`), { code: WAITED_UNREACHABLE }));
  }

  private schemaName: string | null = null;
  private channelName: string | null = null;
  /** Connections of the pool closed so far. */
  private closes = 0;

  /**
   * Closes the pool: queries running finish (within `timeoutSeconds`, then they are cut off),
   * new ones are refused. postgres.js (3.4) serves queries still queued when the pool is ended
   * on connections it opens again, and leaves those open, which keeps the process alive; they
   * are ended here once the queue has run dry, within `timeoutSeconds` more.
   */
  async end(timeoutSeconds: number): Promise<void> {
    this.ended = true;
    const pinger = this.pinger;
    this.pinger = null;
    await Promise.all([this.sql.end({ timeout: timeoutSeconds }), pinger?.end({ timeout: 0 })]);
    // `close()` ends every connection of the pool (postgres.js has it; its types leave it out).
    const pool = this.sql as Sql & { close(): Promise<void> };
    const timeUp = sleep(timeoutSeconds * 1000, false, { ref: false });
    const round = async (): Promise<boolean> => {
      const closed = this.closes;
      // Twice: a connection's end can return once it is told to close, before its socket has
      // (and, the queue not empty, opened again). The second waits for that socket.
      await pool.close();
      await pool.close();
      // A socket's close event comes a turn after it reads as closed.
      await sleep(1);
      return this.closes !== closed;
    };
    // Rounds until one closes nothing, or the time is up.
    let more = true;
    while (more) more = await Promise.race([round(), timeUp]);
  }

  /**
   * This store's schema (the first of the search path), read once, on `tx` when given (so a
   * transaction never waits for a second connection): the first call costs one round trip.
   * The schema must exist (it does once migrated).
   */
  async schema(tx: Sql | TransactionSql = this.sql): Promise<string> {
    if (this.schemaName === null) {
      const [row] = await tx<{ schema: string | null }[]>`SELECT current_schema() AS schema`;
      if (!row?.schema) throw new Error('the PostgreSQL search_path names no existing schema; run the migrations first');
      this.schemaName = row.schema;
    }
    return this.schemaName;
  }

  /** The notice channel of this store's schema. */
  async channel(tx: Sql | TransactionSql = this.sql): Promise<string> {
    return (this.channelName ??= channelFor(await this.schema(tx)));
  }

  /**
   * Takes the claim locks of these endpoints (advisory, held until `tx` ends), in the one order
   * every transaction takes them in, so claimers and publishers of one endpoint read and change
   * its cross-node caps one at a time and never deadlock. The statement is issued at once (so
   * statements issued after it run after it), which needs the schema known: await `schema(tx)`
   * first.
   */
  lockEndpoints(tx: TransactionSql, endpointIds: Iterable<string>): Promise<unknown> {
    if (this.schemaName === null) throw new Error('the schema is not known yet: await schema() before taking claim locks');
    const keys = endpointLockKeys(endpointIds);
    const space = claimLockSpace(this.schemaName);
    if (keys.length === 0) return Promise.resolve();
    if (keys.length === 1) return tx`SELECT pg_advisory_xact_lock(${space}::int, ${keys[0]!}::int)`;
    return tx`SELECT pg_advisory_xact_lock(${space}::int, k) FROM unnest(${keys}::int[]) WITH ORDINALITY AS t(k, n) ORDER BY n`;
  }

  /**
   * Runs `fn` in a transaction on one connection, in fewer round trips than `sql.begin`: the
   * BEGIN travels with the first statements `fn` issues, and `fn` may send the COMMIT with its
   * last ones: `Promise.all([tx\`...\`, commit()])`, the COMMIT last.
   * Without that, the COMMIT is sent once `fn` resolves; when `fn` throws, the transaction is
   * rolled back. A statement that fails aborts the transaction, so a COMMIT sent after it rolls
   * back: `commit()` rejects then, as the failed statement does.
   *
   * With `durable: false` the COMMIT does not wait for the transaction's WAL to reach the disk
   * (`synchronous_commit = off`): the WAL writer flushes it within a few hundred ms, with others.
   * For writes that the server's crash may undo without losing anything acknowledged.
   */
  async transaction<T>(fn: (tx: TransactionSql, commit: () => PromiseLike<void>) => Promise<T>, opts: { durable: boolean } = { durable: true }): Promise<T> {
    const tx = await this.sql.reserve();
    // Statements run in the order they start, and a statement of postgres.js starts when it is
    // first awaited (`then`): so does the COMMIT, which thus runs after every statement listed
    // before it in a `Promise.all`.
    let committed: Promise<void> | null = null;
    const commitNow = (): Promise<void> =>
      (committed ??= tx`COMMIT`.then((r) => {
        if ((r as unknown as { command: string }).command !== 'COMMIT') throw new Error('the transaction was rolled back: a statement in it failed');
      }));
    const commit = (): PromiseLike<void> => ({ then: (ok, failed) => commitNow().then(ok, failed) });
    let result: T;
    try {
      const began = (opts.durable ? tx`BEGIN` : tx.unsafe('BEGIN; SET LOCAL synchronous_commit = off')).execute();
      // A failed BEGIN (a lost connection) fails every statement after it as well.
      began.catch(() => {});
      result = await fn(tx as unknown as TransactionSql, commit);
      await began;
      await commitNow();
    } catch (e) {
      // A lost connection is already back in the pool as closed (a statement sent on it would
      // never end); handing it back again would put it among the open ones. Otherwise the
      // transaction is ended if still open (a no-op, with a warning, if not) and the connection
      // handed back; should the ROLLBACK not end (its connection lost without saying so), the
      // connection is left out, a smaller pool rather than a hung one.
      if (!connectionLost(e)) {
        const ended = await Promise.race([tx`ROLLBACK`.then(() => true, () => false), sleep(ROLLBACK_WAIT_MS, false, { ref: false })]);
        if (ended) tx.release();
      }
      throw e;
    }
    tx.release();
    return result;
  }

  /**
   * Queues notices to be sent when `tx` commits. Once the schema is known, the statements are
   * issued at once, so a COMMIT issued after this call in the same turn comes after them.
   */
  notify(tx: TransactionSql, notices: EncodedNotice[]): Promise<void> {
    if (this.schemaName === null) return this.schema(tx).then(() => this.notify(tx, notices));
    const channel = (this.channelName ??= channelFor(this.schemaName));
    return Promise.all(encodeNotices(this.nodeId, notices).map((p) => tx`SELECT pg_notify(${channel}, ${p})`)).then(() => undefined);
  }

  /** Queues a notice that deliveries of these endpoints fell due, if there are any. */
  async notifyDue(tx: TransactionSql, endpointIds: string[]): Promise<void> {
    const ids = [...new Set(endpointIds)];
    if (ids.length > 0) await this.notify(tx, [{ kind: 'due', endpointIds: ids }]);
  }
}
