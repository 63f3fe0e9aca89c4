/**
 * Rate limits: token buckets per credential and per application, health and unauthenticated
 * routes limited apart, `RateLimit`/`RateLimit-Policy` headers and 429 with `Retry-After`.
 * Time is a FakeClock, so refills happen exactly when the test says.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { Auth } from '../../src/http/auth.js';
import { RateLimiter, parseRateSpec } from '../../src/http/rate-limit.js';
import type { ApplicationService } from '../../src/catalog/applications.js';
import { loadConfig } from '../../src/config.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { call, createApp, createKey } from '../helpers/security.js';

describe('rate limit settings', () => {
  it('parses rate/burst, rate alone, and off; refuses nonsense naming the setting', () => {
    assert.deepEqual(parseRateSpec('10/30'), { rate: 10, burst: 30 });
    assert.deepEqual(parseRateSpec('0.5'), { rate: 0.5, burst: 1 });
    assert.deepEqual(parseRateSpec('5'), { rate: 5, burst: 10 });
    assert.equal(parseRateSpec('off'), null);
    assert.equal(parseRateSpec('0'), null);
    for (const bad of ['x', '-1', '10/', '/5', '10/0']) assert.throws(() => parseRateSpec(bad), /rate/, bad);
    assert.throws(() => loadConfig({ SWITCHBOARD_RATE_LIMIT_APP: 'lots' }), /SWITCHBOARD_RATE_LIMIT_APP/);
    assert.deepEqual(loadConfig({}).security.rateLimits.token, { rate: 1000, burst: 2000 });
  });
});

describe('rate limits', () => {
  let server: TestServer;
  const clock = new FakeClock(Date.UTC(2030, 0, 1));
  let appA: string;
  let appB: string;

  before(async () => {
    server = await startServer(
      {
        SWITCHBOARD_RATE_LIMIT_TOKEN: '1/3',
        SWITCHBOARD_RATE_LIMIT_APP: '2/5',
        SWITCHBOARD_RATE_LIMIT_HEALTH: '1/2',
        SWITCHBOARD_RATE_LIMIT_PUBLIC: '1/2',
      },
      { clock },
    );
    appA = await createApp(server, 'A');
    appB = await createApp(server, 'B');
  });
  after(async () => server.close());

  it('limits each credential with a token bucket, says so in the headers, and refills with time', async () => {
    const { key } = await createKey(server, ['admin']);
    const seen: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await call(server, 'GET', '/api/v1/event-type', { token: key });
      assert.equal(r.status, 200);
      seen.push(r.headers.get('ratelimit')!);
      assert.equal(r.headers.get('ratelimit-policy'), '"token";q=3;w=3');
    }
    assert.deepEqual(seen, ['"token";r=2;t=1', '"token";r=1;t=2', '"token";r=0;t=3']);
    const refused = await call(server, 'GET', '/api/v1/event-type', { token: key });
    assert.equal(refused.status, 429);
    assert.equal(refused.body.code, 'rate_limited');
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal(refused.headers.get('ratelimit'), '"token";r=0;t=3');
    clock.advance(1000);
    assert.equal((await call(server, 'GET', '/api/v1/event-type', { token: key })).status, 200, 'one token back after a second');
    assert.equal((await call(server, 'GET', '/api/v1/event-type', { token: key })).status, 429);
    const other = (await createKey(server, ['admin'])).key;
    assert.equal((await call(server, 'GET', '/api/v1/event-type', { token: other })).status, 200, 'another credential has its own bucket');
    assert.equal((await server.api('GET', '/api/v1/event-type')).headers.get('ratelimit'), null, 'the bootstrap admin token is not limited per token');
  });

  it('limits each application, whoever calls, and only for callers allowed on it', async () => {
    clock.advance(10_000);
    const keys = [];
    for (let i = 0; i < 6; i++) keys.push((await createKey(server, ['read'], appA)).key);
    const outsider = (await createKey(server, ['read'], appB)).key;
    // Someone scoped to B hammering A's id gets 404s and must not use up A's quota.
    for (let i = 0; i < 3; i++) assert.equal((await call(server, 'GET', `/api/v1/app/${appA}`, { token: outsider })).status, 404);
    // Six fresh credentials, each well within its own bucket: the application's holds five.
    const answers = [];
    for (const k of keys) answers.push(await call(server, 'GET', `/api/v1/app/${appA}`, { token: k }));
    assert.deepEqual(answers.map((r) => r.status), [200, 200, 200, 200, 200, 429]);
    assert.equal(answers[0]!.headers.get('ratelimit-policy'), '"token";q=3;w=3, "app";q=5;w=3');
    assert.equal(answers[0]!.headers.get('ratelimit'), '"token";r=2;t=1, "app";r=4;t=1');
    const refused = answers[5]!;
    assert.match(refused.body.detail, /\(app\)/);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal((await server.api('GET', `/api/v1/app/${appA}`)).status, 429, 'the admin token too: it is the application that is limited');
    assert.equal((await server.api('GET', `/api/v1/app/${appB}`)).status, 200, 'other applications are not affected');
    clock.advance(500);
    assert.equal((await server.api('GET', `/api/v1/app/${appA}`)).status, 200, 'two tokens a second come back');
  });

  it('limits health checks per client apart from the API', async () => {
    clock.advance(10_000);
    const h = [];
    for (let i = 0; i < 3; i++) h.push((await call(server, 'GET', '/api/v1/health')).status);
    assert.deepEqual(h, [204, 204, 429]);
    const r = await call(server, 'GET', '/api/v1/health');
    assert.equal(r.headers.get('ratelimit-policy'), '"health";q=2;w=2');
    assert.equal((await server.api('GET', '/api/v1/event-type')).status, 200, 'the API is not affected');
  });

  it('limits unauthenticated routes (the token endpoint) per client', async () => {
    clock.advance(10_000);
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      const r = await fetch(server.url + '/oauth/token', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&client_id=client_x&client_secret=guess' + i,
      });
      statuses.push(r.status);
    }
    assert.deepEqual(statuses, [401, 401, 429], 'guessing client secrets is slowed down');
  });
});

describe('rate limits of ingest routes', () => {
  it('give each unauthenticated ingest source a bucket of its own', async () => {
    const clock = new FakeClock(Date.UTC(2030, 0, 1));
    const app = Fastify();
    const auth = new Auth('admin-token', { find: async () => null } as unknown as ApplicationService);
    auth.register(app);
    const settings = { token: null, app: null, health: null, public: null, ingest: { rate: 1, burst: 2 } };
    new RateLimiter(settings, clock, { find: async () => null } as unknown as ApplicationService).register(app);
    app.post('/ingest/:source_id', async () => ({ ok: true }));
    const post = async (source: string) => (await app.inject({ method: 'POST', url: `/ingest/${source}`, payload: {} })).statusCode;
    assert.deepEqual([await post('src_a'), await post('src_a'), await post('src_a')], [200, 200, 429]);
    assert.equal(await post('src_b'), 200, 'another source is not affected');
    const r = await app.inject({ method: 'POST', url: '/ingest/src_b', payload: {} });
    assert.equal(r.headers['ratelimit-policy'], '"ingest";q=2;w=2');
    clock.advance(1000);
    assert.equal(await post('src_a'), 200);
    await app.close();
  });
});
