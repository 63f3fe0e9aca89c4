/**
 * A database that cannot store writes: the real SQLite made to raise SQLITE_FULL (with
 * `max_page_count`, and on a real full tmpfs where the test may mount one), a PostgreSQL
 * session made read-only (SQLSTATE 25006), and a read-only data directory at start. A publish
 * gets 507/503 with a code that says why (never 500), health reports degraded with the reason,
 * the metrics and an operational webhook say so, nothing acknowledged is lost, and all of it
 * recovers by itself once writes succeed again.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { WAITED_UNREACHABLE, classifyStorageFault, markDatabaseConnectionError, storageFaultDetail } from '../../src/storage/contract/storage-faults.js';
import type { SqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import type { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { eventually } from '../helpers/eventually.js';
import { MAIN } from '../helpers/process.js';
import { Receiver } from '../helpers/receiver.js';
import { startServer } from '../helpers/server.js';
import { TcpProxy } from '../helpers/tcp-proxy.js';
import type { TestServer } from '../helpers/server.js';
import { TEST_DATABASE_URL, createTestSchema } from '../helpers/pg.js';
import { createApp } from '../helpers/security.js';
import { holdSqliteWriteLock } from '../helpers/sqlite-lock-holder.js';
import { skipWithoutPostgres } from '../helpers/requirements.js';

async function metricsText(server: TestServer): Promise<string> {
  return (await fetch(server.url + '/metrics')).text();
}

const metricValue = (text: string, name: string): number | null => {
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : null;
};

/** A payload of about `bytes` that compresses badly. */
const bulky = (bytes: number): { blob: string } => ({ blob: Array.from({ length: Math.ceil(bytes / 16) }, (_, i) => (i * 2654435761).toString(36).padStart(16, 'x')).join('') });

/** Whether this process may mount file systems (root with CAP_SYS_ADMIN). */
function canMount(dir: string): boolean {
  if (process.getuid?.() !== 0) return false;
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
  if (r.status !== 0) return false;
  spawnSync('umount', [dir]);
  return true;
}

describe('storage faults are classified by database code', () => {
  it('SQLite result codes', () => {
    const of = (code: string) => classifyStorageFault(Object.assign(new Error('x'), { code }))?.kind ?? null;
    assert.equal(of('SQLITE_FULL'), 'full');
    assert.equal(of('SQLITE_READONLY'), 'read_only');
    assert.equal(of('SQLITE_READONLY_DBMOVED'), 'read_only');
    assert.equal(of('SQLITE_IOERR_WRITE'), 'io_error');
    assert.equal(of('SQLITE_BUSY'), 'busy');
    assert.equal(of('SQLITE_BUSY_SNAPSHOT'), 'busy');
    assert.equal(of('SQLITE_LOCKED'), 'busy');
    assert.equal(of('SQLITE_CONSTRAINT_UNIQUE'), null);
    assert.equal(of('SQLITE_ERROR'), null);
  });

  it('PostgreSQL SQLSTATEs and file errors', () => {
    const of = (code: string) => classifyStorageFault(Object.assign(new Error('x'), { code }))?.kind ?? null;
    assert.equal(of('53100'), 'full');
    assert.equal(of('25006'), 'read_only');
    assert.equal(of('58030'), 'io_error');
    assert.equal(of('53300'), 'unavailable');
    assert.equal(of('57P03'), 'unavailable');
    assert.equal(of('55P03'), 'busy');
    assert.equal(of('57014'), 'timeout', 'query_canceled: a statement timeout ran out, or a cancel');
    assert.match(storageFaultDetail(classifyStorageFault(Object.assign(new Error('x'), { code: '57014' }))!), /cancelled the statement.*\(57014\); nothing of this request was stored/);
    assert.equal(of('23505'), null, 'a unique violation is not a storage fault');
    assert.equal(of('42P01'), null);
    assert.equal(of('ENOSPC'), 'full');
    assert.equal(of('EROFS'), 'read_only');
    assert.equal(of('ECONNRESET'), null);
    assert.equal(classifyStorageFault(new Error('no code')), null);
  });

  it('a lost or refused database connection: SQLSTATEs, the driver\'s codes, and socket errors the store marked', () => {
    const err = (code: string) => Object.assign(new Error('x'), { code });
    const of = (e: Error) => classifyStorageFault(e)?.kind ?? null;
    assert.equal(of(err('57P01')), 'unavailable', 'admin_shutdown: the session was terminated');
    assert.equal(of(err('57P02')), 'unavailable');
    assert.equal(of(err('08006')), 'unavailable');
    assert.equal(of(err('08007')), 'unavailable');
    assert.equal(of(err('CONNECTION_CLOSED')), 'unavailable');
    assert.equal(of(err('CONNECT_TIMEOUT')), 'unavailable');
    // Another connection of a route (a broker, an outbound request) meets the same socket codes.
    const refused = err('ECONNREFUSED');
    assert.equal(of(refused), null, 'an unmarked socket error is not the database');
    markDatabaseConnectionError(refused);
    assert.equal(of(refused), 'unavailable');
    const detail = (e: Error) => storageFaultDetail(classifyStorageFault(e)!);
    assert.match(detail(refused), /unreachable.*\(ECONNREFUSED\); nothing of this request was stored/);
    assert.match(detail(err('57P01')), /nothing of this request was stored/);
    // Lost with the COMMIT perhaps on its way: the answer must not say nothing was stored.
    assert.match(detail(err('CONNECTION_CLOSED')), /may have been stored; retry later, with the same eventId if it must not be stored twice/);
    assert.doesNotMatch(detail(err('CONNECTION_CLOSED')), /nothing of this request was stored/);
    // Failed while it waited for a connection: none of its queries was sent.
    assert.equal(of(err(WAITED_UNREACHABLE)), 'unavailable');
    assert.match(detail(err(WAITED_UNREACHABLE)), /\(DATABASE_UNREACHABLE\); nothing of this request was stored/);
    assert.equal(classifyStorageFault('text'), null);
  });

  it('a real read-only PostgreSQL session raises 25006, classified read_only', { skip: skipWithoutPostgres }, async () => {
    const sql = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
    try {
      await sql`SET default_transaction_read_only = on`;
      const err = await sql`CREATE TABLE sb_read_only_probe (i int)`.then(
        () => null,
        (e: unknown) => e,
      );
      assert.ok(err, 'the write was refused');
      assert.deepEqual({ ...classifyStorageFault(err), message: '' }, { kind: 'read_only', code: '25006', message: '' });
    } finally {
      await sql.end();
    }
  });
});

/** The whole cycle on one server whose database is made full by `fill` and given room again by `free`. */
async function fullDiskCycle(server: TestServer, fill: () => Promise<{ status: number; body: any }>, free: () => void | Promise<void>, code: string): Promise<void> {
  const rx = await new Receiver().start();
  try {
    const op = await server.api('POST', '/api/v1/operational-webhook/endpoint', { url: rx.url('/ops'), filterTypes: ['storage.degraded', 'storage.recovered'] });
    assert.equal(op.status, 201);
    const appId = await createApp(server, 'disk');
    const acknowledged: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'disk.test', payload: { i } });
      assert.equal(r.status, 202);
      acknowledged.push(r.body.id);
    }
    assert.equal((await fetch(server.url + '/api/v1/health')).status, 204);

    const refused = await fill();
    assert.equal(refused.status, 507, JSON.stringify(refused.body));
    assert.equal(refused.body.code, 'insufficient_storage');
    assert.match(refused.body.detail, new RegExp(code));

    const health = await fetch(server.url + '/api/v1/health');
    assert.equal(health.status, 503);
    const h = (await health.json()) as any;
    assert.equal(h.code, 'storage_degraded');
    assert.equal(h.storage.reason, 'full');
    assert.equal(h.storage.code, code);
    assert.equal((await fetch(server.url + '/api/v1/health/ready')).status, 204, 'still ready: reads work');

    const m = await metricsText(server);
    assert.equal(metricValue(m, 'switchboard_storage_degraded{reason="full"}'), 1);
    assert.ok((metricValue(m, 'switchboard_storage_faults_total{reason="full"}') ?? 0) >= 1);
    await eventually(() => rx.at('/ops').some((r) => JSON.parse(r.body).type === 'storage.degraded'), 'the storage.degraded webhook');
    const degraded = JSON.parse(rx.at('/ops').find((r) => JSON.parse(r.body).type === 'storage.degraded')!.body);
    assert.equal(degraded.data.reason, 'full');
    assert.equal(degraded.data.code, code);

    // Nothing acknowledged is lost, and reads keep working.
    for (const id of acknowledged) assert.equal((await server.api('GET', `/api/v1/app/${appId}/msg/${id}`)).status, 200);

    await free();
    // No request needed: the probe notices.
    await eventually(async () => (await fetch(server.url + '/api/v1/health')).status === 204, 'health back to 204');
    await eventually(() => rx.at('/ops').some((r) => JSON.parse(r.body).type === 'storage.recovered'), 'the storage.recovered webhook');
    assert.equal(metricValue(await metricsText(server), 'switchboard_storage_degraded{reason="full"}'), 0);
    const again = await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'disk.test', payload: { again: true } });
    assert.equal(again.status, 202);
    for (const id of acknowledged) assert.equal((await server.api('GET', `/api/v1/app/${appId}/msg/${id}`)).status, 200);
  } finally {
    await rx.close();
  }
}

describe('SQLite full (max_page_count): 507, degraded, recovered', { skip: process.env.SWITCHBOARD_TEST_STORE === 'postgres' && 'SQLite only: this run of the API files is the one on PostgreSQL' }, () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ SWITCHBOARD_STORAGE_PROBE_MS: '50' });
  });
  after(async () => server.close());

  it('publish answers 507 insufficient_storage, health degraded, metric and webhook; recovery when room returns', async () => {
    const db = (server.sb.store as SqliteStore).db;
    let appId = '';
    const got: { ingest?: Response } = {};
    await fullDiskCycle(
      server,
      async () => {
        appId = ((await server.api('GET', '/api/v1/app')).body.data as { id: string }[])[0]!.id;
        const source = await server.api('POST', '/ingest/api/v1/source', { name: 'gh', type: 'github', config: { secret: 'gh-secret' } });
        assert.equal(source.status, 201);
        db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
        // An ingest request that cannot be stored: 507 with the code, not a generic 503.
        const body = JSON.stringify({ action: 'opened', ...bulky(600_000) });
        const signature = 'sha256=' + createHmac('sha256', 'gh-secret').update(body).digest('hex');
        got.ingest = await fetch(source.body.ingestUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-github-event': 'issues', 'x-github-delivery': 'd-1', 'x-hub-signature-256': signature },
          body,
        });
        return server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'disk.test', payload: bulky(600_000) });
      },
      () => void db.pragma('max_page_count = 1073741823'),
      'SQLITE_FULL',
    );
    assert.equal(got.ingest?.status, 507);
    assert.equal(((await got.ingest.json()) as any).code, 'insufficient_storage');
  });
});

describe('SQLite locked by another process: 503 storage_busy, degraded, recovered', { skip: process.env.SWITCHBOARD_TEST_STORE === 'postgres' && 'SQLite only: this run of the API files is the one on PostgreSQL' }, () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ SWITCHBOARD_STORAGE_PROBE_MS: '50' });
  });
  after(async () => server.close());

  it('a publish waits out busy_timeout and is refused with a reason, not a 500; nothing acknowledged is lost', async () => {
    const appId = await createApp(server, 'locked');
    const before = await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'lock.test', payload: { i: 0 } });
    assert.equal(before.status, 202);
    // Another process takes the database's write lock and keeps it until told to stop.
    const holder = holdSqliteWriteLock(join(server.dataDir, 'switchboard.db'));
    try {
      assert.equal(await holder.next(), 'locked');
      const refused = await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'lock.test', payload: { i: 1 } });
      assert.equal(refused.status, 503, JSON.stringify(refused.body));
      assert.equal(refused.body.code, 'storage_busy');
      assert.match(refused.body.detail, /holds a lock the write needs \(SQLITE_BUSY/);
      // The probe, which runs while degraded, may itself be waiting out busy_timeout: health says busy once it answers.
      await eventually(async () => {
        const health = await fetch(server.url + '/api/v1/health');
        const h = (await health.json()) as any;
        assert.equal(h.storage?.reason, 'busy', `health ${health.status}: ${JSON.stringify(h)}`);
        return true;
      }, 'health reporting the busy database');
    } finally {
      await holder.stop();
    }
    await eventually(async () => (await fetch(server.url + '/api/v1/health')).status === 204, 'health back to 204');
    assert.equal((await server.api('GET', `/api/v1/app/${appId}/msg/${before.body.id}`)).status, 200);
    assert.equal((await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'lock.test', payload: { i: 2 } })).status, 202);
  });
});

describe('a real full file system (tmpfs)', { skip: process.env.SWITCHBOARD_TEST_STORE === 'postgres' && 'SQLite only: this run of the API files is the one on PostgreSQL' }, () => {
  const mountPoint = mkdtempSync(join(tmpdir(), 'switchboard-tmpfs-'));
  const mountable = canMount(mountPoint);
  let server: TestServer | null = null;
  after(async () => {
    await server?.close().catch(() => undefined);
    if (mountable) spawnSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  it('SQLite on a 4 MB tmpfs: 507 when it is full, recovered when it grows', { skip: mountable ? false : 'needs root with CAP_SYS_ADMIN to mount a tmpfs' }, async () => {
    assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mountPoint]).status, 0);
    const dataDir = join(mountPoint, 'data');
    mkdirSync(dataDir);
    server = await startServer({ SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_STORAGE_PROBE_MS: '50' });
    let appId = '';
    await fullDiskCycle(
      server,
      async () => {
        appId = ((await server!.api('GET', '/api/v1/app')).body.data as { id: string }[])[0]!.id;
        // Fill the file system with acknowledged messages until a publish is refused.
        for (let i = 0; i < 100; i++) {
          const r = await server!.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'disk.fill', payload: bulky(300_000) });
          if (r.status !== 202) return r;
        }
        throw new Error('the tmpfs never filled');
      },
      () => void assert.equal(spawnSync('mount', ['-o', 'remount,size=64m', mountPoint]).status, 0),
      'SQLITE_FULL',
    );
  });
});

describe('a real full file system under PostgreSQL (a tablespace on tmpfs)', { skip: skipWithoutPostgres }, () => {
  const mountPoint = mkdtempSync(join(tmpdir(), 'switchboard-pgfull-'));
  const mountable = canMount(mountPoint);
  const tablespace = `sbfull_${process.pid}_${Date.now().toString(36)}`;
  let server: TestServer | null = null;
  let schema: Awaited<ReturnType<typeof createTestSchema>> | null = null;
  let created = false;
  const admin = () => postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  after(async () => {
    await server?.close().catch(() => undefined);
    await schema?.drop().catch(() => undefined);
    if (created) {
      const sql = admin();
      await sql.unsafe(`DROP TABLESPACE IF EXISTS ${tablespace}`).catch(() => undefined);
      await sql.end();
    }
    if (mountable) spawnSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  it('PostgreSQL tables on an 8 MB tmpfs: 507 when it is full, recovered when it grows', { skip: mountable ? false : 'needs root with CAP_SYS_ADMIN to mount a tmpfs' }, async (t) => {
    assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0755', 'tmpfs', mountPoint]).status, 0);
    const dir = join(mountPoint, 'pg');
    mkdirSync(dir);
    // The database server writes the tablespace as its own user.
    if (spawnSync('chown', ['postgres:postgres', dir]).status !== 0) return t.skip('no postgres system user to own the tablespace');
    const sql = admin();
    try {
      await sql.unsafe(`CREATE TABLESPACE ${tablespace} LOCATION '${dir}'`);
      created = true;
    } catch (e) {
      // A server on another machine or in a container cannot see this directory.
      return t.skip(`the PostgreSQL server cannot use ${dir}: ${(e as Error).message}`);
    } finally {
      await sql.end();
    }
    schema = await createTestSchema('sbfull');
    const url = new URL(schema.url);
    url.searchParams.set('default_tablespace', tablespace);
    server = await startServer({ SWITCHBOARD_DATABASE_URL: url.toString(), SWITCHBOARD_STORAGE_PROBE_MS: '50' });
    await fullDiskCycle(
      server,
      async () => {
        const appId = await createApp(server!, 'fill');
        for (let i = 0; i < 200; i++) {
          const r = await server!.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'disk.fill', payload: bulky(300_000) });
          if (r.status !== 202) return r;
        }
        throw new Error('the tablespace never filled');
      },
      () => void assert.equal(spawnSync('mount', ['-o', 'remount,size=128m', mountPoint]).status, 0),
      '53100',
    );
  });
});

describe('PostgreSQL read-only session: 503 storage_read_only, degraded, recovered', { skip: skipWithoutPostgres }, () => {
  let server: TestServer;
  let schema: Awaited<ReturnType<typeof createTestSchema>>;
  before(async () => {
    schema = await createTestSchema('sbro');
    // One pooled connection: the session setting below applies to every query.
    server = await startServer({ SWITCHBOARD_DATABASE_URL: schema.url, SWITCHBOARD_DATABASE_POOL: '1', SWITCHBOARD_STORAGE_PROBE_MS: '50' });
  });
  after(async () => {
    await server.close();
    await schema.drop();
  });

  it('answers 503 with Retry-After and the reason, and recovers when writes are allowed again', async () => {
    const sql = (server.sb.store as PostgresStore).sql;
    const appId = await createApp(server, 'ro');
    const kept = await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'ro.test', payload: {} });
    assert.equal(kept.status, 202);
    await sql`SET default_transaction_read_only = on`;
    const refused = await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'ro.test', payload: {} });
    assert.equal(refused.status, 503);
    assert.equal(refused.body.code, 'storage_read_only');
    assert.match(refused.body.detail, /25006/);
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    const h = await fetch(server.url + '/api/v1/health');
    assert.equal(h.status, 503);
    assert.equal(((await h.json()) as any).storage.reason, 'read_only');
    assert.equal((await server.api('GET', `/api/v1/app/${appId}/msg/${kept.body.id}`)).status, 200);

    await sql`SET default_transaction_read_only = off`;
    await eventually(async () => (await fetch(server.url + '/api/v1/health')).status === 204, 'health back to 204');
    assert.equal((await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'ro.test', payload: {} })).status, 202);
  });
});

/**
 * Another session holds what a publish needs, in a transaction left open, as an operator's
 * `LOCK TABLE` or DDL does. The node's statements give up after its lock timeout, or, with
 * that off, after a statement timeout set for its sessions: 503 with the reason, nothing
 * stored, and the publish goes through once the other session commits. Without a limit the
 * publish would wait for as long as the transaction stays open.
 */
describe('PostgreSQL: a lock held by another session, a statement timeout: 503, never a wait without end', { skip: skipWithoutPostgres }, () => {
  async function holding(env: Record<string, string>, url: (schemaUrl: string) => string, lock: (tx: postgres.TransactionSql) => Promise<unknown>, check: (server: TestServer, refused: Awaited<ReturnType<TestServer['api']>>) => Promise<void>): Promise<void> {
    const schema = await createTestSchema('sblock');
    const server = await startServer({ SWITCHBOARD_DATABASE_URL: url(schema.url), SWITCHBOARD_DATABASE_POOL: '2', ...env });
    const operator = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {}, connection: { search_path: schema.schema } });
    try {
      const appId = await createApp(server, 'locked');
      assert.equal((await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'lock.test', payload: { n: 1 } })).status, 202);
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      let holds!: () => void;
      const held = new Promise<void>((r) => (holds = r));
      const session = operator.begin(async (tx) => {
        await lock(tx);
        holds();
        await released;
      });
      await held;
      try {
        const refused = await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'lock.test', payload: { n: 2 } });
        assert.equal(refused.status, 503, JSON.stringify(refused.body));
        assert.match(refused.body.detail, /nothing of this request was stored/);
        assert.ok(Number(refused.headers.get('retry-after')) > 0);
        await check(server, refused);
      } finally {
        release();
        await session;
      }
      const taken = await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'lock.test', payload: { n: 3 } });
      assert.equal(taken.status, 202);
      await eventually(async () => (await fetch(server.url + '/api/v1/health')).status === 204, 'health back to 204');
      const listed = await server.api('GET', `/api/v1/app/${appId}/msg`);
      assert.deepEqual((listed.body.data as { payload: { n: number } }[]).map((m) => m.payload.n).sort(), [1, 3], 'the refused publish stored nothing');
    } finally {
      await operator.end();
      await server.close();
      await schema.drop();
    }
  }

  it('an operator\'s LOCK TABLE left open: the lock timeout ends the wait, 503 storage_busy', async () => {
    await holding(
      { SWITCHBOARD_DATABASE_LOCK_TIMEOUT_MS: '300', SWITCHBOARD_STORAGE_PROBE_MS: '50' },
      (u) => u,
      (tx) => tx`LOCK TABLE messages IN ACCESS EXCLUSIVE MODE`,
      async (server, refused) => {
        assert.equal(refused.body.code, 'storage_busy');
        assert.match(refused.body.detail, /holds a lock the write needs \(55P03\)/);
        const h = await fetch(server.url + '/api/v1/health');
        assert.equal(h.status, 503);
        assert.equal(((await h.json()) as any).storage.reason, 'busy');
      },
    );
  });

  it('a statement timeout set for the node\'s sessions: 503 storage_timeout, the health untouched', async () => {
    await holding(
      { SWITCHBOARD_DATABASE_LOCK_TIMEOUT_MS: '0' },
      (u) => `${u}${u.includes('?') ? '&' : '?'}statement_timeout=300`,
      (tx) => tx`SELECT 1 FROM pull_sequence WHERE id = 1 FOR UPDATE`,
      async (server, refused) => {
        assert.equal(refused.body.code, 'storage_timeout');
        assert.match(refused.body.detail, /cancelled the statement.*\(57014\)/);
        assert.equal((await fetch(server.url + '/api/v1/health')).status, 204, 'one cancelled statement does not mark the database degraded');
        assert.match(await metricsText(server), /switchboard_storage_faults_total\{reason="timeout"\} 1/);
      },
    );
  });
});

/**
 * A server on a fresh schema whose connections to PostgreSQL go through a proxy, with `env` on
 * top of a pool of 2; `stop` closes the server, the proxy and the schema. The tests take the
 * database away with `proxy.down({ reset: true })`: every connection reset, new ones refused
 * (as a server that stops or a network that fails shows it), then `proxy.up()` on the same port.
 */
async function startBehindProxy(prefix: string, env: Record<string, string>): Promise<{ server: TestServer; proxy: TcpProxy; stop: () => Promise<void> }> {
  const schema = await createTestSchema(prefix);
  const proxy = await TcpProxy.to(schema.url, 5432);
  const server = await startServer({ SWITCHBOARD_DATABASE_URL: proxy.url(schema.url), SWITCHBOARD_DATABASE_POOL: '2', ...env });
  const stop = async (): Promise<void> => {
    await server.close();
    await proxy.down();
    await schema.drop();
  };
  return { server, proxy, stop };
}

describe('PostgreSQL unreachable (connections reset, then refused): 503 storage_unavailable, never 500', { skip: skipWithoutPostgres }, () => {
  let server: TestServer;
  let proxy: TcpProxy;
  let stop: (() => Promise<void>) | undefined;
  before(async () => {
    // Requests wait for the database however long it is away (the refusal after a while has its own test below).
    ({ server, proxy, stop } = await startBehindProxy('sbdown', { SWITCHBOARD_STORAGE_PROBE_MS: '50', SWITCHBOARD_STORAGE_WAIT_MS: '0' }));
  });
  after(async () => stop?.());

  it('refuses publishes with the reason while the database is away, and takes them again once it is back', async () => {
    const appId = await createApp(server, 'down');
    const kept: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'down.test', payload: { i } });
      assert.equal(r.status, 202);
      kept.push(r.body.id);
    }
    // Publishes in flight when every connection is reset: each is answered, 202 or 503, never
    // 500, and none is left hanging (a transaction whose statements waited behind a busy
    // connection used to stay pending, and every publish after it behind it).
    const inFlight = Array.from({ length: 40 }, (_, i) => server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'down.test', payload: { i }, eventId: `flight-${i}` }));
    // Others carry only an idempotency key, as the svix SDKs send: sent again once the
    // database is back, each must end as one message, whether or not its commit went through.
    const keyed = (i: number) => server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'down.keyed', payload: { i }, tags: ['keyed'] }, { 'idempotency-key': `keyed-${i}` });
    const keyedInFlight = Array.from({ length: 20 }, (_, i) => keyed(i));
    await proxy.down({ reset: true });
    // Requests queued in the pool fail one per failed reconnection of each connection (at most a
    // second apart): 60 requests on a pool of 2 on a loaded machine take well over 10 s. The bound
    // tells an answer from a request left hanging for good.
    const answered = await Promise.race([Promise.all(inFlight), new Promise<null>((r) => setTimeout(() => r(null), 60_000))]);
    assert.ok(answered, 'every publish in flight was answered');
    for (const r of answered) assert.ok(r.status === 202 || (r.status === 503 && r.body.code === 'storage_unavailable'), `a publish in flight: ${r.status} ${JSON.stringify(r.body)}`);
    const keyedAnswered = await Promise.race([Promise.all(keyedInFlight), new Promise<null>((r) => setTimeout(() => r(null), 60_000))]);
    assert.ok(keyedAnswered, 'every keyed publish in flight was answered');
    for (const r of keyedAnswered) assert.ok(r.status === 202 || r.status === 503, `a keyed publish in flight: ${r.status} ${JSON.stringify(r.body)}`);
    const codes = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const r = await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'down.test', payload: { i }, eventId: `down-${i}` });
      assert.equal(r.status, 503, `publish ${i} while the database is away: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.code, 'storage_unavailable');
      assert.ok(Number(r.headers.get('retry-after')) > 0);
      codes.add(/\(([^)]+)\)/.exec(r.body.detail as string)?.[1] ?? '');
    }
    assert.ok(codes.has('ECONNREFUSED'), `new connections are refused: ${[...codes].join(', ')}`);
    assert.equal((await fetch(server.url + '/api/v1/health')).status, 503, 'health: the database is not answering');
    const status = server.sb.storageHealth.status();
    assert.ok(status.degraded && status.reason === 'unavailable', `storage health: ${JSON.stringify(status)}`);
    // Metrics are scraped all the same, without the queue figures the database would give.
    const scrape = await fetch(server.url + '/metrics');
    assert.equal(scrape.status, 200);
    const text = await scrape.text();
    assert.match(text, /switchboard_storage_degraded\{reason="unavailable"\} 1/);
    assert.doesNotMatch(text, /^switchboard_queue_deliveries\{/m);

    await proxy.up();
    await eventually(async () => (await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'down.test', payload: {}, eventId: 'down-back' })).status === 202, 'publishes accepted again');
    await eventually(async () => (await fetch(server.url + '/api/v1/health')).status === 204, 'health back to 204');
    for (const id of kept) assert.equal((await server.api('GET', `/api/v1/app/${appId}/msg/${id}`)).status, 200, 'what was acknowledged before is kept');
    for (const [i, r] of answered.entries()) {
      if (r.status === 202) assert.equal((await server.api('GET', `/api/v1/app/${appId}/msg/flight-${i}`)).status, 200, `accepted in flight, flight-${i} is kept`);
    }
    const ids = new Set<string>();
    for (const [i, first] of keyedAnswered.entries()) {
      const again = await keyed(i);
      assert.equal(again.status, 202, `keyed-${i} sent again`);
      if (first.status === 202) assert.equal(again.body.id, first.body.id, `keyed-${i}: the answer given before`);
      ids.add(again.body.id as string);
    }
    const listed = await server.api('GET', `/api/v1/app/${appId}/msg?tag=keyed&limit=100`);
    assert.deepEqual((listed.body.data as { id: string }[]).map((m) => m.id).sort(), [...ids].sort(), 'one message per key, none twice');
  });

  it('answers health checks at once while requests wait in the pool for the database', async () => {
    const appId = await createApp(server, 'queued');
    const stored = await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'down.queued', payload: {} });
    assert.equal(stored.status, 202, JSON.stringify(stored.body));
    const { id } = stored.body;
    await proxy.down({ reset: true });
    // Reads, a query each, more than the pool fails at once: most wait in its queue, which fails
    // one of them per failed reconnection.
    const waiting = Promise.all(Array.from({ length: 30 }, () => server.api('GET', `/api/v1/app/${appId}/msg/${id}`)));
    const health = fetch(server.url + '/api/v1/health').then((r) => r.status);
    const first = await Promise.race([health.then((status) => ({ health: status })), waiting.then(() => ({ health: null }))]);
    assert.deepEqual(first, { health: 503 }, 'health answered 503 before the queued requests were');
    await proxy.up();
    // Each read finds the message or fails with the database: one sent between a socket's error
    // and its close used to come back empty, a 404 (the driver fix in scripts/patch-dependencies.mjs).
    for (const r of await waiting) assert.ok(r.status === 200 || r.status === 503, `a queued read: ${r.status} ${JSON.stringify(r.body)}`);
    await eventually(async () => (await fetch(server.url + '/api/v1/health')).status === 204, 'health back to 204');
  });
});

describe('PostgreSQL unreachable for longer than SWITCHBOARD_STORAGE_WAIT_MS: requests are refused at once', { skip: skipWithoutPostgres }, () => {
  let server: TestServer;
  let proxy: TcpProxy;
  let stop: (() => Promise<void>) | undefined;
  before(async () => {
    // The usual probe interval: while the database is unreachable the probe runs every second all the same.
    ({ server, proxy, stop } = await startBehindProxy('sbwait', { SWITCHBOARD_STORAGE_WAIT_MS: '300', SWITCHBOARD_STORAGE_PROBE_MS: '5000' }));
  });
  after(async () => stop?.());

  it('answers every request 503 without queueing it for the database, serves health and metrics, and takes requests again once it is back', async () => {
    const appId = await createApp(server, 'wait');
    const kept = await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'wait.test', payload: {} });
    assert.equal(kept.status, 202, JSON.stringify(kept.body));
    await proxy.down({ reset: true });
    // Requests that meet the dead connections find it unreachable; after 300 ms of that, the
    // next ones are refused before they reach the pool.
    await eventually(async () => {
      const r = await server.api('GET', `/api/v1/app/${appId}/msg/${kept.body.id}`);
      return r.status === 503 && /without waiting/.test(r.body.detail as string);
    }, 'requests refused at once');
    // Many more than the pool could fail in a round of reconnections: without the refusal most
    // of them would wait in the pool's queue until the database is back, which it is not here.
    const requests = Array.from({ length: 60 }, (_, i) =>
      i % 3 === 0
        ? server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'wait.test', payload: { i }, eventId: `wait-${i}` })
        : i % 3 === 1
          ? server.api('GET', `/api/v1/app/${appId}/msg/${kept.body.id}`)
          : server.api('GET', `/api/v1/app/${appId}/endpoint`),
    );
    const answered = await Promise.race([Promise.all(requests), new Promise<null>((r) => setTimeout(() => r(null), 20_000))]);
    assert.ok(answered, 'every request was answered while the database was still away');
    for (const r of answered) {
      assert.equal(r.status, 503, JSON.stringify(r.body));
      assert.equal(r.body.code, 'storage_unavailable');
      assert.match(r.body.detail as string, /unreachable .*\(\w+\), for \d+ s now: the request was refused without waiting for it and nothing of it was stored/);
      assert.equal(r.headers.get('retry-after'), '30');
    }
    assert.equal((await fetch(server.url + '/api/v1/health')).status, 503, 'health is asked, not refused: the database is not answering');
    const scrape = await fetch(server.url + '/metrics');
    assert.equal(scrape.status, 200, 'metrics are not refused');
    const refusedTotal = metricValue(await scrape.text(), 'switchboard_storage_refused_total');
    assert.ok((refusedTotal ?? 0) >= 60, `refusals counted: ${refusedTotal}`);

    await proxy.up();
    // The probe runs every second while the database is unreachable (not every 5 s): once one
    // goes through, requests are taken again.
    await eventually(async () => (await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'wait.test', payload: {}, eventId: 'wait-back' })).status === 202, 'publishes accepted again');
    assert.equal((await server.api('GET', `/api/v1/app/${appId}/msg/${kept.body.id}`)).status, 200, 'what was acknowledged before is kept');
    for (let i = 0; i < 60; i += 3) assert.equal((await server.api('GET', `/api/v1/app/${appId}/msg/wait-${i}`)).status, 404, `refused wait-${i} was not stored`);
    await eventually(async () => (await fetch(server.url + '/api/v1/health')).status === 204, 'health back to 204');
  });

  it('fails the requests already waiting for a connection once the database has been unreachable that long, not when it is back', async () => {
    const appId = await createApp(server, 'waiting');
    const kept = await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'wait.queued', payload: {} });
    assert.equal(kept.status, 202, JSON.stringify(kept.body));
    await proxy.down({ reset: true });
    // Sent before any fault was seen, so none is refused at the door: they queue in the pool of
    // 2, which fails one per failed reconnection of each connection (at most a second apart):
    // 100 such requests took 17.6 s that way, and 200 were not all answered after 20 s. The
    // bound tells that from being failed at once (2-3 s).
    const requests = Array.from({ length: 200 }, (_, i) =>
      i % 4 === 0
        ? server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'wait.queued', payload: { i }, eventId: `queued-${i}` })
        : server.api('GET', `/api/v1/app/${appId}/msg/${kept.body.id}`),
    );
    const answered = await Promise.race([Promise.all(requests), new Promise<null>((r) => setTimeout(() => r(null), 20_000))]);
    assert.ok(answered, 'every waiting request was answered while the database was still away');
    const waited = answered.filter((r) => /\(DATABASE_UNREACHABLE\); nothing of this request was stored/.test(String(r.body.detail)));
    for (const r of answered) assert.equal(r.status, 503, JSON.stringify(r.body));
    assert.ok(waited.length > 0, 'some were failed while they waited for a connection');
    const failedTotal = metricValue(await metricsText(server), 'switchboard_storage_waiting_failed_total');
    // Counted by query: publishes that share a commit wait as one transaction.
    assert.ok((failedTotal ?? 0) > 0, `counted: ${failedTotal}`);

    await proxy.up();
    await eventually(async () => (await fetch(server.url + '/api/v1/health')).status === 204, 'health back to 204');
    assert.equal((await server.api('GET', `/api/v1/app/${appId}/msg/${kept.body.id}`)).status, 200, 'what was acknowledged before is kept');
    for (let i = 0; i < 200; i += 4) assert.equal((await server.api('GET', `/api/v1/app/${appId}/msg/queued-${i}`)).status, 404, `failed queued-${i} was not stored`);
  });
});

describe('a read-only data directory at start', () => {
  it(`exits with code ${EXIT.dataDirUnwritable} and names the directory`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-ro-'));
    let mounted = false;
    try {
      if (canMount(dir)) {
        mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', dir]).status === 0;
      } else if (process.getuid?.() !== 0) {
        spawnSync('chmod', ['0500', dir]);
      } else {
        t.skip('root without mount: permission bits do not stop root, and no read-only mount can be made');
        return;
      }
      const r = spawnSync(process.execPath, [MAIN, 'serve'], {
        env: { ...process.env, SWITCHBOARD_DATA_DIR: dir, SWITCHBOARD_PORT: '0', SWITCHBOARD_HOST: '127.0.0.1', SWITCHBOARD_ADMIN_TOKEN: 'sb_test_admin_token_0123456789abcdef', SWITCHBOARD_DATABASE_URL: '' },
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(r.status, EXIT.dataDirUnwritable, r.stderr);
      assert.ok(r.stderr.includes(dir), r.stderr);
      assert.match(r.stderr, /not writable/);
    } finally {
      if (mounted) spawnSync('umount', [dir]);
      spawnSync('chmod', ['0700', dir]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
