/**
 * App-portal tokens through the official `svix` SDK: a link to this server's portal page,
 * one application only, read-only option, expiry, expire-all and logout.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException, AppPortalCapability, Svix } from 'svix';
import type { AppPortalAccessIn } from 'svix';
import { FakeClock } from '../helpers/fake-clock.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { call, createApp } from '../helpers/security.js';
import { rawRows } from '../helpers/raw-db.js';

describe('app-portal access', () => {
  let server: TestServer;
  let admin: Svix;
  const clock = new FakeClock(Date.UTC(2030, 0, 1));
  let appA: string;
  let appB: string;

  before(async () => {
    server = await startServer({ SWITCHBOARD_PUBLIC_URL: 'https://hooks.example.com/' }, { clock });
    admin = new Svix(server.token, { serverUrl: server.url, retryScheduleInMs: [] });
    appA = await createApp(server, 'A', 'portal-a');
    appB = await createApp(server, 'B');
  });
  after(async () => server.close());

  const sdk = (token: string) => new Svix(token, { serverUrl: server.url, retryScheduleInMs: [] });
  const status = async (p: Promise<unknown>): Promise<number> => {
    try {
      await p;
      return 200;
    } catch (e: unknown) {
      if (e instanceof ApiException) return e.code;
      throw e;
    }
  };

  it('returns a link to the portal page of this server, with the token in the fragment', async () => {
    const out = await admin.authentication.appPortalAccess('portal-a', {});
    assert.match(out.token, /^appsk_[A-Za-z0-9_-]{43}$/);
    const url = new URL(out.url);
    assert.equal(url.origin + url.pathname, 'https://hooks.example.com/portal');
    assert.equal(url.search, '', 'never in the query string, where servers log it');
    const fragment = new URLSearchParams(url.hash.slice(1));
    assert.equal(fragment.get('token'), out.token);
    assert.equal(fragment.get('app_id'), appA);
    const raw = JSON.stringify(await rawRows(server.sb.store, 'SELECT * FROM portal_tokens'));
    assert.ok(!raw.includes(out.token.slice(6)), 'stored only as a hash');
  });

  it('reaches its own application, read and write, and nothing else', async () => {
    const { token } = await admin.authentication.appPortalAccess(appA, {});
    const portal = sdk(token);
    assert.equal((await portal.application.get(appA)).id, appA);
    const ep = await portal.endpoint.create(appA, { url: 'http://127.0.0.1:9/hook' });
    assert.ok(ep.id.startsWith('ep_'));
    assert.equal(await status(portal.endpoint.list(appB)), 404);
    assert.equal(await status(portal.application.get(appB)), 404);
    assert.equal(await status(portal.application.list()), 403);
    assert.equal(await status(portal.eventType.create({ name: 'x.y', description: 'd' })), 403);
    assert.equal(await status(portal.authentication.appPortalAccess(appA, {})), 403, 'cannot mint more tokens');
    assert.equal((await call(server, 'POST', '/api/v1/api-key', { token, body: { name: 'x', scopes: ['admin'] } })).status, 403);
  });

  it('read-only tokens cannot change anything', async () => {
    const readOnly: AppPortalAccessIn[] = [{ readOnly: true }, { capabilities: [AppPortalCapability.ViewBase, AppPortalCapability.ViewEndpointSecret] }];
    for (const body of readOnly) {
      const { token } = await admin.authentication.appPortalAccess(appA, body);
      const portal = sdk(token);
      assert.ok((await portal.endpoint.list(appA)).data.length >= 0);
      assert.equal(await status(portal.endpoint.create(appA, { url: 'http://127.0.0.1:9/x' })), 403);
      assert.equal(await status(portal.message.create(appA, { eventType: 'a.b', payload: {} })), 403);
      assert.equal(await status(portal.application.update(appA, { name: 'x' })), 403);
    }
    const manage = await admin.authentication.appPortalAccess(appA, { capabilities: [AppPortalCapability.ViewBase, AppPortalCapability.ManageEndpoint] });
    assert.ok((await sdk(manage.token).endpoint.create(appA, { url: 'http://127.0.0.1:9/y' })).id);
  });

  it('creates the application when asked to', async () => {
    const out = await admin.authentication.appPortalAccess('portal-new', { application: { name: 'New' } });
    const app = await sdk(out.token).application.get('portal-new');
    assert.equal(app.name, 'New');
    assert.equal(app.uid, 'portal-new');
    assert.equal(await status(admin.authentication.appPortalAccess('portal-missing', {})), 404);
  });

  it('expires after its expiry', async () => {
    const { token } = await admin.authentication.appPortalAccess(appA, { expiry: 3600 });
    assert.equal(await status(sdk(token).application.get(appA)), 200);
    clock.advance(3600_000);
    assert.equal(await status(sdk(token).application.get(appA)), 401);
    for (const expiry of [59, 604801]) assert.equal(await status(admin.authentication.appPortalAccess(appA, { expiry })), 422);
  });

  it('expire-all ends every token of the application, or only those of given sessions, at once or after a delay', async () => {
    const s1 = (await admin.authentication.appPortalAccess(appA, { sessionId: 'user_1' })).token;
    const s2 = (await admin.authentication.appPortalAccess(appA, { sessionId: 'user_2' })).token;
    const other = (await admin.authentication.appPortalAccess(appB, {})).token;
    await admin.authentication.expireAll(appA, { sessionIds: ['user_1'] });
    assert.equal(await status(sdk(s1).application.get(appA)), 401);
    assert.equal(await status(sdk(s2).application.get(appA)), 200);
    await admin.authentication.expireAll(appA, { expiry: 60 });
    assert.equal(await status(sdk(s2).application.get(appA)), 200, 'still valid during the delay');
    clock.advance(60_000);
    assert.equal(await status(sdk(s2).application.get(appA)), 401);
    assert.equal(await status(sdk(other).application.get(appB)), 200, 'other applications keep theirs');
    assert.equal((await admin.authentication.appPortalAccess(appA, {})).token.length > 0, true, 'new tokens work after expire-all');
  });

  it('logs out the calling token only; other credentials cannot log out', async () => {
    const t1 = (await admin.authentication.appPortalAccess(appA, {})).token;
    const t2 = (await admin.authentication.appPortalAccess(appA, {})).token;
    await sdk(t1).authentication.logout();
    assert.equal(await status(sdk(t1).application.get(appA)), 401);
    assert.equal(await status(sdk(t2).application.get(appA)), 200);
    assert.equal(await status(admin.authentication.logout()), 400);
    assert.equal((await call(server, 'POST', '/api/v1/auth/logout')).status, 401);
  });
});
