/**
 * The ingest management API through the official `svix` SDK (sources, their endpoints,
 * secrets, headers, transformations, token rotation), plus Switchboard's own source types
 * and the errors bad input gets.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiException, Svix } from 'svix';
import { Receiver } from '../helpers/receiver.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

function apiError(status: number) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof ApiException, `expected an ApiException, got ${String(e)}`);
    assert.equal(e.code, status, JSON.stringify(e.body));
    return true;
  };
}

describe('ingest API with the svix SDK', () => {
  let server: TestServer;
  let svix: Svix;
  let rx: Receiver;

  before(async () => {
    rx = await new Receiver().start();
    // Transformation code is checked in a sandbox with a time limit: generous, as the machine may be busy.
    server = await startServer({ SWITCHBOARD_TRANSFORMATION_TIMEOUT_MS: '5000' });
    svix = new Svix(server.token, { serverUrl: server.url });
  });
  after(async () => {
    await server.close();
    await rx.close();
  });

  it('creates, reads, lists, updates and deletes sources', async () => {
    const secret = 'whsec_' + Buffer.alloc(24, 3).toString('base64');
    const created = await svix.ingest.source.create({ name: 'Clerk users', uid: 'clerk-users', type: 'clerk', config: { secret }, metadata: { team: 'id' } });
    assert.match(created.id, /^src_/);
    assert.equal(created.uid, 'clerk-users');
    assert.equal(created.type, 'clerk');
    assert.match(created.ingestUrl!, /\/ingest\/in\//);
    const got = await svix.ingest.source.get('clerk-users');
    assert.equal(got.id, created.id);
    assert.deepEqual(got.metadata, { team: 'id' });
    const list = await svix.ingest.source.list({ limit: 100 });
    assert.ok(list.data.some((s) => s.id === created.id));
    const updated = await svix.ingest.source.update(created.id, { name: 'Clerk', type: 'clerk', config: { secret } });
    assert.equal(updated.name, 'Clerk');
    const rotated = await svix.ingest.source.rotateToken(created.id);
    assert.notEqual(rotated.ingestUrl, created.ingestUrl);
    const cron = await svix.ingest.source.create({ name: 'Nightly', type: 'cron', config: { schedule: '0 3 * * *', payload: '{"job":"nightly"}' } });
    assert.equal(cron.ingestUrl, null);
    assert.equal((cron as { config: { schedule: string } }).config.schedule, '0 3 * * *');
    await svix.ingest.source.delete('clerk-users');
    await assert.rejects(svix.ingest.source.get(created.id), apiError(404));
    // Its application (messages, endpoints) went with it.
    assert.equal((await server.api('GET', `/api/v1/app/${created.id}`)).status, 404);
  });

  it('manages a source\u2019s endpoints: CRUD, secret, headers, transformation', async () => {
    const src = await svix.ingest.source.create({ name: 'Stripe', type: 'stripe', config: { secret: 'whsec_abc' } });
    const ep = await svix.ingest.endpoint.create(src.id, { url: rx.url('/ep'), uid: 'billing', throttleRate: 5, description: 'billing service', metadata: { k: 'v' } });
    assert.match(ep.id, /^ep_/);
    assert.equal(ep.throttleRate, 5);
    assert.equal((await svix.ingest.endpoint.get(src.id, 'billing')).id, ep.id);
    assert.equal((await svix.ingest.endpoint.list(src.id)).data.length, 1);
    const up = await svix.ingest.endpoint.update(src.id, ep.id, { url: rx.url('/ep2'), description: 'moved' });
    assert.equal(up.url, rx.url('/ep2'));
    const s1 = await svix.ingest.endpoint.getSecret(src.id, ep.id);
    assert.match(s1.key, /^whsec_/);
    await svix.ingest.endpoint.rotateSecret(src.id, ep.id, { key: null });
    assert.notEqual((await svix.ingest.endpoint.getSecret(src.id, ep.id)).key, s1.key);
    await svix.ingest.endpoint.updateHeaders(src.id, ep.id, { headers: { 'X-Team': 'billing', Authorization: 'Bearer internal' } });
    const h = await svix.ingest.endpoint.getHeaders(src.id, ep.id);
    assert.deepEqual(h.headers, { 'X-Team': 'billing' });
    assert.deepEqual(h.sensitive, ['Authorization']);
    await svix.ingest.endpoint.setTransformation(src.id, ep.id, { code: 'function handler(webhook) { return webhook; }', enabled: true });
    const t = await svix.ingest.endpoint.getTransformation(src.id, ep.id);
    assert.equal(t.enabled, true);
    assert.match(t.code!, /handler/);
    // The same endpoint is an endpoint of the source's application.
    assert.equal((await server.api('GET', `/api/v1/app/${src.id}/endpoint/${ep.id}`)).body.url, rx.url('/ep2'));
    await svix.ingest.endpoint.delete(src.id, ep.id);
    await assert.rejects(svix.ingest.endpoint.get(src.id, ep.id), apiError(404));
  });

  it('gives a consumer-portal link scoped to the source\u2019s application', async () => {
    const src = await svix.ingest.source.create({ name: 'Portal', type: 'generic-webhook' });
    const access = await svix.ingest.dashboard(src.id, { readOnly: true, expiry: 3600 });
    assert.match(access.url, /\/portal#token=/);
    const own = await fetch(`${server.url}/api/v1/app/${src.id}/msg`, { headers: { authorization: `Bearer ${access.token}` } });
    assert.equal(own.status, 200);
    const other = await fetch(`${server.url}/ingest/api/v1/source`, { headers: { authorization: `Bearer ${access.token}` } });
    assert.equal(other.status, 403, 'source management stays with admins');
  });

  it('refuses bad input with clear errors', async () => {
    const post = (body: unknown) => server.api('POST', '/ingest/api/v1/source', body);
    const unknown = await post({ name: 'x1', type: 'carrier-pigeon' });
    assert.equal(unknown.status, 422);
    assert.deepEqual(unknown.body.detail[0].loc, ['body', 'type']);
    const noSecret = await post({ name: 'x1', type: 'stripe', config: {} });
    assert.equal(noSecret.status, 422);
    assert.deepEqual(noSecret.body.detail[0].loc, ['body', 'config', 'secret']);
    const badUid = await post({ name: 'x1', type: 'generic-webhook', uid: 'src_mine' });
    assert.equal(badUid.status, 422);
    assert.equal((await post({ name: 'x1', type: 'generic-webhook', uid: 'dup' })).status, 201);
    const dup = await post({ name: 'x1', type: 'generic-webhook', uid: 'dup' });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.code, 'conflict');
    assert.equal((await server.api('GET', '/ingest/api/v1/source/src_missing')).status, 404);
    const unauth = await fetch(server.url + '/ingest/api/v1/source');
    assert.equal(unauth.status, 401);
    const badEndpoint = await server.api('POST', '/ingest/api/v1/source/dup/endpoint', { url: 'ftp://x' });
    assert.equal(badEndpoint.status, 422);
  });

  it('changes a source with PATCH, keeping or replacing its config', async () => {
    const created = await server.api('POST', '/ingest/api/v1/source', { name: 'hmac', type: 'generic-hmac', config: { secret: 's', header: 'X-Sig' } });
    assert.equal(created.status, 201);
    assert.deepEqual(created.body.config, { header: 'x-sig', algorithm: 'sha256', encoding: 'hex', secretEncoding: 'utf8', signedContent: '{body}' });
    const renamed = await server.api('PATCH', `/ingest/api/v1/source/${created.body.id}`, { name: 'renamed', uid: 'hmac-src' });
    assert.equal(renamed.status, 200);
    assert.equal(renamed.body.name, 'renamed');
    assert.equal(renamed.body.ingestUrl, created.body.ingestUrl);
    const reconfigured = await server.api('PATCH', `/ingest/api/v1/source/hmac-src`, { config: { secret: 's2', header: 'X-Other', encoding: 'base64' } });
    assert.equal(reconfigured.status, 200);
    assert.equal(reconfigured.body.config.header, 'x-other');
    const bad = await server.api('PATCH', `/ingest/api/v1/source/hmac-src`, { config: { header: 'X' } });
    assert.equal(bad.status, 422);
    // PUT creates a source under a new uid.
    const put = await server.api('PUT', '/ingest/api/v1/source/new-one', { name: 'put', type: 'bearer', config: { token: 't' } });
    assert.equal(put.status, 201);
    assert.equal(put.body.uid, 'new-one');
  });
});
