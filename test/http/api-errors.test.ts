/**
 * Bad input gets a clear 4xx in the API's error shape (`{"code", "detail"}`, or
 * `{"detail": [{loc, msg, type}]}` for 422) and changes nothing; hostile input never
 * gets a 5xx and leaves the server answering.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { eventually } from '../helpers/eventually.js';
import { startServer, TEST_TOKEN } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { Receiver } from '../helpers/receiver.js';

type Res = Awaited<ReturnType<TestServer['api']>>;
type Loc = (string | number)[];

/** A `{code, detail}` error with this status and code. */
function assertError(res: Res, status: number, code: string, what: string): void {
  assert.equal(res.status, status, `${what}: got ${res.status} ${JSON.stringify(res.body)}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/, `${what}: content-type`);
  assert.deepEqual(Object.keys(res.body ?? {}).sort(), ['code', 'detail'], `${what}: error shape ${JSON.stringify(res.body)}`);
  assert.equal(res.body.code, code, `${what}: code`);
  assert.equal(typeof res.body.detail, 'string', `${what}: detail`);
  assert.ok(res.body.detail.length > 0, `${what}: detail is empty`);
}

/** A 422 `{detail: [{loc, msg, type}]}`; with `loc`, one issue must point there. */
function assert422(res: Res, what: string, loc?: Loc): void {
  assert.equal(res.status, 422, `${what}: got ${res.status} ${JSON.stringify(res.body)}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/, `${what}: content-type`);
  assert.deepEqual(Object.keys(res.body ?? {}), ['detail'], `${what}: shape ${JSON.stringify(res.body)}`);
  const issues: unknown[] = res.body.detail;
  assert.ok(Array.isArray(issues) && issues.length > 0, `${what}: no issues`);
  for (const i of issues as { loc: unknown; msg: unknown; type: unknown }[]) {
    assert.deepEqual(Object.keys(i).sort(), ['loc', 'msg', 'type'], `${what}: issue shape`);
    assert.ok(Array.isArray(i.loc) && i.loc.length > 0 && i.loc.every((p) => typeof p === 'string' || typeof p === 'number'), `${what}: loc`);
    assert.equal(typeof i.msg, 'string');
    assert.equal(typeof i.type, 'string');
  }
  if (loc) {
    const locs = (issues as { loc: Loc }[]).map((i) => i.loc);
    assert.ok(
      locs.some((l) => isDeepStrictEqual(l, loc)),
      `${what}: expected an issue at ${JSON.stringify(loc)}, got ${JSON.stringify(locs)}`,
    );
  }
}

/** Any 4xx in one of the two error shapes. */
function assertClientError(res: Res, what: string): void {
  assert.ok(res.status >= 400 && res.status < 500, `${what}: got ${res.status} ${JSON.stringify(res.body)?.slice(0, 300)}`);
  if (res.status === 422) assert422(res, what);
  else assertError(res, res.status, String(res.body?.code), what);
}

/** Everything the API shows, as one string: any change at all shows up in a comparison. */
async function snapshot(s: TestServer): Promise<string> {
  const get = async (path: string): Promise<unknown> => {
    const r = await s.api('GET', path);
    assert.equal(r.status, 200, `snapshot ${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const apps = (await get('/api/v1/app?limit=250')) as { data: { id: string }[]; done: boolean };
  assert.equal(apps.done, true);
  const out: unknown[] = [apps, await get('/api/v1/event-type?limit=250&include_archived=true&with_content=true')];
  for (const a of apps.data) {
    const eps = (await get(`/api/v1/app/${a.id}/endpoint?limit=250`)) as { data: { id: string }[] };
    out.push(eps, await get(`/api/v1/app/${a.id}/msg?limit=250`));
    for (const ep of eps.data) {
      out.push(await get(`/api/v1/app/${a.id}/endpoint/${ep.id}/headers`), await get(`/api/v1/app/${a.id}/endpoint/${ep.id}/secret`));
    }
  }
  return JSON.stringify(out);
}

/** A JSON object nested `depth` levels deep. */
const nested = (depth: number, open = '{"a":', close = '}'): string => open.repeat(depth) + '1' + close.repeat(depth);

describe('API errors: bad input gets a clear 4xx and changes nothing', () => {
  let server: TestServer;
  let receiver: Receiver;
  let baseline = '';
  let msgId = '';
  let attemptId = '';
  const since = new Date(Date.now() - 3600_000).toISOString();

  before(async () => {
    receiver = await new Receiver().start();
    server = await startServer();
    const ok = async (method: string, path: string, body?: unknown): Promise<any> => {
      const r = await server.api(method, path, body);
      assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    };
    await ok('POST', '/api/v1/app', { name: 'Fixture', uid: 'fixture' });
    await ok('POST', '/api/v1/app', { name: 'Neighbour', uid: 'neighbour' });
    await ok('POST', '/api/v1/event-type', { name: 'fixture.event', description: 'fixture', schemas: { '1': { type: 'object', examples: [{ ok: true }] } } });
    await ok('POST', '/api/v1/app/fixture/endpoint', { url: receiver.url('/hook'), uid: 'hook', headers: { 'X-Fixture': '1' } });
    msgId = (await ok('POST', '/api/v1/app/fixture/msg', { eventType: 'fixture.event', payload: { n: 1 } })).id;
    await eventually(() => receiver.at('/hook').length === 1, 'fixture delivery');
    await server.sb.dispatcher.idle();
    attemptId = (await ok('GET', `/api/v1/app/fixture/attempt/msg/${msgId}`)).data[0].id;
    baseline = await snapshot(server);
  });

  after(async () => {
    await server?.close();
    await receiver?.close();
  });

  it('malformed JSON bodies get 400 invalid_json', async () => {
    const bodies = ['{"name": ', '{name: "x"}', "{'name':'x'}", '{"name":"x"}}', '{"name":"x",}', 'undefined', 'NaN', '{"name":"x"', ''];
    const routes: [string, string][] = [
      ['POST', '/api/v1/app'],
      ['PUT', '/api/v1/app/fixture'],
      ['PATCH', '/api/v1/app/fixture'],
      ['POST', '/api/v1/event-type'],
      ['POST', '/api/v1/app/fixture/endpoint'],
      ['PATCH', '/api/v1/app/fixture/endpoint/hook'],
      ['PUT', '/api/v1/app/fixture/endpoint/hook/headers'],
      ['POST', '/api/v1/app/fixture/msg'],
      ['POST', '/api/v1/app/fixture/endpoint/hook/secret/rotate'],
    ];
    for (const [method, path] of routes) {
      for (const body of bodies) {
        assertError(await server.api(method, path, body, { 'content-type': 'application/json' }), 400, 'invalid_json', `${method} ${path} ${JSON.stringify(body)}`);
      }
    }
    assert.equal(await snapshot(server), baseline);
  });

  it('unknown applications, endpoints, messages, attempts and event types get 404 not_found', async () => {
    const ep = '/api/v1/app/fixture/endpoint/ep_unknown';
    const cases: [string, string, unknown?][] = [
      ['GET', '/api/v1/app/app_unknown'],
      ['PATCH', '/api/v1/app/app_unknown', { name: 'x' }],
      ['DELETE', '/api/v1/app/app_unknown'],
      ['GET', '/api/v1/app/app_unknown/endpoint'],
      ['POST', '/api/v1/app/app_unknown/endpoint', { url: receiver.url('/x') }],
      ['POST', '/api/v1/app/app_unknown/msg', { eventType: 'fixture.event', payload: {} }],
      ['GET', '/api/v1/app/app_unknown/msg'],
      ['GET', ep],
      ['PUT', '/api/v1/app/app_unknown/endpoint/hook', { url: receiver.url('/x') }],
      ['PATCH', ep, { description: 'x' }],
      ['DELETE', ep],
      ['GET', `${ep}/headers`],
      ['PUT', `${ep}/headers`, { headers: { 'X-A': '1' } }],
      ['PATCH', `${ep}/headers`, { headers: { 'X-A': '1' } }],
      ['GET', `${ep}/secret`],
      ['POST', `${ep}/secret/rotate`, {}],
      ['POST', `${ep}/recover`, { since }],
      ['POST', `${ep}/replay-missing`, { since }],
      ['POST', `${ep}/send-example`, { eventType: 'fixture.event' }],
      ['GET', `${ep}/stats`],
      ['GET', `${ep}/msg`],
      ['GET', '/api/v1/app/fixture/attempt/endpoint/ep_unknown'],
      ['GET', '/api/v1/app/fixture/msg/msg_unknown'],
      ['DELETE', '/api/v1/app/fixture/msg/msg_unknown/content'],
      ['GET', '/api/v1/app/fixture/attempt/msg/msg_unknown'],
      ['GET', '/api/v1/app/fixture/msg/msg_unknown/endpoint'],
      ['GET', `/api/v1/app/fixture/msg/${msgId}/attempt/atmpt_unknown`],
      ['DELETE', `/api/v1/app/fixture/msg/${msgId}/attempt/atmpt_unknown/content`],
      ['GET', `/api/v1/app/fixture/msg/msg_unknown/attempt/${attemptId}`],
      ['GET', `/api/v1/app/fixture/attempt/msg/${msgId}?endpoint_id=ep_unknown`],
      ['POST', '/api/v1/app/fixture/msg/msg_unknown/endpoint/hook/resend'],
      ['POST', `/api/v1/app/fixture/msg/${msgId}/endpoint/ep_unknown/resend`],
      ['POST', '/api/v1/app/fixture/endpoint/hook/send-example', { eventType: 'unknown.type' }],
      ['GET', '/api/v1/event-type/unknown.type'],
      ['PATCH', '/api/v1/event-type/unknown.type', { description: 'x' }],
      ['DELETE', '/api/v1/event-type/unknown.type'],
      // Another application's endpoint, message and attempt are not found through this one.
      ['GET', '/api/v1/app/neighbour/endpoint/hook'],
      ['GET', `/api/v1/app/neighbour/msg/${msgId}`],
      ['GET', `/api/v1/app/neighbour/msg/${msgId}/attempt/${attemptId}`],
      ['POST', `/api/v1/app/neighbour/msg/${msgId}/endpoint/hook/resend`],
    ];
    for (const [method, path, body] of cases) {
      assertError(await server.api(method, path, body), 404, 'not_found', `${method} ${path}`);
    }
    assert.equal(await snapshot(server), baseline);
    assert.equal(receiver.received.length, 1, 'nothing was sent');
  });

  it('invalid endpoint URLs get 422 at body.url', async () => {
    const urls = [
      'not a url',
      '/relative/path',
      'http://',
      'http://[::1',
      'ftp://example.com/hook',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'mailto:hooks@example.com',
      'ws://127.0.0.1/socket',
      'https://user:pass@example.com/hook',
      'https://user@example.com/hook',
      '',
    ];
    for (const url of urls) {
      assert422(await server.api('POST', '/api/v1/app/fixture/endpoint', { url }), `POST ${url}`, ['body', 'url']);
      assert422(await server.api('PUT', '/api/v1/app/fixture/endpoint/hook', { url }), `PUT ${url}`, ['body', 'url']);
      assert422(await server.api('PATCH', '/api/v1/app/fixture/endpoint/hook', { url }), `PATCH ${url}`, ['body', 'url']);
    }
    assert422(await server.api('POST', '/api/v1/app/fixture/endpoint', { description: 'no url' }), 'missing url', ['body', 'url']);
    assert.equal(await snapshot(server), baseline);
  });

  it('event type names, uids, event ids and channels with bad characters or too long get 422', async () => {
    const badNames = ['has space', 'slash/name', 'semi;colon', 'ünïcode', 'nul\u0000byte', 'a'.repeat(257), ''];
    for (const name of badNames) {
      const what = JSON.stringify(name.slice(0, 20));
      assert422(await server.api('POST', '/api/v1/event-type', { name, description: 'x' }), `event type ${what}`, ['body', 'name']);
      assert422(await server.api('POST', '/api/v1/app', { name: 'x', uid: name }), `app uid ${what}`, ['body', 'uid']);
      assert422(await server.api('POST', '/api/v1/app/fixture/endpoint', { url: receiver.url('/x'), uid: name }), `endpoint uid ${what}`, ['body', 'uid']);
      assert422(await server.api('POST', '/api/v1/app/fixture/msg', { eventType: name, payload: {} }), `message eventType ${what}`, ['body', 'eventType']);
      assert422(await server.api('POST', '/api/v1/app/fixture/msg', { eventType: 'fixture.event', eventId: name, payload: {} }), `eventId ${what}`, ['body', 'eventId']);
      assert422(await server.api('POST', '/api/v1/app/fixture/endpoint', { url: receiver.url('/x'), filterTypes: [name] }), `filterTypes ${what}`, ['body', 'filterTypes', 0]);
    }
    assert422(await server.api('PUT', '/api/v1/event-type/has%20space', { description: 'x' }), 'PUT event type path', ['path', 'event_type_name']);
    assert422(await server.api('GET', '/api/v1/event-type/has%20space'), 'GET event type path', ['path', 'event_type_name']);
    assert422(await server.api('PUT', `/api/v1/app/${'a'.repeat(257)}`, { name: 'x' }), 'PUT app path too long', ['path', 'app_id']);
    assert422(await server.api('POST', '/api/v1/app/fixture/msg', { eventType: 'fixture.event', channels: ['bad channel'], payload: {} }), 'channel', ['body', 'channels', 0]);
    assert422(await server.api('POST', '/api/v1/app/fixture/msg', { eventType: 'fixture.event', channels: ['c'.repeat(129)], payload: {} }), 'long channel', ['body', 'channels', 0]);
    assert422(await server.api('POST', '/api/v1/app/fixture/msg', { eventType: 'fixture.event', channels: ['a', 'b', 'c', 'd', 'e', 'f'], payload: {} }), 'six channels', ['body', 'channels']);
    assert422(await server.api('POST', '/api/v1/app/fixture/msg', { eventType: 'fixture.event' }), 'missing payload', ['body', 'payload']);
    assert422(await server.api('POST', '/api/v1/app/fixture/msg', { eventType: 'fixture.event', payload: 'text' }), 'payload not an object', ['body', 'payload']);
    // The application to create alongside the message is checked too, and nothing is created.
    assert422(await server.api('POST', '/api/v1/app/brand-new/msg', { eventType: 'fixture.event', payload: {}, application: { name: 'x', uid: 'bad uid' } }), 'inline application');
    assert.equal(await snapshot(server), baseline);
  });

  it('missing or wrong credentials get 401', async () => {
    const noAuth = { authorization: '' };
    const wrong = [
      `Bearer ${TEST_TOKEN}x`,
      `Bearer ${TEST_TOKEN.slice(0, -1)}`,
      'Bearer ',
      'Bearer',
      TEST_TOKEN,
      `Basic ${Buffer.from(`admin:${TEST_TOKEN}`).toString('base64')}`,
      `Token ${TEST_TOKEN}`,
    ];
    const routes: [string, string, unknown?][] = [
      ['GET', '/api/v1/app'],
      ['POST', '/api/v1/app', { name: 'Intruder', uid: 'intruder' }],
      ['DELETE', '/api/v1/app/fixture'],
      ['GET', '/api/v1/app/fixture/endpoint/hook/secret'],
      ['POST', '/api/v1/app/fixture/msg', { eventType: 'fixture.event', payload: {} }],
      ['POST', '/api/v1/event-type', { name: 'intruder.event', description: 'x' }],
    ];
    for (const [method, path, body] of routes) {
      assertError(await server.api(method, path, body, noAuth), 401, 'unauthorized', `${method} ${path} without a token`);
      for (const authorization of wrong) {
        assertError(await server.api(method, path, body, { authorization }), 401, 'unauthorized', `${method} ${path} with ${JSON.stringify(authorization.slice(0, 12))}`);
      }
    }
    assert.equal((await server.api('GET', '/api/v1/health', undefined, noAuth)).status, 204, 'health needs no token');
    assert.equal(await snapshot(server), baseline);
  });

  it('a body that is not JSON gets 415', async () => {
    const types: [string, string][] = [
      ['text/plain', '{"name":"x","uid":"plain"}'],
      ['text/plain;charset=UTF-8', '{"name":"x","uid":"plain"}'],
      ['application/xml', '<app><name>x</name></app>'],
      ['application/x-www-form-urlencoded', 'name=x&uid=form'],
      ['multipart/form-data; boundary=xyz', '--xyz\r\nContent-Disposition: form-data; name="name"\r\n\r\nx\r\n--xyz--\r\n'],
      ['text/html', '<p>x</p>'],
    ];
    for (const [type, body] of types) {
      for (const [method, path] of [
        ['POST', '/api/v1/app'],
        ['PATCH', '/api/v1/app/fixture'],
        ['POST', '/api/v1/app/fixture/msg'],
        ['POST', '/api/v1/app/fixture/endpoint'],
      ] as const) {
        assertError(await server.api(method, path, body, { 'content-type': type }), 415, 'unsupported_media_type', `${method} ${path} as ${type}`);
      }
    }
    assert.equal(await snapshot(server), baseline);
  });

  it('unknown routes get 404 not_found', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/nope'],
      ['GET', '/api/v2/app'],
      ['POST', '/api/v1/application'],
      ['DELETE', '/api/v1/app'],
      ['GET', '/api/v1/app/fixture/endpoint/hook/nope'],
      ['GET', '/api/nope'],
      ['GET', '/api/v1/app/..%2F..%2Fetc%2Fpasswd/msg/x/y/z'],
    ] as const) {
      assertError(await server.api(method, path), 404, 'not_found', `${method} ${path}`);
    }
    assert.equal(await snapshot(server), baseline);
  });

  it('reserved or invalid endpoint header names get 422', async () => {
    const bad: Record<string, string>[] = [
      { 'webhook-id': 'forged' },
      { 'Webhook-Signature': 'v1,forged' },
      { 'webhook-timestamp': '0' },
      { 'svix-id': 'forged' },
      { 'SVIX-SIGNATURE': 'v1,forged' },
      { Host: 'evil.example' },
      { 'Content-Length': '1' },
      { 'content-type': 'text/plain' },
      { 'Transfer-Encoding': 'chunked' },
      { 'bad header': 'x' },
      { 'x-ok': 'line\r\nInjected: yes' },
    ];
    for (const headers of bad) {
      const name = Object.keys(headers)[0]!;
      const what = `header ${JSON.stringify(headers)}`;
      assert422(await server.api('POST', '/api/v1/app/fixture/endpoint', { url: receiver.url('/x'), headers }), `create with ${what}`, ['body', 'headers', name]);
      assert422(await server.api('PUT', '/api/v1/app/fixture/endpoint/hook/headers', { headers }), `PUT ${what}`, ['body', 'headers', name]);
      assert422(await server.api('PATCH', '/api/v1/app/fixture/endpoint/hook/headers', { headers }), `PATCH ${what}`, ['body', 'headers', name]);
    }
    assert.equal(await snapshot(server), baseline);
  });

  it('a page limit outside 1..250 gets 422', async () => {
    const lists = [
      '/api/v1/app',
      '/api/v1/event-type',
      '/api/v1/app/fixture/endpoint',
      '/api/v1/app/fixture/msg',
      '/api/v1/app/fixture/attempt/endpoint/hook',
      `/api/v1/app/fixture/attempt/msg/${msgId}`,
      '/api/v1/app/fixture/endpoint/hook/msg',
      `/api/v1/app/fixture/msg/${msgId}/endpoint`,
    ];
    for (const path of lists) {
      assert.equal((await server.api('GET', `${path}?limit=250`)).status, 200, `${path} limit=250`);
      for (const limit of ['251', '1000', '0', '-1', 'abc', '10.5', '1e400']) {
        assert422(await server.api('GET', `${path}?limit=${limit}`), `${path} limit=${limit}`, ['query', 'limit']);
      }
    }
  });

  it('a payload over the default 1 MiB limit gets 413', async () => {
    const limit = 1024 * 1024;
    const head = '{"eventType":"fixture.event","payload":{"data":"';
    const tail = '"}}';
    const bodyOf = (size: number): string => head + 'x'.repeat(size - head.length - tail.length) + tail;
    for (const size of [limit + 1, 2 * limit, 8 * limit]) {
      assertError(await server.api('POST', '/api/v1/app/neighbour/msg', bodyOf(size)), 413, 'payload_too_large', `message of ${size} bytes`);
    }
    assertError(await server.api('POST', '/api/v1/app', { name: 'n'.repeat(limit) }), 413, 'payload_too_large', 'application');
    assertError(await server.api('POST', '/api/v1/event-type', { name: 'big.schema', description: 'x', schemas: { '1': { x: 'y'.repeat(limit) } } }), 413, 'payload_too_large', 'schema');
    assert.equal(await snapshot(server), baseline);

    const exact = await server.api('POST', '/api/v1/app/neighbour/msg', bodyOf(limit));
    assert.equal(exact.status, 202, 'a body of exactly the limit is accepted');
    baseline = await snapshot(server);
  });

  it('hostile input gets a 2xx or a 4xx, never a 5xx, and the server keeps answering', async () => {
    const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort();
    const ok = await server.api('POST', '/api/v1/app', { name: 'Hostile', uid: 'hostile' });
    assert.equal(ok.status, 201);
    const msg = '/api/v1/app/hostile/msg';
    const raw = (body: string): [string, string, string] => ['POST', msg, `{"eventType":"x.y","payload":${body}}`];
    const cases: [string, string, unknown?, Record<string, string>?][] = [
      // Deep nesting: parsed fine, refused before anything recurses over it.
      raw(nested(100_000)),
      raw(nested(100_000, '[', ']')),
      raw(nested(5_000)),
      raw(nested(200)),
      ['POST', '/api/v1/event-type', `{"name":"deep.schema","description":"x","schemas":{"1":${nested(50_000)}}}`],
      ['PUT', '/api/v1/app/hostile', `{"name":"x","metadata":${nested(10_000)}}`],
      // Far too many of something.
      ['POST', msg, { eventType: 'x.y', channels: Array.from({ length: 100_000 }, (_, i) => `c${i}`), payload: {} }],
      ['POST', msg, { eventType: 'x.y', tags: Array.from({ length: 10_000 }, (_, i) => `t${i}`), payload: {} }],
      ['POST', '/api/v1/app/hostile/endpoint', { url: receiver.url('/h'), channels: Array.from({ length: 10_000 }, (_, i) => `c${i}`) }],
      ['POST', '/api/v1/app/hostile/endpoint', { url: receiver.url('/h'), filterTypes: Array.from({ length: 50_000 }, (_, i) => `t${i}`) }],
      ['GET', `/api/v1/app/hostile/msg?${Array.from({ length: 1000 }, (_, i) => `event_types=e${i}`).join('&')}`],
      ['GET', `/api/v1/app/hostile/msg?event_types=${Array.from({ length: 5000 }, (_, i) => `e${i}`).join(',')}`],
      ['PUT', '/api/v1/app/fixture/endpoint/hook/headers', { headers: Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`x-h${i}`, 'v'])) }],
      // Numbers out of range, wrong types.
      raw('{"n":1e400}'),
      raw('{"n":-1e400,"m":123456789012345678901234567890}'),
      ['POST', '/api/v1/app', '{"name":"x","throttleRate":1e400}'],
      ['POST', '/api/v1/app', { name: 'x', throttleRate: -1 }],
      ['POST', '/api/v1/app', { name: 'x', throttleRate: 65536 }],
      ['POST', '/api/v1/app', { name: ['array'] }],
      ['POST', '/api/v1/app', { name: { object: true } }],
      ['POST', '/api/v1/app', { name: 'x', metadata: { k: 1 } }],
      ['POST', '/api/v1/app', { name: 'x', metadata: 'not an object' }],
      ['POST', '/api/v1/app/fixture/endpoint/hook/secret/rotate', '{"gracePeriodSeconds":1e400}'],
      ['POST', '/api/v1/app/fixture/endpoint/hook/secret/rotate', { key: 'not base64!' }],
      ['POST', '/api/v1/app/hostile/endpoint', { url: receiver.url('/h'), version: 1e308 }],
      ['POST', '/api/v1/app/fixture/endpoint/hook/recover', { since: 'yesterday' }],
      ['POST', '/api/v1/app/fixture/endpoint/hook/recover', { since: '2024-02-30T25:61:00Z' }],
      ['GET', '/api/v1/app/fixture/endpoint/hook/stats?since=garbage'],
      ['GET', '/api/v1/app/fixture/msg?before=%00&after=-1'],
      // Top-level JSON that is not an object.
      ['POST', '/api/v1/app', 'null'],
      ['POST', '/api/v1/app', '[]'],
      ['POST', '/api/v1/app', '"string"'],
      ['POST', '/api/v1/app', '12345'],
      ['POST', '/api/v1/app/fixture/msg', 'true'],
      // Prototype pollution attempts.
      raw('{"__proto__":{"polluted":"yes"}}'),
      raw('{"constructor":{"prototype":{"polluted":"yes"}}}'),
      raw('{"a":{"__proto__":{"polluted":"yes"}}}'),
      ['POST', '/api/v1/app', '{"name":"x","metadata":{"__proto__":{"polluted":"yes"}}}'],
      ['POST', '/api/v1/app', '{"name":"x","__proto__":{"polluted":"yes"}}'],
      ['PUT', '/api/v1/app/fixture/endpoint/hook/headers', '{"headers":{"__proto__":{"polluted":"yes"}}}'],
      ['PATCH', '/api/v1/app/fixture/endpoint/hook/headers', { headers: { constructor: 'x' }, deleteHeaders: ['__proto__', 'constructor', 'toString'] }],
      // Strange strings and ids.
      ['GET', '/api/v1/app/%00'],
      ['GET', '/api/v1/app/%E0%A4%A'],
      ['GET', `/api/v1/app/${'a'.repeat(5000)}`],
      ['GET', `/api/v1/app/hostile/msg/${'m'.repeat(300)}`],
      ['GET', '/api/v1/app?iterator=%00'],
      ['GET', `/api/v1/app?iterator=${'z'.repeat(513)}`],
      ['GET', '/api/v1/app?iterator=-&order=sideways'],
      ['GET', '/api/v1/app?with_content=maybe&limit=1&limit=2'],
      ['POST', '/api/v1/app', { name: 'x' }, { 'idempotency-key': 'k'.repeat(10_000) }],
      ['POST', '/api/v1/app', { name: 'x' }, { 'svix-req-id': 'r'.repeat(5_000) }],
      ['GET', '/api/v1/app', undefined, { authorization: `Bearer ${'x'.repeat(100_000)}` }],
    ];
    const results = await Promise.all(
      cases.map(async ([method, path, body, headers]) => ({ what: `${method} ${path.slice(0, 80)} ${String(typeof body === 'string' ? body : JSON.stringify(body) ?? '').slice(0, 60)}`, res: await server.api(method, path, body, headers) })),
    );
    for (const { what, res } of results) {
      assert.ok(res.status < 500, `${what}: got ${res.status} ${JSON.stringify(res.body)?.slice(0, 300)}`);
      assert.ok((res.status >= 200 && res.status < 300) || (res.status >= 400 && res.status < 500), `${what}: got ${res.status}`);
      if (res.status >= 400 && res.status !== 431) assertClientError(res, what);
    }
    assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), protoBefore, 'Object.prototype untouched');
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');

    // Accepted oddities come back exactly as sent.
    const odd = {
      nul: 'a\u0000b',
      emoji: '😀👍🏽',
      rtl: '\u202Eevil\u202C',
      combining: 'e\u0301',
      cjk: '漢字かな',
      control: '\u0001\u001f\u007f',
      loneSurrogate: '\ud800',
      proto: { constructorish: '__proto__' },
      big: Number.MAX_SAFE_INTEGER,
      neg: -0.5,
      nested: JSON.parse(nested(100)) as unknown,
    };
    const sent = await server.api('POST', msg, { eventType: 'x.y', eventId: 'odd-1', payload: odd });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    assert.deepEqual((await server.api('GET', `${msg}/odd-1`)).body.payload, JSON.parse(JSON.stringify(odd)));
    const app = await server.api('POST', '/api/v1/app', { name: 'nul\u0000name 😀', uid: 'odd-app', metadata: { 'k\u0000': 'v\u0000', '🔑': '\u202E' } });
    assert.equal(app.status, 201, JSON.stringify(app.body));
    const back = await server.api('GET', '/api/v1/app/odd-app');
    assert.equal(back.body.name, 'nul\u0000name 😀');
    assert.deepEqual(back.body.metadata, { 'k\u0000': 'v\u0000', '🔑': '\u202E' });
    // A uid of the full 256 characters is usable in paths.
    const longUid = 'u'.repeat(256);
    assert.equal((await server.api('POST', '/api/v1/app', { name: 'long', uid: longUid })).status, 201);
    assert.equal((await server.api('GET', `/api/v1/app/${longUid}`)).body.uid, longUid);

    assert.equal((await server.api('GET', '/api/v1/health')).status, 204);
    assert.equal((await server.api('GET', '/api/v1/health/ready')).status, 204);
    assert.equal((await server.api('GET', '/api/v1/app/fixture')).status, 200, 'the API still answers');
  });
});

describe('API errors: endpoint URLs on private addresses are refused without allowed networks', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer({ SWITCHBOARD_ALLOWED_NETWORKS: '' });
    assert.equal((await server.api('POST', '/api/v1/app', { name: 'Guarded', uid: 'guarded' })).status, 201);
    // A public address literal: accepted, and no lookup or connection is needed to check it.
    const ep = await server.api('POST', '/api/v1/app/guarded/endpoint', { url: 'https://93.184.215.14/hook', uid: 'public' });
    assert.equal(ep.status, 201, JSON.stringify(ep.body));
  });

  after(async () => {
    await server?.close();
  });

  it('refuses loopback, private, link-local, unique-local and metadata addresses with 422', async () => {
    const before = await snapshot(server);
    const urls = [
      'http://10.0.0.1/',
      'http://169.254.169.254/latest/meta-data/',
      'http://[::1]/',
      'http://127.0.0.1:8080/hook',
      'http://localhost/hook',
      'http://0x7f000001/',
      'http://2130706433/',
      'http://[::ffff:127.0.0.1]/',
      'http://[::ffff:a9fe:a9fe]/',
      'http://192.168.1.1/',
      'http://172.16.0.1/',
      'http://100.64.0.1/',
      'http://0.0.0.0/',
      'http://[fd00::1]/',
      'http://[fe80::1]/',
    ];
    for (const url of urls) {
      for (const [method, path] of [
        ['POST', '/api/v1/app/guarded/endpoint'],
        ['PUT', '/api/v1/app/guarded/endpoint/public'],
        ['PATCH', '/api/v1/app/guarded/endpoint/public'],
        ['PUT', '/api/v1/app/guarded/endpoint/new-by-put'],
      ] as const) {
        const res = await server.api(method, path, { url });
        assert422(res, `${method} ${path} ${url}`, ['body', 'url']);
        assert.equal(res.body.detail[0].type, 'value_error.url.address', `${url}: refused as an address`);
      }
    }
    assert.equal(await snapshot(server), before, 'no endpoint created or changed');
  });
});

describe('API errors: a configured payload limit', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer({ SWITCHBOARD_MAX_PAYLOAD_BYTES: '4096' });
    assert.equal((await server.api('POST', '/api/v1/app', { name: 'Small', uid: 'small' })).status, 201);
  });

  after(async () => {
    await server?.close();
  });

  it('refuses bodies over SWITCHBOARD_MAX_PAYLOAD_BYTES with 413 and accepts one at the limit', async () => {
    const head = '{"eventType":"x.y","payload":{"data":"';
    const tail = '"}}';
    const bodyOf = (size: number): string => head + 'x'.repeat(size - head.length - tail.length) + tail;
    const before = await snapshot(server);
    for (const size of [4097, 5000, 1024 * 1024]) {
      const res = await server.api('POST', '/api/v1/app/small/msg', bodyOf(size));
      assertError(res, 413, 'payload_too_large', `${size} bytes`);
      assert.match(res.body.detail, /4096/);
    }
    assert.equal(await snapshot(server), before, 'nothing was stored');
    assert.equal((await server.api('POST', '/api/v1/app/small/msg', bodyOf(4096))).status, 202);
    assert.equal((await server.api('GET', '/api/v1/app/small/msg')).body.data.length, 1);
  });
});
