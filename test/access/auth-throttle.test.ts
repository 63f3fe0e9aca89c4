/**
 * Failed authentications are throttled per client address and per credential, on a fake
 * clock, over real sockets: the clients bind 127.0.0.x source addresses of the loopback.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Agent, request } from 'undici';
import { FailureBackoff } from '../../src/access/failure-backoff.js';
import { AuthThrottle, DEFAULT_AUTH_BACKOFF } from '../../src/access/auth-throttle.js';
import { throttleKeyOfAddress } from '../../src/access/client-address.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

const MINUTE = 60_000;

/** A client whose connections come from `address` (any of 127.0.0.0/8 is this machine on Linux). */
function clientFrom(address: string) {
  // undici's own connector does not pass localAddress on, so the socket is made here.
  const agent = new Agent({
    connect: (o, done) => {
      const socket = connect({ host: o.hostname, port: Number(o.port), localAddress: address });
      socket.once('connect', () => done(null, socket));
      socket.once('error', (e) => done(e, null));
    },
  });
  return {
    async get(base: string, path: string, token: string, headers: Record<string, string> = {}): Promise<{ status: number; retryAfter: string | undefined }> {
      const r = await request(base + path, { dispatcher: agent, headers: { authorization: `Bearer ${token}`, ...headers } });
      await r.body.dump();
      const ra = r.headers['retry-after'];
      return { status: r.statusCode, retryAfter: typeof ra === 'string' ? ra : undefined };
    },
    /** Asks the OAuth token endpoint for a token; resolves with the status. */
    async tokenFor(base: string, clientId: string, clientSecret: string): Promise<number> {
      const r = await request(base + '/oauth/token', {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }).toString(),
      });
      await r.body.dump();
      return r.statusCode;
    },
    close: () => agent.close(),
  };
}

const guess = (i: number): string => `wrong-token-${i}-${'x'.repeat(i % 7)}-${Math.random().toString(36).slice(2)}`;

describe('FailureBackoff', () => {
  const policy = { freeFailures: 3, baseBlockMs: 1000, maxBlockMs: 8000, decayMs: 60_000, maxTracked: 2 };

  it('blocks after the free failures, doubles per failure up to the cap', () => {
    const b = new FailureBackoff(policy);
    const blocks = Array.from({ length: 7 }, () => b.fail('k', 0).blockMs);
    assert.deepEqual(blocks, [0, 0, 1000, 2000, 4000, 8000, 8000]);
    assert.equal(b.blockedFor('k', 0), 8000);
    assert.equal(b.blockedFor('k', 8000), 0);
  });

  it('forgives one failure per decay period', () => {
    const b = new FailureBackoff(policy);
    for (let i = 0; i < 4; i++) b.fail('k', 0); // 4 failures: blocked 2 s
    // Two periods later two failures are forgiven: the next one is the 3rd, blocking 1 s again.
    assert.equal(b.fail('k', 2 * 60_000).blockMs, 1000);
    // Long enough for all of them: free again.
    assert.equal(b.fail('k', 20 * 60_000).blockMs, 0);
  });

  it('remembers at most maxTracked keys, dropping the least recently failed', () => {
    const b = new FailureBackoff(policy);
    for (const k of ['a', 'a', 'a', 'b', 'c']) b.fail(k, 0);
    assert.equal(b.size, 2);
    assert.equal(b.blockedFor('a', 0), 0, 'a was dropped');
  });

  it('tells when a block starts, once per block', () => {
    const b = new FailureBackoff(policy);
    const started = [0, 0, 0, 0].map(() => b.fail('k', 0).blockStarted);
    assert.deepEqual(started, [false, false, true, false]);
  });
});

describe('AuthThrottle', () => {
  it('keys credentials by their first characters, and JWTs by nothing', () => {
    const clock = new FakeClock(0);
    const t = new AuthThrottle({ ...DEFAULT_AUTH_BACKOFF, freeFailures: 2 }, clock);
    t.failed('10.0.0.1', 'sbk_AAAAAAAAAAAAone');
    t.failed('10.0.0.2', 'sbk_AAAAAAAAAAAAtwo');
    assert.deepEqual(t.check('10.0.0.3', 'sbk_AAAAAAAAAAAAthree'), { kind: 'blocked', scope: 'credential', retryAfterMs: 1000 });
    assert.deepEqual(t.check('10.0.0.3', 'sbk_BBBBBBBBBBBBthree'), { kind: 'allowed' });
    t.failed('10.0.0.4', 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln');
    t.failed('10.0.0.5', 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ5In0.c2ln');
    assert.deepEqual(t.check('10.0.0.6', 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ6In0.c2ln'), { kind: 'allowed' });
  });
});

describe('throttling of failed authentications over HTTP', () => {
  const clock = new FakeClock(Date.UTC(2030, 0, 1));
  let server: TestServer;
  const guesser = clientFrom('127.0.0.1');
  const other = clientFrom('127.0.0.2');

  before(async () => {
    server = await startServer({ SWITCHBOARD_AUTH_FREE_FAILURES: '5' }, { clock });
  });
  after(async () => {
    await guesser.close();
    await other.close();
    await server.close();
  });

  it('answers 429 with Retry-After once an address has used up its free failures, before checking the token', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await guesser.get(server.url, '/api/v1/app', guess(i))).status, 401, `free failure ${i + 1}`);
    assert.deepEqual(await guesser.get(server.url, '/api/v1/app', guess(5)), { status: 429, retryAfter: '1' });
    // While blocked, the address waits whatever it sends, the right token included.
    assert.equal((await guesser.get(server.url, '/api/v1/app', server.token)).status, 429);
  });

  it('never slows a valid caller from another address', async () => {
    assert.equal((await other.get(server.url, '/api/v1/app', server.token)).status, 200);
  });

  it('doubles the wait per further failure, and forgives failures with time', async () => {
    clock.advance(1000);
    assert.equal((await guesser.get(server.url, '/api/v1/app', guess(6))).status, 401);
    assert.equal((await guesser.get(server.url, '/api/v1/app', guess(7))).retryAfter, '2');
    clock.advance(2000);
    assert.equal((await guesser.get(server.url, '/api/v1/app', guess(8))).status, 401);
    assert.equal((await guesser.get(server.url, '/api/v1/app', guess(9))).retryAfter, '4');
    // 7 failures so far; one is forgiven per 15 minutes: after 7 of them, 5 free failures again.
    clock.advance(7 * 15 * MINUTE);
    assert.equal((await guesser.get(server.url, '/api/v1/app', server.token)).status, 200);
    for (let i = 0; i < 5; i++) assert.equal((await guesser.get(server.url, '/api/v1/app', guess(10 + i))).status, 401);
    assert.equal((await guesser.get(server.url, '/api/v1/app', guess(20))).status, 429);
  });

  it('counts refusals and failures in the metrics', async () => {
    const r = await other.get(server.url, '/metrics', server.token);
    assert.equal(r.status, 200);
    const text = await (await fetch(server.url + '/metrics')).text();
    assert.match(text, /switchboard_auth_failures_total\{reason="invalid_token"\} 1[0-9]/);
    assert.match(text, /switchboard_auth_throttled_total\{scope="address"\} [1-9]/);
  });
});

describe('throttling of one credential guessed from many addresses', () => {
  const clock = new FakeClock(Date.UTC(2030, 0, 1));
  let server: TestServer;
  const clients = Array.from({ length: 8 }, (_, i) => clientFrom(`127.0.0.${i + 10}`));

  before(async () => {
    server = await startServer({ SWITCHBOARD_AUTH_FREE_FAILURES: '5' }, { clock });
  });
  after(async () => {
    for (const c of clients) await c.close();
    await server.close();
  });

  it('blocks the credential, not the addresses, once its free failures are used up', async () => {
    const prefix = 'sbk_AAAAAAAAAAAA';
    // One guess from each of five addresses: no address is near its own limit.
    for (let i = 0; i < 5; i++) assert.equal((await clients[i]!.get(server.url, '/api/v1/app', prefix + guess(i))).status, 401);
    const fresh = clients[5]!;
    assert.deepEqual(await fresh.get(server.url, '/api/v1/app', prefix + guess(9)), { status: 429, retryAfter: '1' });
    assert.equal((await fresh.get(server.url, '/api/v1/app', 'sbk_BBBBBBBBBBBB' + guess(9))).status, 401, 'another credential from that address is checked');
    assert.equal((await clients[6]!.get(server.url, '/api/v1/app', server.token)).status, 200, 'the admin token is unaffected');
    clock.advance(1000);
    assert.equal((await clients[7]!.get(server.url, '/api/v1/app', prefix + guess(10))).status, 401, 'the block ends');
  });
});

describe('throttleKeyOfAddress', () => {
  it('keys IPv4 by the address, IPv6 by its /64, mapped IPv4 as IPv4', () => {
    assert.equal(throttleKeyOfAddress('203.0.113.9'), '203.0.113.9');
    assert.equal(throttleKeyOfAddress('2001:db8:1:2:aaaa:bbbb:cccc:dddd'), '2001:db8:1:2::/64');
    assert.equal(throttleKeyOfAddress('2001:0db8:0001:0002::1'), '2001:db8:1:2::/64');
    assert.equal(throttleKeyOfAddress('2001:db8::5'), '2001:db8:0:0::/64');
    assert.equal(throttleKeyOfAddress('::1'), '0:0:0:0::/64');
    assert.equal(throttleKeyOfAddress('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(throttleKeyOfAddress('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(throttleKeyOfAddress('::ffff:c000:201'), '0:0:0:0::/64');
  });
});

describe('throttling behind a trusted reverse proxy', () => {
  const clock = new FakeClock(Date.UTC(2030, 0, 1));
  let server: TestServer;
  const proxy = clientFrom('127.0.0.1');
  const direct = clientFrom('127.0.0.3');

  before(async () => {
    server = await startServer({ SWITCHBOARD_AUTH_FREE_FAILURES: '2', SWITCHBOARD_TRUSTED_PROXIES: '127.0.0.1' }, { clock });
  });
  after(async () => {
    await proxy.close();
    await direct.close();
    await server.close();
  });

  it('throttles the client the proxy names, not the proxy', async () => {
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    for (let i = 0; i < 2; i++) assert.equal((await proxy.get(server.url, '/api/v1/app', guess(i), from('198.51.100.7'))).status, 401);
    assert.equal((await proxy.get(server.url, '/api/v1/app', guess(3), from('198.51.100.7'))).status, 429);
    assert.equal((await proxy.get(server.url, '/api/v1/app', server.token, from('198.51.100.8'))).status, 200, 'another client behind the proxy');
  });

  it('ignores X-Forwarded-For from an address that is not a trusted proxy', async () => {
    for (let i = 0; i < 2; i++) assert.equal((await direct.get(server.url, '/api/v1/app', guess(i), { 'x-forwarded-for': `203.0.113.${i}` })).status, 401);
    assert.equal((await direct.get(server.url, '/api/v1/app', guess(5), { 'x-forwarded-for': '203.0.113.99' })).status, 429, 'a made-up header does not get it fresh failures');
  });
});

describe('throttling of OAuth client secret guesses', () => {
  const clock = new FakeClock(Date.UTC(2030, 0, 1));
  let server: TestServer;
  const clients = Array.from({ length: 7 }, (_, i) => clientFrom(`127.0.0.${i + 30}`));

  before(async () => {
    server = await startServer({ SWITCHBOARD_AUTH_FREE_FAILURES: '5' }, { clock });
  });
  after(async () => {
    for (const c of clients) await c.close();
    await server.close();
  });

  it('blocks a client whose secret is guessed from many addresses, not other clients', async () => {
    const target = await server.api('POST', '/api/v1/oauth/client', { name: 'guessed', scopes: ['admin'] });
    const bystander = await server.api('POST', '/api/v1/oauth/client', { name: 'bystander', scopes: ['admin'] });
    for (let i = 0; i < 5; i++) assert.equal(await clients[i]!.tokenFor(server.url, target.body.id, 'sbcs_' + guess(i)), 401);
    assert.equal(await clients[5]!.tokenFor(server.url, target.body.id, target.body.clientSecret), 429, 'checked only once the block ends');
    assert.equal(await clients[6]!.tokenFor(server.url, bystander.body.id, bystander.body.clientSecret), 200);
    clock.advance(1000);
    assert.equal(await clients[5]!.tokenFor(server.url, target.body.id, target.body.clientSecret), 200);
  });
});
