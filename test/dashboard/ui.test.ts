/** Serving the dashboard and portal pages, and the session route the app starts from. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

describe('web app serving', () => {
  let server: TestServer;
  let appId = '';
  const get = (path: string, headers: Record<string, string> = {}) => fetch(server.url + path, { redirect: 'manual', headers });

  before(async () => {
    server = await startServer();
    appId = (await server.api('POST', '/api/v1/app', { name: 'serve' })).body.id;
  });
  after(async () => server.close());

  it('sends / to the dashboard', async () => {
    for (const p of ['/', '/ui']) {
      const r = await get(p);
      assert.equal(r.status, 302);
      assert.equal(r.headers.get('location'), '/ui/');
    }
  });

  it('serves the app for every dashboard and portal path, with security headers and no caching', async () => {
    for (const p of ['/ui/', `/ui/app/${appId}/messages`, '/ui/sources/src_x', '/portal', `/portal/app/${appId}`]) {
      const r = await get(p);
      assert.equal(r.status, 200, p);
      assert.match(r.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(r.headers.get('content-security-policy') ?? '', /script-src 'self'/);
      assert.match(r.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(r.headers.get('x-frame-options'), 'DENY');
      assert.equal(r.headers.get('cache-control'), 'no-cache');
      const html = await r.text();
      assert.match(html, /<div id="root">/);
    }
  });

  it('serves built assets with long caching and revalidation, and 404 for missing ones', async () => {
    const html = await (await get('/ui/')).text();
    const js = /src="(\/ui\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(js, 'the page loads a script');
    const r = await get(js);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /javascript/);
    assert.match(r.headers.get('cache-control') ?? '', /immutable/);
    const etag = r.headers.get('etag')!;
    assert.equal((await get(js, { 'if-none-match': etag })).status, 304);
    assert.equal((await get('/ui/assets/missing.js')).status, 404);
    // Pages need no token; the API still does.
    assert.equal((await get('/api/v1/app')).status, 401);
  });

  it('tells a token what it may do', async () => {
    const admin = await server.api('GET', '/api/v1/ui/session');
    assert.equal(admin.status, 200);
    assert.deepEqual(admin.body, { kind: 'admin' });
    assert.equal(admin.headers.get('cache-control'), 'no-store');

    const rw = await server.api('POST', `/api/v1/auth/app-portal-access/${appId}`, {});
    const ro = await server.api('POST', `/api/v1/auth/app-portal-access/${appId}`, { readOnly: true });
    assert.match(rw.body.url, /\/portal#token=/);
    const session = async (token: string) => (await get('/api/v1/ui/session', { authorization: `Bearer ${token}` })).json();
    assert.deepEqual(await session(rw.body.token), { kind: 'app', appId, scopes: ['read', 'write'] });
    assert.deepEqual(await session(ro.body.token), { kind: 'app', appId, scopes: ['read'] });
    assert.equal((await get('/api/v1/ui/session')).status, 401);
    assert.equal((await get('/api/v1/ui/session', { authorization: 'Bearer nope' })).status, 401);
  });
});
