/**
 * The first run a newcomer meets: `npm start` is `serve --dev`, which lets a localhost
 * receiver get the first publish and says so in its banner; without `--dev` the same
 * receiver is refused with the setting named. Safe defaults: 127.0.0.1, and `/metrics` and
 * `/docs` can be closed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config.js';
import { bannerText } from '../../src/cli/banner.js';
import { DEV_ALLOWED_NETWORKS, serveEnvironment } from '../../src/cli/dev-mode.js';
import { CliError } from '../../src/cli/exit-codes.js';
import { isPretty } from '../../src/platform/logger.js';
import { VERSION } from '../../src/platform/version.js';
import { callServer, startServerProcess } from '../helpers/process.js';
import type { ServerProcess } from '../helpers/process.js';
import { eventually } from '../helpers/eventually.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const TOKEN = 'sb_first_run_admin_token_0123456789abcdef';

describe('development mode and defaults', () => {
  it('--dev allows loopback receivers unless the setting is given, and refuses production', () => {
    const dev = serveEnvironment({}, { dev: true });
    assert.equal(dev.SWITCHBOARD_ALLOWED_NETWORKS, DEV_ALLOWED_NETWORKS);
    assert.equal(dev.SWITCHBOARD_ENV, 'development');
    assert.equal(serveEnvironment({ SWITCHBOARD_ALLOWED_NETWORKS: '' }, { dev: true }).SWITCHBOARD_ALLOWED_NETWORKS, '');
    assert.equal(serveEnvironment({ SWITCHBOARD_ALLOWED_NETWORKS: '10.0.0.0/8' }, { dev: true }).SWITCHBOARD_ALLOWED_NETWORKS, '10.0.0.0/8');
    assert.equal(serveEnvironment({}, {}).SWITCHBOARD_ALLOWED_NETWORKS, undefined);
    assert.equal(serveEnvironment({}, { role: 'api' }).SWITCHBOARD_ROLE, 'api');
    assert.throws(() => serveEnvironment({ SWITCHBOARD_ENV: 'production' }, { dev: true }), (e: unknown) => e instanceof CliError && /SWITCHBOARD_ENV=production/.test(e.message));
  });

  it('listens on 127.0.0.1 unless told otherwise; log format, metrics token and docs settings are checked', () => {
    assert.equal(loadConfig({}).host, '127.0.0.1');
    assert.equal(loadConfig({ SWITCHBOARD_HOST: '0.0.0.0' }).host, '0.0.0.0');
    assert.equal(loadConfig({}).logFormat, 'auto');
    assert.throws(() => loadConfig({ SWITCHBOARD_LOG_FORMAT: 'xml' }), /SWITCHBOARD_LOG_FORMAT/);
    assert.throws(() => loadConfig({ SWITCHBOARD_DOCS: 'maybe' }), /SWITCHBOARD_DOCS/);
    assert.equal(loadConfig({}).metricsToken, undefined);
  });

  it('pretty logs on a terminal only, unless asked', () => {
    assert.equal(isPretty('auto', true), true);
    assert.equal(isPretty('auto', false), false);
    assert.equal(isPretty('json', true), false);
    assert.equal(isPretty('pretty', false), true);
  });

  it('the banner names every address, the data directory and the mode', () => {
    const text = bannerText({
      url: 'http://127.0.0.1:8071',
      version: VERSION,
      mode: 'development',
      role: 'all',
      storage: { kind: 'sqlite', dataDir: './data' },
      allowedNetworks: DEV_ALLOWED_NETWORKS,
      docs: true,
      metricsProtected: false,
    });
    for (const part of ['http://127.0.0.1:8071/api/v1', 'Dashboard  http://127.0.0.1:8071/', 'http://127.0.0.1:8071/docs', './data (SQLite)', 'development', DEV_ALLOWED_NETWORKS, 'Only this machine']) {
      assert.ok(text.includes(part), `banner lacks ${part}:\n${text}`);
    }
    const prod = bannerText({ url: 'http://0.0.0.0:8071', version: VERSION, mode: 'production', role: 'all', storage: { kind: 'postgresql' }, allowedNetworks: '', docs: false, metricsProtected: true });
    assert.ok(prod.includes('http://localhost:8071/api/v1') && !prod.includes('/docs') && prod.includes('bearer token required') && prod.includes('loopback refused'));
    assert.ok(!prod.includes('Only this machine'));
  });

  it('the version shown is the package version', () => {
    assert.equal(VERSION, JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
  });
});

describe('a first publish to a localhost receiver', () => {
  let receiver: Server;
  let receiverUrl: string;
  const received: string[] = [];
  const dirs: string[] = [];
  const servers: ServerProcess[] = [];

  before(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push(body);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });
  after(async () => {
    for (const s of servers) await s.stop();
    await new Promise<void>((r) => receiver.close(() => r()));
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const start = async (args: string[], env: Record<string, string> = {}): Promise<ServerProcess> => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-first-run-'));
    dirs.push(dir);
    const base: Record<string, string> = { SWITCHBOARD_DATA_DIR: dir, SWITCHBOARD_ADMIN_TOKEN: TOKEN, SWITCHBOARD_LOG_FORMAT: 'pretty', ...env };
    // The test runner's own setting would decide instead of the mode under test.
    const server = await startServerProcess({ env: { ...base, SWITCHBOARD_ALLOWED_NETWORKS: '' }, args });
    servers.push(server);
    return server;
  };

  it('in development mode (`npm start`) the banner says loopback is allowed and the message arrives', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-first-run-'));
    dirs.push(dir);
    // No SWITCHBOARD_ALLOWED_NETWORKS at all: --dev supplies loopback.
    const env: Record<string, string> = { SWITCHBOARD_DATA_DIR: dir, SWITCHBOARD_ADMIN_TOKEN: TOKEN, SWITCHBOARD_LOG_FORMAT: 'pretty' };
    const saved = process.env.SWITCHBOARD_ALLOWED_NETWORKS;
    delete process.env.SWITCHBOARD_ALLOWED_NETWORKS;
    let server: ServerProcess;
    try {
      server = await startServerProcess({ env, args: ['--dev'] });
    } finally {
      if (saved !== undefined) process.env.SWITCHBOARD_ALLOWED_NETWORKS = saved;
    }
    servers.push(server);
    await eventually(() => server.output().includes('Switchboard is listening'), 'the listening line');
    const out = server.output();
    assert.match(out, new RegExp(`Switchboard ${VERSION.replaceAll('.', '\\.')} is listening on http://127\\.0\\.0\\.1:${server.port}`));
    assert.ok(out.includes(`Dashboard  http://127.0.0.1:${server.port}/`), out);
    assert.ok(out.includes('development') && out.includes(DEV_ALLOWED_NETWORKS), out);
    assert.ok(!out.includes('{"level"'), 'a terminal-style log is not JSON lines');

    const app = await callServer(server.base, TOKEN, 'POST', '/api/v1/app', { name: 'first' });
    assert.equal(app.status, 201);
    const ep = await callServer(server.base, TOKEN, 'POST', `/api/v1/app/${app.body.id}/endpoint`, { url: receiverUrl });
    assert.equal(ep.status, 201, JSON.stringify(ep.body));
    const msg = await callServer(server.base, TOKEN, 'POST', `/api/v1/app/${app.body.id}/msg`, { eventType: 'hello.world', payload: { first: true } });
    assert.equal(msg.status, 202);
    await eventually(() => received.some((b) => b.includes('"first":true')), 'the first message at the localhost receiver');
  });

  it('without --dev the same receiver is refused and the answer names the setting', async () => {
    const server = await start([], { SWITCHBOARD_LOG_FORMAT: 'json' });
    const app = await callServer(server.base, TOKEN, 'POST', '/api/v1/app', { name: 'prod' });
    const ep = await callServer(server.base, TOKEN, 'POST', `/api/v1/app/${app.body.id}/endpoint`, { url: receiverUrl });
    assert.equal(ep.status, 422);
    assert.match(JSON.stringify(ep.body), /SWITCHBOARD_ALLOWED_NETWORKS/);
    await eventually(() => server.output().includes('Switchboard is listening'), 'the listening line');
    assert.ok(!server.output().includes('Dashboard  '), 'no banner when logs are JSON');
    assert.match(server.output(), /"msg":"Switchboard is listening"/);
  });

  it('/metrics can need a token and /docs can be switched off', async () => {
    const server = await start([], { SWITCHBOARD_METRICS_TOKEN: 'scrape-secret-1', SWITCHBOARD_DOCS: 'false', SWITCHBOARD_LOG_FORMAT: 'json' });
    const bare = await fetch(server.base + '/metrics');
    assert.equal(bare.status, 401);
    assert.match(bare.headers.get('www-authenticate') ?? '', /Bearer/);
    assert.equal((await fetch(server.base + '/metrics', { headers: { authorization: 'Bearer wrong' } })).status, 401);
    const ok = await fetch(server.base + '/metrics', { headers: { authorization: 'Bearer scrape-secret-1' } });
    assert.equal(ok.status, 200);
    assert.match(await ok.text(), /switchboard_/);
    assert.equal((await fetch(server.base + '/docs')).status, 404);
    assert.equal((await fetch(server.base + '/api/v1/openapi.json')).status, 404);
  });
});
