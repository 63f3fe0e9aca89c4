/**
 * API keys: shown once, stored as a hash, scoped, expiring, revocable, with a last-used
 * time; managed through the API and the CLI.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { FakeClock } from '../helpers/fake-clock.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { call, createApp, createKey } from '../helpers/security.js';
import { rawRows } from '../helpers/raw-db.js';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

describe('API keys', () => {
  let server: TestServer;
  const clock = new FakeClock(Date.UTC(2030, 0, 1));
  let appA: string;
  let appB: string;

  before(async () => {
    server = await startServer({}, { clock });
    appA = await createApp(server, 'A', 'key-app-a');
    appB = await createApp(server, 'B');
  });
  after(async () => server.close());

  it('is random, prefixed, shown once and stored only as a hash', async () => {
    const { key, id, body } = await createKey(server, ['read'], appA);
    assert.match(key, /^sbk_[A-Za-z0-9_-]{43}$/, '32 random bytes after the prefix');
    assert.equal(Buffer.from(key.slice(4), 'base64url').length, 32);
    assert.equal(body.prefix, key.slice(0, 12));
    assert.deepEqual(body.scopes, ['read']);
    assert.equal(body.appId, appA);
    const got = await server.api('GET', `/api/v1/api-key/${id}`);
    assert.equal(got.status, 200);
    assert.equal(got.body.key, undefined, 'never shown again');
    const list = await server.api('GET', `/api/v1/api-key?app_id=${appA}`);
    assert.ok(list.body.data.some((k: any) => k.id === id));
    assert.ok(!JSON.stringify(list.body).includes(key.slice(12)));
    const rows = await rawRows(server.sb.store, 'SELECT * FROM api_keys');
    const dump = JSON.stringify(rows);
    assert.ok(!dump.includes(key.slice(12)), 'the secret part of the key is not in the database');
    assert.ok(rows.some((r: any) => r.hash.length === 64));
    const second = await createKey(server, ['read'], appA);
    assert.notEqual(second.key, key);
  });

  it('accepts the application uid and refuses bad scope combinations', async () => {
    const byUid = await createKey(server, ['read'], 'key-app-a');
    assert.equal(byUid.body.appId, appA, 'stored under the application id');
    for (const [body, loc] of [
      [{ name: 'x', scopes: ['admin', 'read'] }, 'scopes'],
      [{ name: 'x', scopes: ['admin'], appId: appA }, 'appId'],
      [{ name: 'x', scopes: ['read'] }, 'appId'],
      [{ name: 'x', scopes: [] }, 'scopes'],
      [{ name: 'x', scopes: ['root'] }, 'scopes'],
    ] as const) {
      const r = await server.api('POST', '/api/v1/api-key', body);
      assert.equal(r.status, 422, JSON.stringify(body));
      assert.ok(JSON.stringify(r.body.detail).includes(loc), JSON.stringify(r.body));
    }
    assert.equal((await server.api('POST', '/api/v1/api-key', { name: 'x', scopes: ['read'], appId: 'app_missing' })).status, 404);
    const past = new Date(clock.now() - 1000).toISOString();
    assert.equal((await server.api('POST', '/api/v1/api-key', { name: 'x', scopes: ['read'], appId: appA, expiresAt: past })).status, 422);
  });

  it('scopes what a key can do: read, publish, write, admin', async () => {
    const read = (await createKey(server, ['read'], appA)).key;
    const publish = (await createKey(server, ['publish'], appA)).key;
    const write = (await createKey(server, ['write'], appA)).key;
    const admin = (await createKey(server, ['admin'])).key;
    const msg = { eventType: 'k.test', payload: { a: 1 } };
    assert.equal((await call(server, 'GET', `/api/v1/app/${appA}/msg`, { token: read })).status, 200);
    assert.equal((await call(server, 'POST', `/api/v1/app/${appA}/msg`, { token: read, body: msg })).status, 403);
    assert.equal((await call(server, 'POST', `/api/v1/app/${appA}/msg`, { token: publish, body: msg })).status, 202);
    assert.equal((await call(server, 'GET', `/api/v1/app/${appA}/msg`, { token: publish })).status, 403, 'publish does not imply read');
    assert.equal((await call(server, 'POST', `/api/v1/app/${appA}/msg`, { token: write, body: msg })).status, 202, 'write implies publish');
    assert.equal((await call(server, 'PATCH', `/api/v1/app/${appA}`, { token: write, body: { name: 'A2' } })).status, 200);
    assert.equal((await call(server, 'GET', `/api/v1/app/${appA}`, { token: write })).status, 200, 'write implies read');
    for (const k of [read, publish, write]) {
      assert.equal((await call(server, 'GET', `/api/v1/app/${appB}`, { token: k })).status, 404, 'another application looks absent');
      assert.equal((await call(server, 'GET', '/api/v1/app', { token: k })).status, 403, 'organisation routes need admin');
      assert.equal((await call(server, 'POST', '/api/v1/api-key', { token: k, body: { name: 'x', scopes: ['admin'] } })).status, 403, 'no escalation');
    }
    assert.equal((await call(server, 'GET', '/api/v1/app', { token: admin })).status, 200);
    assert.equal((await call(server, 'GET', `/api/v1/app/${appB}`, { token: admin })).status, 200);
    assert.equal((await call(server, 'POST', '/api/v1/api-key', { token: admin, body: { name: 'y', scopes: ['read'], appId: appB } })).status, 201);
  });

  it('expires, and records when it was last used', async () => {
    const expiresAt = new Date(clock.now() + 60_000).toISOString();
    const { key, id } = await createKey(server, ['read'], appA, { expiresAt });
    assert.equal((await server.api('GET', `/api/v1/api-key/${id}`)).body.lastUsedAt, undefined);
    assert.equal((await call(server, 'GET', `/api/v1/app/${appA}`, { token: key })).status, 200);
    assert.equal((await server.api('GET', `/api/v1/api-key/${id}`)).body.lastUsedAt, new Date(clock.now()).toISOString());
    clock.advance(60_000);
    const r = await call(server, 'GET', `/api/v1/app/${appA}`, { token: key });
    assert.equal(r.status, 401);
    assert.equal(r.body.code, 'unauthorized');
  });

  it('stops working the moment it is revoked', async () => {
    const { key, id } = await createKey(server, ['admin']);
    assert.equal((await call(server, 'GET', '/api/v1/app', { token: key })).status, 200);
    assert.equal((await server.api('DELETE', `/api/v1/api-key/${id}`)).status, 204);
    assert.equal((await call(server, 'GET', '/api/v1/app', { token: key })).status, 401);
    assert.equal((await server.api('DELETE', `/api/v1/api-key/${id}`)).status, 409, 'already revoked');
    assert.ok((await server.api('GET', `/api/v1/api-key/${id}`)).body.revokedAt);
    assert.equal((await server.api('DELETE', '/api/v1/api-key/key_nope')).status, 404);
  });

  it('refuses unknown, malformed and look-alike tokens', async () => {
    const { key } = await createKey(server, ['admin']);
    const flipped = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
    for (const t of [flipped, key + 'x', key.slice(0, -1), 'sbk_', 'appsk_x', 'eyJ.x.y', 'Bearer', ' '.repeat(10), '\u00e9'.repeat(20)]) {
      assert.equal((await call(server, 'GET', '/api/v1/app', { headers: { authorization: `Bearer ${t}` } })).status, 401, t);
    }
    assert.equal((await call(server, 'GET', '/api/v1/app', { headers: { authorization: `Basic ${key}` } })).status, 401);
  });
});

describe('API keys on the command line', () => {
  it('creates, lists and revokes keys that the server accepts', async () => {
    const server = await startServer();
    try {
      const appId = await createApp(server, 'cli');
      const env = { ...process.env, ...server.cliEnv, SWITCHBOARD_ADMIN_TOKEN: 'x', SWITCHBOARD_LOG_LEVEL: 'silent' };
      const created = await run(process.execPath, [MAIN, 'keys', 'create', '--name', 'ci', '--app', appId, '--scopes', 'read,publish', '--json'], { env });
      const out = JSON.parse(created.stdout) as { id: string; key: string; scopes: string[] };
      assert.deepEqual(out.scopes, ['publish', 'read']);
      assert.equal((await call(server, 'GET', `/api/v1/app/${appId}`, { token: out.key })).status, 200);
      const listed = await run(process.execPath, [MAIN, 'keys', 'list'], { env });
      assert.ok(listed.stdout.includes(out.id));
      assert.ok(!listed.stdout.includes(out.key), 'the list never shows keys');
      const admin = JSON.parse((await run(process.execPath, [MAIN, 'keys', 'create', '--name', 'ops', '--admin', '--json'], { env })).stdout) as { key: string };
      assert.equal((await call(server, 'GET', '/api/v1/app', { token: admin.key })).status, 200);
      await run(process.execPath, [MAIN, 'keys', 'revoke', out.id], { env });
      assert.equal((await call(server, 'GET', `/api/v1/app/${appId}`, { token: out.key })).status, 401);
      await assert.rejects(run(process.execPath, [MAIN, 'keys', 'create', '--name', 'bad'], { env }), /--admin or --app/);
    } finally {
      await server.close();
    }
  });
});
