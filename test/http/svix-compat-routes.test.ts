/**
 * The compatible API's routes beyond the core, through the official `svix` SDK (raw HTTP
 * where the SDK has no method) against a real server: health ping, bulk replay, message
 * precheck, expunge of all contents, the usage statistics and aggregations, dashboard
 * access, attempts with their message embedded, and paths with a trailing slash; with the
 * access rules (admin-only, app-scoped, read-only portal tokens) and clear 4xx answers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BackgroundTaskStatus, BackgroundTaskType, MessageStatus, Svix } from 'svix';
import { newId } from '../../src/domain/ids.js';
import { eventually } from '../helpers/eventually.js';
import { Receiver } from '../helpers/receiver.js';
import { createKey, portalToken } from '../helpers/security.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { apiError, sdkClient } from '../helpers/svix-sdk.js';


describe('compatible routes with the svix SDK', () => {
  let server: TestServer;
  let rx: Receiver;
  let svix: Svix;
  let appId: string;
  let otherAppId: string;
  let epId: string;
  const msgIds: string[] = [];
  let since: Date;

  const ended = (id: string) =>
    eventually(async () => {
      const t = await svix.backgroundTask.get(id);
      return t.status === BackgroundTaskStatus.Running ? null : t;
    }, `task ${id} to end`);
  const arrivals = (id: string) => rx.at('/hook').filter((r) => r.headers['webhook-id'] === id).length;

  before(async () => {
    rx = await new Receiver().start();
    rx.on('/hook', (_r, res) => void res.writeHead(200).end());
    server = await startServer();
    svix = sdkClient(server.url, server.token);
    since = new Date(Date.now() - 1000);
    appId = (await svix.application.create({ name: 'Compat' })).id;
    otherAppId = (await svix.application.create({ name: 'Other' })).id;
    epId = (await svix.endpoint.create(appId, { url: rx.url('/hook'), filterTypes: ['order.created', 'order.paid'] })).id;
    for (const [eventType, tag] of [['order.created', 'a'], ['order.paid', 'b'], ['order.paid', 'a']] as const) {
      msgIds.push((await svix.message.create(appId, { eventType, payload: { eventType }, tags: [tag] })).id);
    }
    await eventually(() => msgIds.every((id) => arrivals(id) === 1), 'first deliveries');
    await server.sb.dispatcher.idle();
  });
  after(async () => {
    await server?.close();
    await rx?.close();
  });

  it('health ping answers 204 to GET and HEAD, without a token', async () => {
    for (const method of ['GET', 'HEAD']) {
      const r = await fetch(server.url + '/api/v1/health/ping', { method });
      assert.equal(r.status, 204, method);
    }
  });

  it('bulk replay sends again the messages its filters choose, as a task', async () => {
    const t = await svix.endpoint.bulkReplay(appId, epId, { since, eventTypes: ['order.paid'], tag: 'a', status: MessageStatus.Success });
    assert.equal(t.task, BackgroundTaskType.EndpointBulkReplay);
    assert.equal(t.status, BackgroundTaskStatus.Running);
    const done = await ended(t.id);
    assert.equal(done.status, BackgroundTaskStatus.Finished);
    assert.deepEqual(done.data, { replayed: 1 });
    await eventually(() => arrivals(msgIds[2]!) === 2, 'the chosen message again');
    await server.sb.dispatcher.idle();
    assert.equal(arrivals(msgIds[0]!), 1, 'another event type is not replayed');
    assert.equal(arrivals(msgIds[1]!), 1, 'another tag is not replayed');

    const all = await ended((await svix.endpoint.bulkReplay(appId, epId, { since })).id);
    assert.deepEqual(all.data, { replayed: 3 });

    await assert.rejects(svix.endpoint.bulkReplay(appId, newId('endpoint'), { since }), apiError(404));
    const bad = await server.api('POST', `/api/v1/app/${appId}/endpoint/${epId}/bulk-replay`, { since: 'soon' });
    assert.equal(bad.status, 422);
    const badStatus = await server.api('POST', `/api/v1/app/${appId}/endpoint/${epId}/bulk-replay`, { since: since.toISOString(), status: 7 });
    assert.equal(badStatus.status, 422);
  });

  it('bulk replay by status code class sends again only the messages with an attempt answered in that class', async () => {
    // An endpoint of its own (removed at the end): one message answered 500 at first, one 404 at first, one 200.
    const path = '/classes';
    const kinds = new Map<string, string>();
    rx.on(path, (r, res) => {
      const kind = (JSON.parse(r.body) as { kind: string }).kind;
      const id = String(r.headers['webhook-id']);
      const first = !kinds.has(id);
      kinds.set(id, kind);
      res.writeHead(first && kind === 'five' ? 500 : first && kind === 'four' ? 404 : 200).end();
    });
    const ep = (await svix.endpoint.create(appId, { url: rx.url(path), filterTypes: ['order.classed'] })).id;
    const at = (id: string) => rx.at(path).filter((r) => r.headers['webhook-id'] === id).length;
    const ids: Record<string, string> = {};
    for (const kind of ['five', 'four', 'ok']) ids[kind] = (await svix.message.create(appId, { eventType: 'order.classed', payload: { kind } })).id;
    // The failed ones are retried (and answered 200) after the first retry interval; then nothing is pending.
    await eventually(() => at(ids.five!) === 2 && at(ids.four!) === 2 && at(ids.ok!) === 1, 'first deliveries and the retries of the failed ones', { timeoutMs: 30_000 });
    await server.sb.dispatcher.idle();

    const byClass = async (statusCodeClass: number, expected: Record<string, number>, replayed: number) => {
      const before = Object.fromEntries(Object.entries(ids).map(([k, id]) => [k, at(id)]));
      const t = await ended((await svix.endpoint.bulkReplay(appId, ep, { since, statusCodeClass })).id);
      assert.deepEqual(t.data, { replayed }, `class ${statusCodeClass}`);
      await eventually(() => Object.entries(expected).every(([k, n]) => at(ids[k]!) === before[k]! + n), `the replays of class ${statusCodeClass}`);
      await server.sb.dispatcher.idle();
      assert.deepEqual(Object.fromEntries(Object.entries(ids).map(([k, id]) => [k, at(id) - before[k]!])), expected, `class ${statusCodeClass}: what arrived again`);
    };
    await byClass(500, { five: 1, four: 0, ok: 0 }, 1);
    await byClass(400, { five: 0, four: 1, ok: 0 }, 1);
    await byClass(200, { five: 1, four: 1, ok: 1 }, 3);
    await byClass(300, { five: 0, four: 0, ok: 0 }, 0);
    await svix.endpoint.delete(appId, ep);
  });

  it('precheck tells whether an enabled endpoint wants the message', async () => {
    assert.deepEqual(await svix.message.precheck(appId, { eventType: 'order.paid' }), { active: true });
    assert.deepEqual(await svix.message.precheck(appId, { eventType: 'user.created' }), { active: false });
    assert.deepEqual(await svix.message.precheck(otherAppId, { eventType: 'order.paid' }), { active: false });
    const chan = await svix.endpoint.create(otherAppId, { url: rx.url('/other'), channels: ['eu'], disabled: true });
    assert.deepEqual(await svix.message.precheck(otherAppId, { eventType: 'x', channels: ['eu'] }), { active: false }, 'disabled');
    await svix.endpoint.patch(otherAppId, chan.id, { disabled: false });
    await eventually(async () => (await svix.message.precheck(otherAppId, { eventType: 'x', channels: ['eu'] })).active, 'the enabled endpoint');
    assert.deepEqual(await svix.message.precheck(otherAppId, { eventType: 'x', channels: ['us'] }), { active: false }, 'another channel');
    await assert.rejects(svix.message.precheck(newId('application'), { eventType: 'x' }), apiError(404));
  });

  it('attempts of an endpoint embed their message with withMsg', async () => {
    const plain = await svix.messageAttempt.listByEndpoint(appId, epId);
    assert.ok(plain.data.length > 0 && plain.data.every((a) => a.msg === undefined || a.msg === null));
    const withMsg = await svix.messageAttempt.listByEndpoint(appId, epId, { withMsg: true });
    assert.equal(withMsg.data.length, plain.data.length);
    for (const a of withMsg.data) {
      assert.equal(a.msg?.id, a.msgId);
      assert.ok(a.msg?.eventType.startsWith('order.'));
      assert.deepEqual(a.msg?.payload, { eventType: a.msg?.eventType });
    }
  });

  it('answers paths with a trailing slash as without it', async () => {
    const a = await server.api('GET', '/api/v1/app/');
    const b = await server.api('GET', '/api/v1/app');
    assert.equal(a.status, 200);
    assert.deepEqual(a.body.data.map((x: any) => x.id), b.body.data.map((x: any) => x.id));
    const m = await server.api('GET', `/api/v1/app/${appId}/msg/?limit=2`);
    assert.equal(m.status, 200);
    assert.equal(m.body.data.length, 2, 'the query string is kept');
    const created = await server.api('POST', `/api/v1/app/${otherAppId}/msg/`, { eventType: 'x', payload: {} });
    assert.equal(created.status, 202);
    const ui = await fetch(server.url + '/ui', { redirect: 'manual' });
    assert.equal(ui.status, 302, 'the dashboard keeps its own slash rule');
  });

  it('counts active applications and endpoints, and an application\'s attempts per period', async () => {
    const count = await server.api('GET', '/api/v1/app/stats/count-active');
    assert.equal(count.status, 200);
    assert.deepEqual(count.body, { count: 2 });
    await svix.application.create({ name: 'No endpoints' });
    assert.deepEqual((await server.api('GET', '/api/v1/app/stats/count-active')).body, { count: 2 });
    const off = await svix.endpoint.create(appId, { url: rx.url('/off'), disabled: true });
    assert.deepEqual((await server.api('GET', '/api/v1/stats/endpoint/count')).body, { active: 2, disabled: 1 });
    await svix.endpoint.delete(appId, off.id);

    const end = new Date(Date.now() + 60_000);
    const start = new Date(end.getTime() - 2 * 3600_000);
    const stats = await server.api('GET', `/api/v1/stats/app/${appId}/attempt?startDate=${start.toISOString()}&endDate=${end.toISOString()}&period=OneHour`);
    assert.equal(stats.status, 200);
    assert.equal(stats.body.period, 'OneHour');
    const success = (stats.body.data.successCount as number[]).reduce((x, y) => x + y, 0);
    assert.ok(success >= 3, `successes counted: ${success}`);
    assert.equal((stats.body.data.failureCount as number[]).reduce((x, y) => x + y, 0), 0);
    const reversed = await server.api('GET', `/api/v1/stats/app/${appId}/attempt?startDate=${end.toISOString()}&endDate=${start.toISOString()}`);
    assert.equal(reversed.status, 422);
    const tooMany = await server.api('GET', `/api/v1/stats/app/${appId}/attempt?startDate=2020-01-01T00:00:00Z&endDate=${end.toISOString()}&period=FiveMinutes`);
    assert.equal(tooMany.status, 422);
    assert.equal((await server.api('GET', `/api/v1/stats/app/${newId('application')}/attempt`)).status, 404);
  });

  it('aggregates usage per application and the event types seen, as tasks', async () => {
    const out = await svix.statistics.aggregateAppStats({ since, until: new Date(Date.now() + 60_000), appIds: [appId, otherAppId, 'no-such-app'] });
    assert.equal(out.task, BackgroundTaskType.ApplicationStats);
    assert.deepEqual(out.unresolvedAppIds, ['no-such-app']);
    const done = await ended(out.id);
    assert.equal(done.status, BackgroundTaskStatus.Finished);
    assert.deepEqual(done.data.apps, [
      // Three messages from the start, three of the status code class test.
      { appId, messages: 6 },
      { appId: otherAppId, messages: 1 },
    ]);
    await assert.rejects(svix.statistics.aggregateAppStats({ since, until: new Date(), appIds: ['nope'] }), apiError(404));
    await assert.rejects(svix.statistics.aggregateAppStats({ since: new Date(), until: since }), apiError(422));

    const types = await svix.statistics.aggregateEventTypes();
    assert.equal(types.task, BackgroundTaskType.EventTypeAggregate);
    assert.deepEqual((await ended(types.id)).data, { eventTypes: ['order.classed', 'order.created', 'order.paid', 'x'] });
  });

  it('expunges every message content of an application, as a task', async () => {
    const t = await svix.message.expungeAllContents(otherAppId);
    assert.equal(t.task, BackgroundTaskType.ApplicationPurgeContent);
    const done = await ended(t.id);
    assert.deepEqual(done.data, { expunged: 1 });
    const left = await svix.message.list(otherAppId);
    assert.ok(left.data.every((m) => JSON.stringify(m.payload) === '{}'), JSON.stringify(left.data.map((m) => m.payload)));
    const kept = await svix.message.get(appId, msgIds[0]!);
    assert.deepEqual(kept.payload, { eventType: 'order.created' }, 'other applications keep their contents');
  });

  it('dashboard access is the older name of app-portal access', async () => {
    const out = await svix.authentication.dashboardAccess(appId);
    assert.match(out.url, /\/portal#token=/);
    const portal = sdkClient(server.url, out.token);
    assert.equal((await portal.application.get(appId)).id, appId);
    await assert.rejects(portal.application.get(otherAppId), apiError(404));
    await assert.rejects(svix.authentication.dashboardAccess(newId('application')), apiError(404));
  });

  it('keeps the access rules: admin-only statistics and tasks, scoped reads, read-only portals never write', async () => {
    const key = sdkClient(server.url, (await createKey(server, ['read', 'write'], appId)).key);
    await assert.rejects(key.statistics.aggregateEventTypes(), apiError(403));
    await assert.rejects(key.statistics.aggregateAppStats({ since, until: new Date() }), apiError(403));
    await assert.rejects(key.authentication.dashboardAccess(appId), apiError(403));
    assert.equal((await fetch(server.url + '/api/v1/app/stats/count-active', { headers: { authorization: `Bearer ${(await createKey(server, ['read'], appId)).key}` } })).status, 403);
    assert.deepEqual(await key.message.precheck(appId, { eventType: 'order.paid' }), { active: true });
    await assert.rejects(key.message.precheck(otherAppId, { eventType: 'order.paid' }), apiError(404));
    await assert.rejects(key.message.expungeAllContents(otherAppId), apiError(404));

    const readOnly = sdkClient(server.url, await portalToken(server, appId, { readOnly: true }));
    await assert.rejects(readOnly.endpoint.bulkReplay(appId, epId, { since }), apiError(403));
    await assert.rejects(readOnly.message.expungeAllContents(appId), apiError(403));
    const stats = await fetch(`${server.url}/api/v1/stats/app/${appId}/attempt`, { headers: { authorization: `Bearer ${await portalToken(server, appId, { readOnly: true })}` } });
    assert.equal(stats.status, 200, 'a read-only token reads its application\'s statistics');
  });
});

describe('event types from an OpenAPI document with the svix SDK', () => {
  let server: TestServer;
  let svix: Svix;
  const doc = {
    openapi: '3.1.0',
    info: { title: 'Shop', version: '1' },
    webhooks: {
      'order.created': {
        post: {
          summary: 'An order was placed',
          requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Order' }, example: { id: 'o_1' } } } },
        },
      },
      'order.cancelled': { post: { summary: 'An order was cancelled', deprecated: true, requestBody: { content: { 'application/json': { schema: { type: 'object' } } } } } },
    },
    components: { schemas: { Order: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } } },
  };

  before(async () => {
    server = await startServer();
    svix = sdkClient(server.url, server.token);
    await svix.eventType.create({ name: 'legacy.thing', description: 'old' });
  });
  after(async () => server?.close());

  it('reports on a dry run, imports schemas and examples, is idempotent, and archives the rest with replaceAll', async () => {
    const dry = await svix.eventType.importOpenapi({ spec: doc, dryRun: true });
    assert.deepEqual(dry.data.modified.sort(), ['order.cancelled', 'order.created']);
    assert.equal(dry.data.toModify?.length, 2);
    await assert.rejects(svix.eventType.get('order.created'), apiError(404));

    const done = await svix.eventType.importOpenapi({ specRaw: JSON.stringify(doc) });
    assert.deepEqual(done.data.modified.sort(), ['order.cancelled', 'order.created']);
    const created = await svix.eventType.get('order.created');
    assert.equal(created.description, 'An order was placed');
    assert.deepEqual(created.schemas?.['1'], { type: 'object', properties: { id: { type: 'string' } }, required: ['id'], examples: [{ id: 'o_1' }] });
    assert.equal((await svix.eventType.get('order.cancelled')).deprecated, true);

    assert.deepEqual((await svix.eventType.importOpenapi({ spec: doc })).data.modified, [], 'nothing changes twice');
    const replaced = await svix.eventType.importOpenapi({ spec: doc, replaceAll: true });
    assert.deepEqual(replaced.data.modified, ['legacy.thing']);
    assert.equal((await svix.eventType.get('legacy.thing')).archived, true);
  });

  it('refuses documents it cannot use with a 4xx and a reason', async () => {
    await assert.rejects(svix.eventType.importOpenapi({ specRaw: 'not: [valid' }), apiError(400));
    await assert.rejects(svix.eventType.importOpenapi({ spec: { openapi: '3.1.0', info: {} } }), apiError(400));
    await assert.rejects(svix.eventType.importOpenapi({}), apiError(400));
    await assert.rejects(svix.eventType.importOpenapi({ spec: { ...doc, webhooks: { 'bad name!': { post: {} } } } }), apiError(400));
    const scoped = sdkClient(server.url, (await createKey(server, ['read', 'write'], (await svix.application.create({ name: 'x' })).id)).key);
    await assert.rejects(scoped.eventType.importOpenapi({ spec: doc }), apiError(403));
  });
});
