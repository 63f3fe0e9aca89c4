/**
 * Endpoint transformations end to end: a real server, real deliveries to a loopback
 * receiver, signatures checked with `standardwebhooks`, the `svix` SDK for the compatible
 * routes. Transformations that modify, cancel, throw, loop, allocate without bound, reach for
 * the host (`require`, `process`, `fetch`, `eval`) or return garbage fail only their own
 * attempt, with the reason recorded; simulate runs code on an example; filters and
 * transformations apply to ingest sources' endpoints too.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Svix } from 'svix';
import { Webhook } from 'standardwebhooks';
import { TransformService } from '../../src/engine/transformations/transformer.js';
import type { Endpoint } from '../../src/domain/model.js';
import { eventually, sleep } from '../helpers/eventually.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { endpoint as fixtureEndpoint } from '../helpers/fixtures.js';
import { Receiver } from '../helpers/receiver.js';
import { attemptsOf, startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

describe('endpoint transformations', () => {
  let server: TestServer;
  let rx: Receiver;
  let appId: string;
  let svix: Svix;
  let n = 0;

  before(async () => {
    rx = await new Receiver().start();
    // A generous limit: the machine running the tests may be busy; the loop test still hits it.
    server = await startServer({ SWITCHBOARD_TRANSFORMATION_TIMEOUT_MS: '500', SWITCHBOARD_RETRY_SCHEDULE: '3600' });
    svix = new Svix(server.token, { serverUrl: server.url, retryScheduleInMs: [] });
    appId = (await server.api('POST', '/api/v1/app', { name: 'transformations' })).body.id;
  });
  after(async () => {
    await server.close();
    await rx.close();
  });

  /** An endpoint of its own event type with `code` enabled; returns its id, secret and type. */
  async function transformed(path: string, code: string | null, variables?: Record<string, string>): Promise<{ id: string; secret: string; eventType: string }> {
    const eventType = `t${++n}.happened`;
    const ep = await server.api('POST', `/api/v1/app/${appId}/endpoint`, { url: rx.url(path), filterTypes: [eventType] });
    assert.equal(ep.status, 201);
    if (code !== null) {
      const r = await server.api('PATCH', `/api/v1/app/${appId}/endpoint/${ep.body.id}/transformation`, { code, enabled: true, variables });
      assert.equal(r.status, 204, JSON.stringify(r.body));
    }
    const secret = (await server.api('GET', `/api/v1/app/${appId}/endpoint/${ep.body.id}/secret`)).body.key as string;
    return { id: ep.body.id, secret, eventType };
  }

  async function publish(eventType: string, payload: unknown): Promise<string> {
    const r = await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType, payload });
    assert.equal(r.status, 202);
    return r.body.id;
  }

  async function firstAttempt(msgId: string): Promise<any> {
    return (await attemptsOf(server, appId, msgId))[0];
  }

  it('get and patch through the svix SDK; code is checked when saved', async () => {
    const ep = await transformed('/sdk', null);
    const empty = await svix.endpoint.transformationGet(appId, ep.id);
    assert.equal(empty.enabled, false);
    assert.equal(empty.code ?? null, null);
    const code = 'function handler(webhook) { return webhook }';
    await svix.endpoint.patchTransformation(appId, ep.id, { code, enabled: true });
    const got = await svix.endpoint.transformationGet(appId, ep.id);
    assert.equal(got.code, code);
    assert.equal(got.enabled, true);
    assert.ok(got.updatedAt instanceof Date);

    const syntax = await server.api('PATCH', `/api/v1/app/${appId}/endpoint/${ep.id}/transformation`, { code: 'function handler(w) { return w' });
    assert.equal(syntax.status, 422);
    assert.deepEqual(syntax.body.detail[0].loc, ['body', 'code']);
    assert.match(syntax.body.detail[0].msg, /SyntaxError/);
    const noHandler = await server.api('PATCH', `/api/v1/app/${appId}/endpoint/${ep.id}/transformation`, { code: 'const x = 1; // nothing' });
    assert.equal(noHandler.status, 422);
    assert.match(noHandler.body.detail[0].msg, /function named handler/);
    assert.equal((await svix.endpoint.transformationGet(appId, ep.id)).code, code, 'refused code is not saved');
  });

  it('modifies payload, method, url and headers; the transformed body is what is signed', async () => {
    const code = `function handler(webhook) {
      const p = webhook.payload;
      console.log('reshaping', p.order.id);
      webhook.payload = { text: 'Order ' + p.order.id + ' for ' + p.order.total + ' ' + variables.currency, channel: variables.channel };
      webhook.method = 'PUT';
      webhook.url = webhook.url + '/slack';
      webhook.headers = { 'X-Routed-By': 'switchboard' };
      return webhook;
    }`;
    const ep = await transformed('/shape', code, { currency: 'EUR', channel: '#orders' });
    const msgId = await publish(ep.eventType, { order: { id: 'o_9', total: 42 } });
    await eventually(() => rx.at('/shape/slack').length === 1, 'the transformed delivery');
    const r = rx.at('/shape/slack')[0]!;
    assert.deepEqual(JSON.parse(r.body), { text: 'Order o_9 for 42 EUR', channel: '#orders' });
    assert.equal(r.headers['x-routed-by'], 'switchboard');
    assert.equal(rx.at('/shape').length, 0);
    new Webhook(ep.secret).verify(r.body, { 'webhook-id': r.headers['webhook-id'] as string, 'webhook-timestamp': r.headers['webhook-timestamp'] as string, 'webhook-signature': r.headers['webhook-signature'] as string });
    const a = await firstAttempt(msgId);
    assert.equal(a.status, 0);
    assert.equal(a.url, rx.url('/shape/slack'), 'the attempt records the URL actually used');
  });

  it('a PUT or PATCH method reaches the receiver', async () => {
    const seen: string[] = [];
    rx.on('/method', (req, res) => {
      seen.push(JSON.parse(req.body).m as string);
      res.writeHead(200).end();
    });
    // The receiver helper does not expose the method, so the code reports the one it set.
    const ep = await transformed('/method', 'function handler(w) { w.method = "patch"; w.payload = { m: w.method }; return w }');
    await publish(ep.eventType, {});
    await eventually(() => seen.length === 1, 'the PATCH');
    assert.deepEqual(seen, ['patch']);
  });

  it('cancel ends the delivery without sending, recorded as such', async () => {
    const ep = await transformed('/cancel', 'function handler(w) { if (w.payload.skip) w.cancel = true; return w }');
    const skipped = await publish(ep.eventType, { skip: true });
    const sent = await publish(ep.eventType, { skip: false });
    await eventually(() => rx.at('/cancel').length === 1, 'the one not canceled');
    assert.equal(rx.at('/cancel')[0]!.headers['webhook-id'], sent);
    const a = await firstAttempt(skipped);
    assert.equal(a.responseStatusCode, 0);
    assert.match(a.response, /canceled by the endpoint transformation/);
    const dest = await server.api('GET', `/api/v1/app/${appId}/msg/${skipped}/endpoint`);
    assert.equal(dest.body.data[0].statusText, 'success', 'a cancel is final: no retry');
  });

  const failures: [string, string, RegExp][] = [
    ['throws', 'function handler(w) { throw new TypeError("boom") }', /transformation threw TypeError: boom \(line 1\)/],
    ['loops forever', 'function handler(w) { while (true) {} }', /time limit of 500 ms/],
    ['allocates huge memory', 'function handler(w) { return "x".repeat(1e9) }', /memory limit of 32 MiB/],
    ['uses require', 'function handler(w) { return require("fs") }', /ReferenceError: 'require' is not defined/],
    ['uses process', 'function handler(w) { process.exit(1) }', /ReferenceError: 'process' is not defined/],
    ['uses fetch', 'function handler(w) { fetch("http://127.0.0.1/"); return w }', /ReferenceError: 'fetch' is not defined/],
    ['recurses without end', 'function handler(w) { function f() { return f() + 1 } return f() }', /stack overflow/],
    ['returns nothing', 'function handler(w) { }', /handler must return the webhook object, not undefined/],
    ['returns a bad method', 'function handler(w) { w.method = "DELETE"; return w }', /method must be/],
    ['returns a bad url', 'function handler(w) { w.url = "ftp://example.com/"; return w }', /url must use http or https/],
    ['sets a signature header', 'function handler(w) { w.headers = { "webhook-signature": "forged" }; return w }', /cannot be overridden/],
    ['drops the payload', 'function handler(w) { delete w.payload; return w }', /payload is missing/],
    ['is async', 'async function handler(w) { return w }', /payload is missing/],
  ];
  for (const [what, code, reason] of failures) {
    it(`a transformation that ${what} fails its attempt with the reason`, async () => {
      const ep = await transformed(`/fail-${what.replace(/\W+/g, '-')}`, code);
      const msgId = await publish(ep.eventType, { a: 1 });
      const a = await firstAttempt(msgId);
      assert.equal(a.status, 2);
      assert.equal(a.responseStatusCode, 0);
      assert.match(a.response, reason);
      // Failed like any attempt: retried on the schedule.
      const dest = await server.api('GET', `/api/v1/app/${appId}/msg/${msgId}/endpoint`);
      assert.equal(dest.body.data[0].statusText, 'pending');
    });
  }

  it('nothing of the host is reachable: globals, eval and the Function constructor see only JavaScript', async () => {
    const code = `function handler(w) {
      const names = Object.getOwnPropertyNames(globalThis);
      w.payload = {
        kinds: [typeof require, typeof process, typeof fetch, typeof setTimeout, typeof setImmediate, typeof queueMicrotask, typeof Buffer, typeof module, typeof globalThis.std, typeof globalThis.os],
        viaEval: eval('typeof process + typeof require'),
        viaFunction: Function('return typeof process + typeof globalThis.fetch')(),
        viaConstructor: (() => {}).constructor('return this')() === globalThis,
        hostish: names.filter((n) => ['process', 'require', 'fetch', 'Buffer', 'std', 'os', 'setTimeout', 'WebAssembly', 'module', 'global', 'XMLHttpRequest'].includes(n)),
      };
      return w;
    }`;
    const ep = await transformed('/host', code);
    await publish(ep.eventType, {});
    await eventually(() => rx.at('/host').length === 1, 'the report');
    const p = JSON.parse(rx.at('/host')[0]!.body);
    assert.deepEqual(p.kinds, Array(10).fill('undefined'));
    assert.equal(p.viaEval, 'undefinedundefined');
    assert.equal(p.viaFunction, 'undefinedundefined');
    assert.equal(p.viaConstructor, true, 'the sandbox global, not the host one');
    assert.deepEqual(p.hostish, []);
  });

  it('a runaway transformation fails its own attempt while other deliveries go on', async () => {
    const bad = await transformed('/runaway', 'function handler(w) { const a = []; for (;;) a.push("x".repeat(1 << 20) + a.length) }');
    const good = await transformed('/healthy', null);
    const badMsg = await publish(bad.eventType, {});
    await publish(good.eventType, { ok: true });
    await eventually(() => rx.at('/healthy').length === 1, 'the healthy delivery');
    const a = await firstAttempt(badMsg);
    assert.match(a.response, /(memory|time) limit/);
    // The API stays responsive throughout.
    assert.equal((await server.api('GET', '/api/v1/health')).status < 300, true);
  });

  it('compiles each endpoint\u2019s code once and keeps it while it is unchanged', async () => {
    // A module-level counter survives between runs only if the compiled code is reused.
    const ep = await transformed('/cache', 'let runs = 0; function handler(w) { w.payload.run = ++runs; return w }');
    for (let i = 0; i < 4; i++) await publish(ep.eventType, { i });
    await eventually(() => rx.at('/cache').length === 4, 'four deliveries');
    assert.deepEqual(rx.at('/cache').map((r) => JSON.parse(r.body).run).sort(), [1, 2, 3, 4]);
    // New code is compiled afresh.
    await server.api('PATCH', `/api/v1/app/${appId}/endpoint/${ep.id}/transformation`, { code: 'let runs = 100; function handler(w) { w.payload.run = ++runs; return w }' });
    await publish(ep.eventType, { i: 5 });
    await eventually(() => rx.at('/cache').length === 5, 'the fifth delivery');
    assert.equal(JSON.parse(rx.at('/cache')[4]!.body).run, 101);
  });

  it('disabled code does not run; a URL aimed at a refused address fails at connect time', async () => {
    const ep = await transformed('/toggle', 'function handler(w) { w.payload = { changed: true }; return w }');
    await server.api('PATCH', `/api/v1/app/${appId}/endpoint/${ep.id}/transformation`, { enabled: false });
    await publish(ep.eventType, { original: true });
    await eventually(() => rx.at('/toggle').length === 1, 'the untransformed delivery');
    assert.deepEqual(JSON.parse(rx.at('/toggle')[0]!.body), { original: true });

    const ssrf = await transformed('/ssrf', 'function handler(w) { w.url = "http://169.254.169.254/latest/meta-data"; return w }');
    const msgId = await publish(ssrf.eventType, {});
    const a = await firstAttempt(msgId);
    assert.equal(a.responseStatusCode, 0);
    assert.match(a.response, /not allowed/);
  });

  it('simulate runs code on an example without sending or saving anything', async () => {
    const ep = await transformed('/simulate', null);
    const base = `/api/v1/app/${appId}/endpoint/${ep.id}/transformation/simulate`;
    const ok = await server.api('POST', base, {
      code: 'function handler(w) { w.payload = { hi: w.payload.name, v: variables.k }; w.method = "PUT"; return w }',
      eventType: 'user.signup',
      payload: { name: 'ann' },
      variables: { k: 'x' },
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(ok.body, { url: rx.url('/simulate'), method: 'PUT', payload: '{"hi":"ann","v":"x"}', cancel: false, eventType: 'user.signup', headers: null });
    const cancel = await server.api('POST', base, { code: 'function handler(w) { w.cancel = true; return w }', eventType: 'user.signup', payload: {} });
    assert.equal(cancel.body.cancel, true);
    const boom = await server.api('POST', base, { code: 'function handler(w) { while (true) {} }', eventType: 'user.signup', payload: {} });
    assert.equal(boom.status, 400);
    assert.equal(boom.body.code, 'transformation_failed');
    assert.match(boom.body.detail, /time limit/);
    assert.equal(rx.at('/simulate').length, 0);
    assert.equal((await server.api('GET', `/api/v1/app/${appId}/endpoint/${ep.id}/transformation`)).body.code, null);
  });
});

describe('filters and transformations on ingest endpoints', () => {
  let server: TestServer;
  let rx: Receiver;

  before(async () => {
    rx = await new Receiver().start();
    server = await startServer({ SWITCHBOARD_TRANSFORMATION_TIMEOUT_MS: '500' });
  });
  after(async () => {
    await server.close();
    await rx.close();
  });

  it('a source forwards through a header filter and a transformation', async () => {
    const src = await server.api('POST', '/ingest/api/v1/source', { name: 'hooks', type: 'bearer', config: { token: 'tkn' } });
    assert.equal(src.status, 201, JSON.stringify(src.body));
    const ep = await server.api('POST', `/ingest/api/v1/source/${src.body.id}/endpoint`, {
      url: rx.url('/ingested'),
      filter: { 'headers.x-event-kind': { $in: ['push', 'release'] }, 'payload.repo.private': { $ne: true } },
    });
    assert.equal(ep.status, 201, JSON.stringify(ep.body));
    const bad = await server.api('POST', `/ingest/api/v1/source/${src.body.id}/endpoint`, { url: rx.url('/x'), filter: { 'headers.x': { $regex: '(.*a){12}' } } });
    assert.equal(bad.status, 422);
    const patch = await server.api('PATCH', `/ingest/api/v1/source/${src.body.id}/endpoint/${ep.body.id}/transformation`, {
      code: 'function handler(w) { w.payload = { summary: w.payload.repo.name + " was " + w.payload.action }; return w }',
      enabled: true,
    });
    assert.equal(patch.status, 204, JSON.stringify(patch.body));
    const got = await server.api('GET', `/ingest/api/v1/source/${src.body.id}/endpoint/${ep.body.id}/transformation`);
    assert.equal(got.body.enabled, true);

    const send = (kind: string, body: unknown) =>
      fetch(src.body.ingestUrl, { method: 'POST', headers: { authorization: 'Bearer tkn', 'content-type': 'application/json', 'X-Event-Kind': kind }, body: JSON.stringify(body) });
    assert.equal((await send('push', { action: 'pushed', repo: { name: 'sb', private: false } })).status, 200);
    assert.equal((await send('star', { action: 'starred', repo: { name: 'sb', private: false } })).status, 200);
    assert.equal((await send('release', { action: 'released', repo: { name: 'secret', private: true } })).status, 200);
    assert.equal((await send('release', { action: 'released', repo: { name: 'sb', private: false } })).status, 200);
    await eventually(() => rx.at('/ingested').length === 2, 'two forwarded requests');
    await sleep(300); // a window in which the filtered-out requests may not arrive
    assert.deepEqual(rx.at('/ingested').map((r) => JSON.parse(r.body)).sort((a, b) => (a.summary < b.summary ? -1 : 1)), [{ summary: 'sb was pushed' }, { summary: 'sb was released' }]);
  });
});

describe('the transformation service', () => {
  const endpoint = (code: string): Endpoint =>
    fixtureEndpoint('app_x', { id: 'ep_suspend', url: 'http://127.0.0.1:1/', secrets: [], transformation: { code, enabled: true, variables: null, updatedAt: 0 }, createdAt: 0, updatedAt: 0 });
  const message = { id: 'msg_1', appId: 'app_x', eventType: 'a.b', eventId: null, channels: null, tags: null, payload: '{"n":1}', createdAt: 0 };

  it('suspends code that keeps hitting its limits for a minute, and lifts that on new code', async () => {
    const clock = new FakeClock(1_000_000);
    const svc = new TransformService({ timeoutMs: 200, memoryBytes: 32 * 1024 * 1024, cacheSize: 4, maxPayloadBytes: 1024 }, clock);
    try {
      const looping = endpoint('function handler(w) { for (;;) {} }');
      for (let i = 0; i < 3; i++) assert.match(((await svc.transform(looping, message)) as { reason: string }).reason, /time limit/);
      const r = await svc.transform(looping, message);
      assert.equal(r.kind, 'error');
      assert.match((r as { reason: string }).reason, /suspended until/);
      clock.advance(61_000);
      assert.match(((await svc.transform(looping, message)) as { reason: string }).reason, /time limit/, 'runs again after the pause');
      svc.forget(looping.id);
      const fixed = endpoint('function handler(w) { w.payload.n++; return w }');
      assert.deepEqual(await svc.transform(fixed, message), { kind: 'send', method: 'POST', url: 'http://127.0.0.1:1/', eventType: 'a.b', body: '{"n":2}', headers: null });
      const big = endpoint('function handler(w) { w.payload = "x".repeat(2000); return w }');
      assert.match(((await svc.transform({ ...big, id: 'ep_big' }, message)) as { reason: string }).reason, /larger than 1024 bytes/);
    } finally {
      await svc.close();
    }
  });
});
