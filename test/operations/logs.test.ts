/**
 * Logs: JSON lines, one request id per request (a caller's sane `svix-req-id` kept and
 * echoed), a level that is configurable, and no secret or token in any line, whatever the
 * requests carried.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/platform/logger.js';
import { eventually } from '../helpers/eventually.js';
import { startServerProcess } from '../helpers/process.js';
import { Receiver } from '../helpers/receiver.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

const SECRET_A = 'whsec_' + Buffer.from('endpoint-secret-a-0123456789abcd').toString('base64');
const SECRET_B = 'whsec_' + Buffer.from('endpoint-secret-b-0123456789abcd').toString('base64');
const SECRET_OPS = 'whsec_' + Buffer.from('operational-secret-0123456789abc').toString('base64');
const HEADER_SECRET = 'hdr-secret-value-3141592653';
const WRONG_TOKEN = 'sb_wrong_token_2718281828';

describe('request logs', () => {
  const lines: string[] = [];
  let server: TestServer;
  let rx: Receiver;
  const secrets: string[] = [SECRET_A, SECRET_B, SECRET_OPS, HEADER_SECRET, WRONG_TOKEN];

  before(async () => {
    rx = await new Receiver().start();
    rx.on('/fail', (r, res) => void res.writeHead(500).end(JSON.stringify(r.headers)));
    server = await startServer({}, { logger: createLogger('trace', { write: (s: string) => void lines.push(s) }) });
    secrets.push(server.token);
  });
  after(async () => {
    await server.close();
    await rx.close();
  });

  it('echoes a caller\u2019s request id and logs the request under it', async () => {
    const res = await server.api('GET', '/api/v1/app', undefined, { 'svix-req-id': 'caller-req-42' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('svix-req-id'), 'caller-req-42');
    const line = lines.map((l) => JSON.parse(l)).find((l) => l.reqId === 'caller-req-42' && l.msg === 'request');
    assert.ok(line, 'a request line with the caller\u2019s id');
    assert.equal(line.method, 'GET');
    assert.equal(line.route, '/api/v1/app');
    assert.equal(line.status, 200);
    assert.equal(typeof line.ms, 'number');
  });

  it('makes up an id when none or a strange one is sent', async () => {
    const a = await server.api('GET', '/api/v1/app');
    const b = await server.api('GET', '/api/v1/app');
    const idA = a.headers.get('svix-req-id');
    assert.match(idA ?? '', /^[0-9a-f-]{36}$/);
    assert.notEqual(idA, b.headers.get('svix-req-id'));
    const odd = await server.api('GET', '/api/v1/app', undefined, { 'svix-req-id': 'x'.repeat(300) });
    assert.match(odd.headers.get('svix-req-id') ?? '', /^[0-9a-f-]{36}$/);
    const spaced = await server.api('GET', '/api/v1/app', undefined, { 'svix-req-id': 'a b "c"' });
    assert.match(spaced.headers.get('svix-req-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('never writes a secret or token, whatever the requests carried', async () => {
    const api = server.api.bind(server);
    const app = (await api('POST', '/api/v1/app', { name: 'logs' })).body;
    const ep = (await api('POST', `/api/v1/app/${app.id}/endpoint`, { url: rx.url('/fail'), secret: SECRET_A, headers: { Authorization: `Bearer ${HEADER_SECRET}` } })).body;
    assert.equal((await api('GET', `/api/v1/app/${app.id}/endpoint/${ep.id}/secret`)).body.key, SECRET_A);
    await api('POST', `/api/v1/app/${app.id}/endpoint/${ep.id}/secret/rotate`, { key: SECRET_B });
    await api('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'log.t', payload: { hello: 'world' } });
    await eventually(() => rx.at('/fail').length >= 1, 'a failed delivery');
    await api('POST', '/api/v1/operational-webhook/endpoint', { url: rx.url('/ops'), secret: SECRET_OPS });
    const key = await api('POST', '/api/v1/api-key', { name: 'logs', scopes: ['admin'] });
    if (key.status === 201) {
      secrets.push(key.body.key);
      assert.equal((await api('GET', '/api/v1/app', undefined, { authorization: `Bearer ${key.body.key}` })).status, 200);
      assert.equal((await api('GET', '/api/v1/app', undefined, { authorization: `Bearer ${key.body.key}x` })).status, 401);
    }
    assert.equal((await api('GET', '/api/v1/app', undefined, { authorization: `Bearer ${WRONG_TOKEN}` })).status, 401);
    assert.equal((await api('GET', '/api/v1/app', undefined, { authorization: WRONG_TOKEN })).status, 401);
    assert.equal((await api('POST', `/api/v1/app/${app.id}/endpoint`, { url: 'http://10.0.0.1/x', secret: SECRET_A })).status, 422);
    assert.equal((await api('POST', '/api/v1/app', `{"name": "${WRONG_TOKEN}"`)).status, 400);
    await api('PATCH', `/api/v1/app/${app.id}/endpoint/${ep.id}`, { disabled: true });
    await server.sb.dispatcher.idle();

    assert.ok(lines.length > 20);
    for (const l of lines) {
      const parsed = JSON.parse(l);
      assert.equal(typeof parsed.level, 'number');
      assert.equal(typeof parsed.time, 'number');
    }
    const all = lines.join('\n');
    for (const s of secrets) {
      assert.ok(!all.includes(s), `a log line contains ${s.slice(0, 12)}...`);
      const body = s.startsWith('whsec_') ? s.slice(6) : null;
      if (body) assert.ok(!all.includes(body), `a log line contains the key of ${s.slice(0, 12)}...`);
    }
  });
});

describe('log level', () => {
  async function run(level: string): Promise<string> {
    const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-logs-'));
    const server = await startServerProcess({
      readyPath: '/api/v1/health/ready',
      env: { SWITCHBOARD_DATA_DIR: dataDir, SWITCHBOARD_ADMIN_TOKEN: 'sb_logs_admin_token_1234', SWITCHBOARD_LOG_LEVEL: level },
    });
    try {
      const res = await fetch(server.base + '/api/v1/app', { headers: { authorization: 'Bearer sb_logs_admin_token_1234', 'svix-req-id': 'level-check' } });
      assert.equal(res.status, 200);
    } finally {
      // The output is read after the process has exited, so every log line it wrote is in.
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
    return server.output();
  }

  it('is set by SWITCHBOARD_LOG_LEVEL', async () => {
    const info = await run('info');
    assert.match(info, /"reqId":"level-check"/);
    assert.ok(!info.includes('sb_logs_admin_token_1234'));
    const quiet = await run('warn');
    assert.doesNotMatch(quiet, /level-check/);
  });
});

describe('advice on the database at start', () => {
  it('logs each setting of the database server that will slow Switchboard down as a warning (PostgreSQL without autovacuum; none on SQLite)', async () => {
    const lines: string[] = [];
    const server = await startServer({}, { logger: createLogger('warn', { write: (s: string) => void lines.push(s) }) });
    try {
      const advice = await server.sb.store.advisories();
      const warned = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => advice.includes(l.msg));
      assert.equal(warned.length, advice.length, 'every advisory logged once');
      for (const l of warned) assert.equal(l.level, 40, 'as a warning');
      if (!server.cliEnv.SWITCHBOARD_DATABASE_URL) assert.deepEqual(advice, [], 'SQLite has nothing to say');
    } finally {
      await server.close();
    }
  });
});
