/**
 * Hostile clients: too many or too large headers (431), clients that send slowly (408),
 * page sizes capped on every list route, security headers on HTML, and no credential or
 * secret in the logs whatever happens.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/platform/logger.js';
import { eventually, sleep } from '../helpers/eventually.js';
import { Receiver } from '../helpers/receiver.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { call, createApp, createKey, oauthToken, portalToken } from '../helpers/security.js';

/** Sends raw bytes (optionally in timed pieces) and returns the status line and body. */
async function raw(url: string, pieces: (string | number)[]): Promise<{ status: number; body: string; ms: number }> {
  const u = new URL(url);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const s = connect(Number(u.port), u.hostname);
    let out = '';
    s.on('data', (d) => (out += d.toString()));
    s.on('error', () => undefined);
    s.on('close', () => {
      const [head = '', body = ''] = out.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0);
      resolve({ status, body, ms: Date.now() - started });
    });
    s.on('connect', () => {
      void (async () => {
        for (const p of pieces) {
          if (typeof p === 'number') await sleep(p); // the pace of a slow client, by design
          else if (!s.destroyed) s.write(p);
        }
      })().catch(reject);
    });
    setTimeout(() => s.destroy(), 10_000).unref();
  });
}

describe('hostile clients', () => {
  let server: TestServer;
  let appId: string;

  before(async () => {
    server = await startServer({
      SWITCHBOARD_MAX_HEADER_COUNT: '20',
      SWITCHBOARD_MAX_HEADER_BYTES: '4096',
      SWITCHBOARD_CLIENT_HEADERS_TIMEOUT_MS: '300',
      SWITCHBOARD_CLIENT_REQUEST_TIMEOUT_MS: '600',
    });
    appId = await createApp(server, 'hostile');
  });
  after(async () => server.close());

  const auth = `authorization: Bearer ${'sb_test_admin_token'}\r\n`;

  it('refuses requests with too many header fields: 431 in the error shape', async () => {
    let many = '';
    for (let i = 0; i < 25; i++) many += `x-h${i}: v\r\n`;
    const r = await raw(server.url, [`GET /api/v1/app/${appId} HTTP/1.1\r\nhost: x\r\n${auth}${many}connection: close\r\n\r\n`]);
    assert.equal(r.status, 431);
    assert.equal(JSON.parse(r.body).code, 'headers_too_large');
    const ok = await raw(server.url, [`GET /api/v1/app/${appId} HTTP/1.1\r\nhost: x\r\n${auth}x-a: 1\r\nconnection: close\r\n\r\n`]);
    assert.equal(ok.status, 200);
  });

  it('refuses headers larger than the limit: 431', async () => {
    const r = await raw(server.url, [`GET /api/v1/app HTTP/1.1\r\nhost: x\r\n${auth}x-big: ${'a'.repeat(5000)}\r\nconnection: close\r\n\r\n`]);
    assert.equal(r.status, 431);
    assert.equal(JSON.parse(r.body).code, 'headers_too_large');
  });

  it('drops clients that send headers too slowly: 408', async () => {
    const r = await raw(server.url, ['GET /api/v1/app HTTP/1.1\r\n', 200, 'host: x\r\n', 200, 'x-a: 1\r\n', 400, 'x-b: 2\r\n', 400, '\r\n']);
    assert.equal(r.status, 408);
    assert.equal(JSON.parse(r.body).code, 'request_timeout');
    assert.ok(r.ms < 3000, `cut off after ${r.ms} ms`);
  });

  it('drops clients that send a body too slowly: 408, and nothing is stored', async () => {
    const body = JSON.stringify({ eventType: 'slow.body', payload: { a: 1 } });
    const head = `POST /api/v1/app/${appId}/msg HTTP/1.1\r\nhost: x\r\n${auth}content-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
    const r = await raw(server.url, [head, body.slice(0, 5), 400, body.slice(5, 10), 400, body.slice(10)]);
    assert.equal(r.status, 408);
    assert.equal((await server.api('GET', `/api/v1/app/${appId}/msg`)).body.data.length, 0);
  });

  it('caps the page size of every list route at 250', async () => {
    const lists = server.sb.auth.routes().filter((r) => (r.schema?.querystring as any)?.properties?.limit);
    assert.ok(lists.length >= 8, `list routes: ${lists.length}`);
    for (const r of lists) {
      const limit = (r.schema!.querystring as any).properties.limit;
      assert.ok(limit.maximum !== undefined && limit.maximum <= 250, `${r.method} ${r.url} caps limit at ${limit.maximum}`);
    }
    for (const path of ['/api/v1/app', `/api/v1/app/${appId}/msg`, '/api/v1/api-key', '/api/v1/oauth/client', '/api/v1/event-type']) {
      assert.equal((await server.api('GET', `${path}?limit=251`)).status, 422, path);
      assert.equal((await server.api('GET', `${path}?limit=250`)).status, 200, path);
    }
  });

  it('sends nosniff on every answer', async () => {
    assert.equal((await server.api('GET', '/api/v1/app')).headers.get('x-content-type-options'), 'nosniff');
    assert.equal((await call(server, 'GET', '/api/v1/app')).headers.get('x-content-type-options'), 'nosniff');
  });
});

describe('HTML answers', () => {
  it('carry a content security policy, frame and referrer protection, on every page the server serves', async () => {
    const server = await startServer({ SWITCHBOARD_PUBLIC_URL: 'https://hooks.example.com' });
    try {
      const app = server.sb.app;
      // Every public page the server has (portal, dashboard), whichever feature added it.
      const html = server.sb.auth.routes().filter((r) => r.method === 'GET' && r.access === 'public' && !r.url.includes(':'));
      let pages = 0;
      for (const r of html) {
        const res = await app.inject({ method: 'GET', url: r.url.replace('*', 'index.html') });
        if (!String(res.headers['content-type'] ?? '').startsWith('text/html')) continue;
        pages++;
        assert.match(String(res.headers['content-security-policy']), /frame-ancestors 'none'|frame-ancestors/, r.url);
        assert.equal(res.headers['x-content-type-options'], 'nosniff', r.url);
        assert.ok(res.headers['referrer-policy'], r.url);
        assert.ok(res.headers['x-frame-options'] || /frame-ancestors/.test(String(res.headers['content-security-policy'])), r.url);
      }
      assert.ok(pages >= 1, 'the portal and dashboard pages were checked');
    } finally {
      await server.close();
    }
  });

  it('a page without its own headers gets the whole set, and HSTS when served over https', async () => {
    const { loadConfig } = await import('../../src/config.js');
    const { createSwitchboard } = await import('../../src/composition/server.js');
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-html-'));
    const sb = await createSwitchboard(loadConfig({ SWITCHBOARD_DATA_DIR: dir, SWITCHBOARD_ADMIN_TOKEN: 't', SWITCHBOARD_PUBLIC_URL: 'https://hooks.example.com' }), {
      logger: createLogger('silent'),
    });
    try {
      sb.app.get('/test-page', { config: { access: 'public' } }, async (_req, reply) => reply.type('text/html; charset=utf-8').send('<!doctype html><p>hi</p>'));
      sb.app.get('/test-page-own', { config: { access: 'public' } }, async (_req, reply) =>
        reply.type('text/html').header('content-security-policy', "default-src 'none'").send('<p>own</p>'),
      );
      const res = await sb.app.inject({ method: 'GET', url: '/test-page' });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-security-policy']), /default-src 'self'.*frame-ancestors 'none'/);
      assert.equal(res.headers['x-frame-options'], 'DENY');
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['cross-origin-opener-policy'], 'same-origin');
      assert.equal(res.headers['strict-transport-security'], 'max-age=31536000');
      const own = await sb.app.inject({ method: 'GET', url: '/test-page-own' });
      assert.equal(own.headers['content-security-policy'], "default-src 'none'", 'kept');
      assert.equal(own.headers['x-frame-options'], 'DENY');
      const json = await sb.app.inject({ method: 'GET', url: '/api/v1/app', headers: { authorization: 'Bearer t' } });
      assert.equal(json.headers['content-security-policy'], undefined, 'JSON answers do not need a page policy');
    } finally {
      await sb.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('logs', () => {
  it('never contain a token, a key, a client secret, an endpoint secret or a secret header value', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const rx = await new Receiver().start();
    const server = await startServer({ SWITCHBOARD_LOG_LEVEL: 'trace' }, { logger: createLogger('trace', sink) });
    const secrets: string[] = [server.token];
    try {
      const appId = await createApp(server, 'logs');
      const key = await createKey(server, ['read', 'write', 'publish'], appId);
      secrets.push(key.key);
      const oauth = await oauthToken(server, ['read'], appId);
      secrets.push(oauth.token, oauth.clientSecret);
      secrets.push(await portalToken(server, appId));
      const epSecret = 'whsec_' + Buffer.from('a log must never show this secret').toString('base64');
      secrets.push(epSecret);
      const headerValue = 'Bearer private-header-for-the-receiver';
      secrets.push(headerValue);
      rx.on('/fail', (_req, res) => void res.writeHead(500).end('receiver error'));
      for (const path of ['/ok', '/fail']) {
        const ep = await call(server, 'POST', `/api/v1/app/${appId}/endpoint`, {
          token: key.key,
          body: { url: rx.url(path), secret: epSecret, headers: { Authorization: headerValue } },
        });
        assert.equal(ep.status, 201);
      }
      assert.equal((await call(server, 'POST', `/api/v1/app/${appId}/msg`, { token: key.key, body: { eventType: 'log.test', payload: { x: 1 } } })).status, 202);
      await eventually(() => rx.at('/ok').length > 0 && rx.at('/fail').length > 0, 'deliveries');
      // Failures of every kind: bad tokens, bad bodies, refused requests, a failing receiver.
      await call(server, 'GET', '/api/v1/app', { token: key.key.slice(0, -2) + 'xx' });
      await call(server, 'GET', '/api/v1/app', { token: oauth.token + 'x' });
      await call(server, 'POST', `/api/v1/app/${appId}/endpoint`, { token: key.key, body: '{"url": ' });
      await call(server, 'POST', '/oauth/token', {
        body: `grant_type=client_credentials&client_id=${oauth.clientId}&client_secret=${oauth.clientSecret}x`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      await call(server, 'GET', `/api/v1/app/${appId}/endpoint`, { token: key.key });
      await sleep(200); // a window for late log lines, which must not hold a secret either
      secrets.push(readFileSync(join(server.dataDir, 'encryption-key'), 'utf8').trim());
    } finally {
      await server.close();
      await rx.close();
    }
    const log = lines.join('');
    assert.ok(lines.length > 5, `the server logged (${lines.length} lines)`);
    for (const s of secrets) {
      assert.ok(!log.includes(s), `a secret appears in the logs: ${s.slice(0, 10)}…`);
      const tail = s.slice(-16);
      assert.ok(!log.includes(tail), `part of a secret appears in the logs: …${tail}`);
    }
  });

  it('redacts credentials logged by mistake', () => {
    const lines: string[] = [];
    const logger = createLogger('info', new Writable({ write: (c: Buffer, _e, done) => (lines.push(c.toString()), done()) }));
    logger.info({ req: { headers: { authorization: 'Bearer leak-1' } }, client: { secret: 'leak-2', token: 'leak-3' } }, 'oops');
    assert.ok(!lines.join('').includes('leak-'), lines.join(''));
    assert.ok(lines.join('').includes('[redacted]'));
  });
});
