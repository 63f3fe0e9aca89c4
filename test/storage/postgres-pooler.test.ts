/**
 * A node through a connection pooler: a real PgBouncer in session mode (the mode scaling.md
 * names) in front of the test server, on a database of its own. PgBouncer refuses startup
 * parameters it does not know ("unsupported startup parameter") and closes the connection,
 * so a node that sent its session settings that way (`idle_in_transaction_session_timeout`,
 * `lock_timeout`, `tcp_user_timeout`) could not connect at all. They are set once each
 * connection is ready instead: the node migrates, serves, delivers, and its sessions carry
 * the settings.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import type { PostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { eventually } from '../helpers/eventually.js';
import { TEST_DATABASE_URL } from '../helpers/pg.js';
import { Receiver } from '../helpers/receiver.js';
import { PGBOUNCER, skipWithoutPgbouncer, skipWithoutPostgres } from '../helpers/requirements.js';
import { createApp } from '../helpers/security.js';
import { startServer, type TestServer } from '../helpers/server.js';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

/** The uid and gid of `user`, or null when there is none. */
function ids(user: string): { uid: number; gid: number } | null {
  const r = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  return r.status === 0 && g.status === 0 ? { uid: Number(r.stdout), gid: Number(g.stdout) } : null;
}

/**
 * PgBouncer in session mode on a free loopback port, in front of the test server (trust
 * authentication, as the test server has). It refuses to run as root: as root it runs as the
 * `postgres` user.
 */
async function startPgbouncer(): Promise<{ port: number; proc: ChildProcess; stop: () => Promise<void> }> {
  const upstream = new URL(TEST_DATABASE_URL);
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-pgbouncer-'));
  const port = await freePort();
  const user = decodeURIComponent(upstream.username || 'postgres');
  writeFileSync(join(dir, 'users.txt'), `"${user}" ""\n`);
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = host=${upstream.hostname} port=${upstream.port || '5432'}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'users.txt')}`,
      'pool_mode = session',
      'max_client_conn = 100',
      'default_pool_size = 40',
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      '',
    ].join('\n'),
  );
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? ids('postgres') : null;
  if (asRoot && !owner) throw new Error('PgBouncer does not run as root, and there is no postgres user to run it as');
  if (owner) for (const f of ['', 'users.txt', 'pgbouncer.ini']) chownSync(join(dir, f), owner.uid, owner.gid);
  const proc = spawn(PGBOUNCER, [join(dir, 'pgbouncer.ini')], { stdio: 'ignore', ...(owner ? { uid: owner.uid, gid: owner.gid } : {}) });
  const probe = postgres(`postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/${upstream.pathname.slice(1) || 'postgres'}`, { max: 1, onnotice: () => {}, connect_timeout: 2 });
  try {
    await eventually(async () => (await probe`SELECT 1 AS x`.then(() => true, () => false)), 'PgBouncer answers');
  } finally {
    await probe.end({ timeout: 1 });
  }
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  return { port, proc, stop };
}

describe('postgres: the driver\'s setup statement (scripts/patch-dependencies.mjs)', { skip: skipWithoutPostgres, timeout: 30_000 }, () => {
  it('runs on every new connection before its first query', async () => {
    const sql = postgres(TEST_DATABASE_URL, { max: 2, onnotice: () => {}, ...({ setup: 'SET lock_timeout = 1234; SET application_name = \'set up\'' } as object) });
    try {
      const rows = await Promise.all([0, 1].map(async () => {
        const c = await sql.reserve();
        try {
          const [row] = await c<{ lock: string; app: string }[]>`SELECT current_setting('lock_timeout') AS lock, current_setting('application_name') AS app`;
          return row!;
        } finally {
          c.release();
        }
      }));
      assert.deepEqual(rows, [{ lock: '1234ms', app: 'set up' }, { lock: '1234ms', app: 'set up' }]);
    } finally {
      await sql.end();
    }
  });

  it('that fails, fails the waiting query with its error and runs nothing without it', async () => {
    const sql = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {}, ...({ setup: 'SET no_such_setting = 1' } as object) });
    try {
      for (let i = 0; i < 2; i++) {
        await assert.rejects(sql`SELECT 1 AS x`, (e: Error & { code?: string }) => e.code === '42704' && /no_such_setting/.test(e.message), `query ${i + 1}`);
      }
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
});

describe('postgres: a node through PgBouncer (session mode)', { skip: skipWithoutPostgres || skipWithoutPgbouncer, timeout: 60_000 }, () => {
  const database = `sbpooler_${randomBytes(4).toString('hex')}`;
  const admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
  let bouncer: Awaited<ReturnType<typeof startPgbouncer>>;
  let server: TestServer;
  let rx: Receiver;

  before(async () => {
    await admin.unsafe(`CREATE DATABASE ${database}`);
    bouncer = await startPgbouncer();
    rx = await new Receiver().start();
    const url = new URL(TEST_DATABASE_URL);
    url.hostname = '127.0.0.1';
    url.port = String(bouncer.port);
    url.pathname = `/${database}`;
    url.search = '';
    server = await startServer({ SWITCHBOARD_DATABASE_URL: url.toString(), SWITCHBOARD_DATABASE_POOL: '3', SWITCHBOARD_DATABASE_LOCK_TIMEOUT_MS: '7000' });
  });

  after(async () => {
    await server?.close();
    await rx?.close();
    await bouncer?.stop();
    await admin.unsafe(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });

  it('migrates, publishes and delivers, with its session settings on every connection', async () => {
    const appId = await createApp(server, 'pooled');
    const ep = await server.api('POST', `/api/v1/app/${appId}/endpoint`, { url: rx.url('/pooled') });
    assert.equal(ep.status, 201, JSON.stringify(ep.body));
    const sent = await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'pooled.test', payload: { through: 'pgbouncer' } });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    await eventually(() => rx.at('/pooled').length === 1, 'the message delivered');

    const sql = (server.sb.store as PostgresStore).sql;
    // Every connection of the pool: each reserved at once, so none is asked twice.
    const sessions = await Promise.all([0, 1, 2].map(async () => {
      const c = await sql.reserve();
      try {
        const [row] = await c<{ idle: string; lock: string; tcp: string; db: string }[]>`
          SELECT current_setting('idle_in_transaction_session_timeout') AS idle, current_setting('lock_timeout') AS lock,
                 current_setting('tcp_user_timeout') AS tcp, current_database() AS db`;
        return row!;
      } finally {
        c.release();
      }
    }));
    for (const s of sessions) assert.deepEqual(s, { idle: '10s', lock: '7s', tcp: '30000', db: database });
  });
});
