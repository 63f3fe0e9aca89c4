/**
 * Retries, Retry-After, 410, abort and auto-disable, with time injected: the server runs
 * on a FakeClock that the test advances, so schedules of days take milliseconds.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Webhook } from 'standardwebhooks';
import { eventually, sleep } from '../helpers/eventually.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { Receiver } from '../helpers/receiver.js';
import { attemptsOf, startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

const DAY = 86_400_000;

describe('retries with an injected clock', () => {
  let clock: FakeClock;
  let server: TestServer;
  let rx: Receiver;
  let appId: string;

  before(async () => {
    clock = new FakeClock();
    rx = await new Receiver().start();
    server = await startServer(
      // Long enough that a loaded machine answers every request but the one left hanging in time.
      { SWITCHBOARD_RETRY_SCHEDULE: '5,300,3600', SWITCHBOARD_REQUEST_TIMEOUT_MS: '2000' },
      { clock, random: () => 0.5, sweepIntervalMs: 10 * DAY },
    );
    appId = (await server.api('POST', '/api/v1/app', { name: 'retries' })).body.id;
  });
  after(async () => {
    await server.close();
    await rx.close();
  });

  async function endpoint(path: string): Promise<{ id: string; secret: string }> {
    // Each endpoint listens to its own event type, so tests in this app do not see each other's messages.
    const ep = await server.api('POST', `/api/v1/app/${appId}/endpoint`, { url: rx.url(path), filterTypes: [typeFor(path)] });
    assert.equal(ep.status, 201);
    const s = await server.api('GET', `/api/v1/app/${appId}/endpoint/${ep.body.id}/secret`);
    return { id: ep.body.id, secret: s.body.key };
  }

  const typeFor = (path: string) => 'test' + path.replace(/\//g, '.');

  async function publish(path: string): Promise<string> {
    const eventType = typeFor(path);
    const r = await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType, payload: { n: Math.random() } });
    assert.equal(r.status, 202);
    return r.body.id;
  }

  /** Waits until the message has `n` recorded attempts and returns them, newest first. */
  const attemptsReach = (msgId: string, n: number) => attemptsOf(server, appId, msgId, n);

  async function destination(msgId: string, endpointId: string): Promise<any> {
    const list = (await server.api('GET', `/api/v1/app/${appId}/msg/${msgId}/endpoint`)).body.data as any[];
    return list.find((d) => d.id === endpointId);
  }

  it('retries a 500 on schedule with the same webhook-id, and each request verifies', async () => {
    rx.on('/flaky', (_r, res, n) => void res.writeHead(n === 1 ? 500 : 200).end(n === 1 ? 'boom' : 'ok'));
    const ep = await endpoint('/flaky');
    const msgId = await publish('/flaky');
    const [first] = await attemptsReach(msgId, 1);
    assert.equal(first.status, 2);
    assert.equal(first.responseStatusCode, 500);
    assert.equal(first.response, 'boom');
    const d = await destination(msgId, ep.id);
    assert.equal(d.statusText, 'pending');
    assert.equal(Date.parse(d.nextAttempt), clock.now() + 5000);

    clock.advance(4999);
    await sleep(100); // a window in which no retry may happen
    assert.equal(rx.at('/flaky').length, 1, 'not before the schedule says');
    clock.advance(1);
    const list = await attemptsReach(msgId, 2);
    assert.equal(list[0].status, 0);
    assert.equal(list[0].triggerType, 0);
    const got = rx.at('/flaky');
    assert.equal(got.length, 2);
    const wh = new Webhook(ep.secret);
    for (const r of got) {
      assert.equal(r.headers['webhook-id'], msgId);
      wh.verify(r.body, r.headers as Record<string, string>);
    }
    assert.equal((await destination(msgId, ep.id)).statusText, 'success');
  });

  it('counts a timeout as a failure and retries it', async () => {
    rx.on('/slow', (_r, res, n) => (n === 1 ? 'hang' : void res.writeHead(204).end()));
    await endpoint('/slow');
    const msgId = await publish('/slow');
    const [first] = await attemptsReach(msgId, 1);
    assert.equal(first.responseStatusCode, 0);
    assert.match(first.response, /timeout/);
    clock.advance(5000);
    const list = await attemptsReach(msgId, 2);
    assert.equal(list[0].responseStatusCode, 204);
  });

  it('honours Retry-After on 429 instead of the schedule', async () => {
    rx.on('/busy', (_r, res, n) => void (n === 1 ? res.writeHead(429, { 'retry-after': '120' }).end() : res.writeHead(200).end()));
    const ep = await endpoint('/busy');
    const msgId = await publish('/busy');
    await attemptsReach(msgId, 1);
    assert.equal(Date.parse((await destination(msgId, ep.id)).nextAttempt), clock.now() + 120_000);
    clock.advance(119_999);
    await sleep(100); // a window in which no retry may happen
    assert.equal(rx.at('/busy').length, 1);
    clock.advance(1);
    await attemptsReach(msgId, 2);
    assert.equal(rx.at('/busy').length, 2);
  });

  it('disables the endpoint on 410 Gone and stops retrying', async () => {
    rx.on('/gone', (_r, res) => void res.writeHead(410).end());
    const ep = await endpoint('/gone');
    const msgId = await publish('/gone');
    await attemptsReach(msgId, 1);
    const got = await eventually(async () => {
      const e = await server.api('GET', `/api/v1/app/${appId}/endpoint/${ep.id}`);
      return e.body.disabled ? e.body : null;
    }, 'endpoint disabled');
    assert.equal(got.disabled, true);
    assert.equal((await destination(msgId, ep.id)).statusText, 'fail');
    clock.advance(DAY);
    await publish('/gone');
    await sleep(150); // a window in which no delivery may happen
    assert.equal(rx.at('/gone').length, 1, 'a disabled endpoint receives nothing');
  });

  it('stops retrying a message when the receiver answers webhook-delivery: abort-message', async () => {
    rx.on('/abort', (_r, res) => void res.writeHead(500, { 'webhook-delivery': 'abort-message' }).end());
    const ep = await endpoint('/abort');
    const msgId = await publish('/abort');
    await attemptsReach(msgId, 1);
    await eventually(async () => (await destination(msgId, ep.id)).statusText === 'fail', 'delivery failed');
    clock.advance(DAY);
    await sleep(150); // a window in which no retry may happen
    assert.equal(rx.at('/abort').length, 1);
    const e = await server.api('GET', `/api/v1/app/${appId}/endpoint/${ep.id}`);
    assert.equal(e.body.disabled, false, 'abort stops the message, not the endpoint');
  });

  it('gives up after the last scheduled retry; recover sends it again', async () => {
    let healthy = false;
    rx.on('/down', (_r, res) => void res.writeHead(healthy ? 200 : 503).end());
    const ep = await endpoint('/down');
    const since = new Date(clock.now() - 1000).toISOString();
    const msgId = await publish('/down');
    await attemptsReach(msgId, 1);
    for (const [i, step] of [5_000, 300_000, 3_600_000].entries()) {
      clock.advance(step);
      await attemptsReach(msgId, i + 2);
    }
    await eventually(async () => (await destination(msgId, ep.id)).statusText === 'fail', 'delivery failed for good');
    clock.advance(DAY);
    await sleep(100); // a window in which no retry may happen
    assert.equal(rx.at('/down').length, 4, 'one attempt and three retries');
    healthy = true;
    const rec = await server.api('POST', `/api/v1/app/${appId}/endpoint/${ep.id}/recover`, { since });
    assert.equal(rec.status, 202);
    const list = await attemptsReach(msgId, 5);
    assert.equal(list[0].status, 0);
    assert.equal(list[0].triggerType, 1, 'a recovered attempt is manual');
  });

  it('disables an endpoint that has failed every attempt for five days', async () => {
    const local = new FakeClock();
    const rx2 = await new Receiver().start();
    const s2 = await startServer({ SWITCHBOARD_RETRY_SCHEDULE: '86400,86400,86400,86400,86400,86400,86400' }, { clock: local, random: () => 0.5, sweepIntervalMs: 100 * DAY });
    try {
      rx2.on('/always-fails', (_r, res) => void res.writeHead(500).end());
      const app = (await s2.api('POST', '/api/v1/app', { name: 'dying' })).body.id;
      const ep = (await s2.api('POST', `/api/v1/app/${app}/endpoint`, { url: rx2.url('/always-fails') })).body.id;
      const msg = (await s2.api('POST', `/api/v1/app/${app}/msg`, { eventType: 'x', payload: {} })).body.id;
      const count = async () => ((await s2.api('GET', `/api/v1/app/${app}/attempt/msg/${msg}`)).body.data as unknown[]).length;
      await eventually(async () => (await count()) === 1, 'first attempt');
      for (let day = 1; day <= 4; day++) {
        local.advance(DAY);
        await eventually(async () => (await count()) === day + 1, `attempt on day ${day}`);
        assert.equal((await s2.api('GET', `/api/v1/app/${app}/endpoint/${ep}`)).body.disabled, false, `still enabled on day ${day}`);
      }
      local.advance(DAY);
      await eventually(async () => (await s2.api('GET', `/api/v1/app/${app}/endpoint/${ep}`)).body.disabled === true, 'disabled after five days');
      local.advance(3 * DAY);
      await sleep(100); // a window in which no attempt may happen
      assert.equal(await count(), 6, 'no attempts after it was disabled');
    } finally {
      await s2.close();
      await rx2.close();
    }
  });
});
