/**
 * Poller tokens: scoped to one polling endpoint of one application. Every registered route
 * is tried with one; only its own polling endpoint's reads answer.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../helpers/fake-clock.js';
import { startServer, TEST_TOKEN as TEST_ADMIN } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

describe('poller tokens', () => {
  let server: TestServer;
  const clock = new FakeClock();
  let appId: string;
  let otherApp: string;
  let pe: string;
  let otherPe: string;
  let token: string;

  const call = async (method: string, path: string, bearer: string, body?: unknown) => {
    const ac = new AbortController();
    const res = await fetch(server.url + path, {
      method,
      signal: ac.signal,
      headers: { authorization: `Bearer ${bearer}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    // Streams would go on: their status is all that is needed.
    ac.abort();
    return res.status;
  };

  before(async () => {
    server = await startServer({}, { clock });
    appId = (await server.api('POST', '/api/v1/app', { name: 'scoped', uid: 'scoped-app' })).body.id;
    otherApp = (await server.api('POST', '/api/v1/app', { name: 'other' })).body.id;
    pe = (await server.api('POST', `/api/v1/app/${appId}/polling-endpoint`, {})).body.id;
    otherPe = (await server.api('POST', `/api/v1/app/${appId}/polling-endpoint`, {})).body.id;
    await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'a.b', payload: {} });
    token = (await server.api('GET', `/api/v1/auth/app/${appId}/poller/${pe}/token`)).body.token;
  });
  after(async () => server.close());

  it('is refused on every route but the reads of its own polling endpoint', async () => {
    const routes = server.sb.auth.routes().filter((r) => r.access !== 'public' && r.method !== 'HEAD' && r.method !== 'OPTIONS');
    assert.ok(routes.length > 30, `${routes.length} routes to try`);
    let own = 0;
    for (const r of routes) {
      const path = r.url
        .replace(':app_id', appId)
        .replace(/:(sink_id|polling_endpoint_id|endpoint_id)/g, pe)
        .replace(':consumer_id', 'consumer-1')
        .replace(/:[a-z_]+/g, 'x')
        .replace('*', 'x');
      const body = ['POST', 'PUT', 'PATCH'].includes(r.method) ? {} : undefined;
      const status = await call(r.method, path, token, body);
      if (r.access === 'poller') {
        own++;
        assert.ok(status === 200 || status === 422, `${r.method} ${r.url}: its own polling endpoint answers (${status})`);
      } else {
        assert.ok(status === 403 || status === 404, `${r.method} ${r.url} refuses a poller token (${status})`);
      }
    }
    assert.equal(own, 4, 'poll, consumer poll, seek and the consumer stream');
  });

  it('reaches neither another polling endpoint nor another application', async () => {
    assert.equal(await call('GET', `/api/v1/app/${appId}/poller/${otherPe}`, token), 404);
    assert.equal(await call('GET', `/api/v1/app/${appId}/poller/${otherPe}/consumer/c`, token), 404);
    assert.equal(await call('POST', `/api/v1/app/${appId}/poller/${otherPe}/consumer/c/seek`, token, { after: new Date().toISOString() }), 404);
    assert.equal(await call('GET', `/api/v1/app/${otherApp}/poller/${pe}`, token), 404);
    assert.equal(await call('GET', `/api/v1/app/scoped-app/poller/${pe}`, token), 200, 'the application uid works too');
  });

  it('stops working when it expires, and with its polling endpoint', async () => {
    const rotated = await server.api('POST', `/api/v1/auth/app/${appId}/poller/${pe}/token/rotate`, { expiry: 60, oldTokenExpiry: 10 });
    assert.equal(rotated.status, 201);
    assert.ok(rotated.body.expiresAt);
    const fresh = rotated.body.token as string;
    assert.equal(await call('GET', `/api/v1/app/${appId}/poller/${pe}`, token), 200);
    clock.advance(10_000);
    assert.equal(await call('GET', `/api/v1/app/${appId}/poller/${pe}`, token), 401, 'the old token expired');
    assert.equal(await call('GET', `/api/v1/app/${appId}/poller/${pe}`, fresh), 200);
    clock.advance(50_000);
    assert.equal(await call('GET', `/api/v1/app/${appId}/poller/${pe}`, fresh), 401, 'the new token had an expiry too');
    const last = (await server.api('POST', `/api/v1/auth/app/${appId}/poller/${pe}/token/rotate`, {})).body.token as string;
    assert.equal(await call('GET', `/api/v1/app/${appId}/poller/${pe}`, last), 200);
    assert.equal((await server.api('DELETE', `/api/v1/app/${appId}/polling-endpoint/${pe}`)).status, 204);
    assert.equal(await call('GET', `/api/v1/app/${appId}/poller/${pe}`, last), 401, 'deleting the polling endpoint revokes its tokens');
  });

  // The clock stands still: what a poller request looked up is kept, so only the change itself can end it.
  it('stops working at once when rotated with no grace, though it was just used', async () => {
    const endpoint = (await server.api('POST', `/api/v1/app/${appId}/polling-endpoint`, { uid: 'revoked-at-once' })).body.id as string;
    const old = (await server.api('GET', `/api/v1/auth/app/${appId}/poller/${endpoint}/token`)).body.token as string;
    assert.equal(await call('GET', `/api/v1/app/${appId}/poller/${endpoint}`, old), 200);
    assert.equal(await call('GET', `/api/v1/app/${appId}/poller/revoked-at-once`, old), 200);
    const rotated = await server.api('POST', `/api/v1/auth/app/${appId}/poller/${endpoint}/token/rotate`, { oldTokenExpiry: 0 });
    assert.equal(rotated.status, 201);
    assert.equal(await call('GET', `/api/v1/app/${appId}/poller/${endpoint}`, old), 401, 'the rotated token');
    assert.equal(await call('GET', `/api/v1/app/${appId}/poller/${endpoint}`, rotated.body.token as string), 200, 'the new one');
  });

  it('follows its polling endpoint when the uid changes, and ends with it', async () => {
    const endpoint = (await server.api('POST', `/api/v1/app/${appId}/polling-endpoint`, { uid: 'renamed-before' })).body.id as string;
    const t = (await server.api('GET', `/api/v1/auth/app/${appId}/poller/${endpoint}/token`)).body.token as string;
    assert.equal(await call('GET', `/api/v1/app/${appId}/poller/renamed-before`, t), 200);
    assert.equal((await server.api('PATCH', `/api/v1/app/${appId}/polling-endpoint/${endpoint}`, { uid: 'renamed-after' })).status, 200);
    assert.equal(await call('GET', `/api/v1/app/${appId}/poller/renamed-before`, t), 404, 'the old uid names nothing any more');
    assert.equal(await call('GET', `/api/v1/app/${appId}/poller/renamed-after`, t), 200);
    assert.equal((await server.api('DELETE', `/api/v1/app/${appId}/polling-endpoint/renamed-after`)).status, 204);
    assert.equal(await call('GET', `/api/v1/app/${appId}/poller/renamed-after`, t), 401, 'its token ended with it');
    assert.equal(await call('GET', `/api/v1/app/${appId}/poller/renamed-after`, TEST_ADMIN), 404, 'and the endpoint is gone');
  });
});
