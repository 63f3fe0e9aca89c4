/**
 * Every method of the pinned `svix` SDK, called once against a real server. The list of
 * methods comes from reflection over an SDK client (scripts/sdk-methods.mjs); the table below
 * maps each `resource.method` to a call that exercises it and checks the answer. Every
 * answer the SDK parses while the walk runs is checked against the SDK's own models
 * (test/helpers/sdk-shapes.ts: required fields present, JSON types, enum values), and a
 * method whose answers do not fit fails, naming the field; key fields are asserted too. A
 * method the SDK has and the table lacks fails the walk, so an SDK bump shows what it added.
 * The streaming family and authentication's stream methods have their own suite
 * (test/streams/stream-api.test.ts, which fails unless it calls every one of them): they are
 * in the table, one by one, as covered there.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BackgroundTaskStatus, BackgroundTaskType, MessageStatus, Svix } from 'svix';
import { eventually } from '../helpers/eventually.js';
import { Receiver } from '../helpers/receiver.js';
import { attemptsOf, startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { apiError, apiErrorMentioning, sdkClient } from '../helpers/svix-sdk.js';
import { streamMethods } from '../helpers/sdk-calls.js';
import { ShapeError, watchSdkAnswers } from '../helpers/sdk-shapes.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** What every call gets: a server, an SDK client with the admin token, and one delivered message. */
interface Walk {
  server: TestServer;
  svix: Svix;
  rx: Receiver;
  appId: string;
  epId: string;
  msgId: string;
  attemptId: string;
  /** A polling endpoint of the application. */
  pollerId: string;
  sourceId: string;
  since: Date;
  /** A fresh endpoint of the application, for calls that change or remove one. */
  freshEndpoint: () => Promise<string>;
  /** Waits for a background task to end and returns it. */
  ended: (taskId: string) => Promise<{ status: BackgroundTaskStatus; data: any }>;
}

type Call = (w: Walk) => Promise<void>;

/** A method covered by another suite, not called here. */
interface Elsewhere {
  coveredBy: string;
}

const STREAMS: Elsewhere = { coveredBy: 'test/streams/stream-api.test.ts (the streaming suite)' };

/** Methods of the families Switchboard serves today. */
const CALLS: Record<string, Call | Elsewhere> = {
  'application.list': async ({ svix, appId }) => {
    const page = await svix.application.list({ limit: 100 });
    assert.ok(page.data.some((a) => a.id === appId));
    assert.equal(typeof page.done, 'boolean');
  },
  'application.create': async ({ svix }) => {
    const app = await svix.application.create({ name: 'Created', uid: 'walk-created', metadata: { team: 'a' } });
    assert.match(app.id, /^app_/);
    assert.equal(app.uid, 'walk-created');
    assert.deepEqual(app.metadata, { team: 'a' });
  },
  'application.getOrCreate': async ({ svix }) => {
    const first = await svix.application.getOrCreate({ name: 'Once', uid: 'walk-once' });
    const again = await svix.application.getOrCreate({ name: 'Once', uid: 'walk-once' });
    assert.equal(again.id, first.id);
  },
  'application.get': async ({ svix, appId }) => {
    assert.equal((await svix.application.get(appId)).id, appId);
  },
  'application.update': async ({ svix }) => {
    const app = await svix.application.create({ name: 'Before' });
    assert.equal((await svix.application.update(app.id, { name: 'After' })).name, 'After');
  },
  'application.delete': async ({ svix }) => {
    const app = await svix.application.create({ name: 'Gone' });
    await svix.application.delete(app.id);
    await assert.rejects(svix.application.get(app.id), apiError(404));
  },
  'application.patch': async ({ svix }) => {
    const app = await svix.application.create({ name: 'Patched', rateLimit: 5 });
    const out = await svix.application.patch(app.id, { name: 'Patched twice' });
    assert.equal(out.name, 'Patched twice');
    assert.equal(out.rateLimit, 5, 'what the patch leaves out is kept');
  },

  'authentication.appPortalAccess': async ({ svix, server, appId }) => {
    const out = await svix.authentication.appPortalAccess(appId, {});
    assert.match(out.url, /#token=/);
    assert.equal((await sdkClient(server.url, out.token).application.get(appId)).id, appId);
  },
  'authentication.logout': async ({ svix, server, appId }) => {
    const { token } = await svix.authentication.appPortalAccess(appId, {});
    const portal = sdkClient(server.url, token);
    await portal.authentication.logout();
    await assert.rejects(portal.application.get(appId), apiError(401));
  },
  'authentication.expireAll': async ({ svix, server, appId }) => {
    const { token } = await svix.authentication.appPortalAccess(appId, {});
    await svix.authentication.expireAll(appId, {});
    await assert.rejects(sdkClient(server.url, token).application.get(appId), apiError(401));
  },
  'authentication.dashboardAccess': async ({ svix, appId }) => {
    assert.match((await svix.authentication.dashboardAccess(appId)).url, /#token=/);
  },
  'authentication.streamPortalAccess': STREAMS,
  'authentication.streamLogout': STREAMS,
  'authentication.streamExpireAll': STREAMS,
  'authentication.rotateStreamPollerToken': STREAMS,
  'authentication.getStreamPollerToken': STREAMS,

  'backgroundTask.list': async ({ svix, appId, epId, since }) => {
    const t = await svix.endpoint.recover(appId, epId, { since });
    const page = await svix.backgroundTask.list({ task: BackgroundTaskType.EndpointRecover, limit: 100 });
    assert.ok(page.data.some((x) => x.id === t.id));
    assert.ok(page.data.every((x) => x.task === BackgroundTaskType.EndpointRecover));
  },
  'backgroundTask.listByEndpoint': async ({ svix, appId, epId, since }) => {
    const t = await svix.endpoint.replayMissing(appId, epId, { since });
    const page = await svix.backgroundTask.listByEndpoint({ task: BackgroundTaskType.EndpointReplay, limit: 1 });
    assert.equal(page.data[0]?.id, t.id, 'newest first');
  },
  'backgroundTask.get': async ({ svix, appId, epId, since, ended }) => {
    const t = await svix.endpoint.replayMissing(appId, epId, { since });
    const done = await ended(t.id);
    assert.equal(done.status, BackgroundTaskStatus.Finished);
  },

  'endpoint.list': async ({ svix, appId, epId }) => {
    assert.ok((await svix.endpoint.list(appId)).data.some((e) => e.id === epId));
  },
  'endpoint.create': async ({ svix, rx, appId }) => {
    const ep = await svix.endpoint.create(appId, { url: rx.url('/created'), uid: 'walk-ep', filterTypes: ['order.paid'], disabled: true });
    assert.match(ep.id, /^ep_/);
    assert.deepEqual([ep.uid, ep.filterTypes, ep.disabled], ['walk-ep', ['order.paid'], true]);
  },
  'endpoint.get': async ({ svix, appId, epId }) => {
    assert.equal((await svix.endpoint.get(appId, epId)).id, epId);
  },
  'endpoint.update': async ({ svix, rx, appId, freshEndpoint }) => {
    const id = await freshEndpoint();
    const out = await svix.endpoint.update(appId, id, { url: rx.url('/updated'), description: 'updated' });
    assert.deepEqual([out.url, out.description], [rx.url('/updated'), 'updated']);
  },
  'endpoint.delete': async ({ svix, appId, freshEndpoint }) => {
    const id = await freshEndpoint();
    await svix.endpoint.delete(appId, id);
    await assert.rejects(svix.endpoint.get(appId, id), apiError(404));
  },
  'endpoint.patch': async ({ svix, appId, freshEndpoint }) => {
    const id = await freshEndpoint();
    const out = await svix.endpoint.patch(appId, id, { description: 'patched' });
    assert.equal(out.description, 'patched');
  },
  'endpoint.getSecret': async ({ svix, appId, epId }) => {
    assert.match((await svix.endpoint.getSecret(appId, epId)).key, /^whsec_/);
  },
  'endpoint.rotateSecret': async ({ svix, appId, freshEndpoint }) => {
    const id = await freshEndpoint();
    const before = (await svix.endpoint.getSecret(appId, id)).key;
    await svix.endpoint.rotateSecret(appId, id, {});
    assert.notEqual((await svix.endpoint.getSecret(appId, id)).key, before);
  },
  'endpoint.getHeaders': async ({ svix, appId, freshEndpoint }) => {
    const id = await freshEndpoint();
    await svix.endpoint.updateHeaders(appId, id, { headers: { 'X-Team': 'a', Authorization: 'Bearer x' } });
    const h = await svix.endpoint.getHeaders(appId, id);
    assert.deepEqual(h.headers, { 'X-Team': 'a' });
    assert.deepEqual(h.sensitive, ['Authorization']);
  },
  'endpoint.updateHeaders': async ({ svix, appId, freshEndpoint }) => {
    const id = await freshEndpoint();
    await svix.endpoint.updateHeaders(appId, id, { headers: { 'X-One': '1' } });
    await svix.endpoint.updateHeaders(appId, id, { headers: { 'X-Two': '2' } });
    assert.deepEqual((await svix.endpoint.getHeaders(appId, id)).headers, { 'X-Two': '2' }, 'update replaces');
  },
  'endpoint.headersUpdate': async ({ svix, appId, freshEndpoint }) => {
    const id = await freshEndpoint();
    await svix.endpoint.headersUpdate(appId, id, { headers: { 'X-Old-Name': '1' } });
    assert.deepEqual((await svix.endpoint.getHeaders(appId, id)).headers, { 'X-Old-Name': '1' });
  },
  'endpoint.patchHeaders': async ({ svix, appId, freshEndpoint }) => {
    const id = await freshEndpoint();
    await svix.endpoint.updateHeaders(appId, id, { headers: { 'X-One': '1' } });
    await svix.endpoint.patchHeaders(appId, id, { headers: { 'X-Two': '2' } });
    assert.deepEqual((await svix.endpoint.getHeaders(appId, id)).headers, { 'X-One': '1', 'X-Two': '2' }, 'patch merges');
  },
  'endpoint.headersPatch': async ({ svix, appId, freshEndpoint }) => {
    const id = await freshEndpoint();
    await svix.endpoint.headersPatch(appId, id, { headers: { 'X-Old-Name': '2' } });
    assert.deepEqual((await svix.endpoint.getHeaders(appId, id)).headers, { 'X-Old-Name': '2' });
  },
  'endpoint.transformationGet': async ({ svix, appId, freshEndpoint }) => {
    const id = await freshEndpoint();
    const t = await svix.endpoint.transformationGet(appId, id);
    assert.equal(t.enabled, false);
  },
  'endpoint.patchTransformation': async ({ svix, appId, freshEndpoint }) => {
    const id = await freshEndpoint();
    await svix.endpoint.patchTransformation(appId, id, { code: 'function handler(webhook) { return webhook; }', enabled: true });
    const t = await svix.endpoint.transformationGet(appId, id);
    assert.equal(t.enabled, true);
    assert.match(t.code ?? '', /handler/);
  },
  'endpoint.replayMissing': async ({ svix, appId, epId, since, ended }) => {
    const t = await svix.endpoint.replayMissing(appId, epId, { since });
    assert.equal(t.task, BackgroundTaskType.EndpointReplay);
    assert.equal((await ended(t.id)).status, BackgroundTaskStatus.Finished);
  },
  'endpoint.bulkReplay': async ({ svix, appId, epId, since, ended }) => {
    const t = await svix.endpoint.bulkReplay(appId, epId, { since, status: MessageStatus.Success });
    assert.equal(t.task, BackgroundTaskType.EndpointBulkReplay);
    assert.deepEqual((await ended(t.id)).data, { replayed: 1 });
  },
  'endpoint.getStats': async ({ svix, appId, epId, since }) => {
    // The message's status per endpoint is written just after its attempt.
    const s = await eventually(async () => {
      const out = await svix.endpoint.getStats(appId, epId, { since });
      return out.success >= 1 ? out : null;
    }, 'a success counted');
    assert.equal(s.fail, 0);
  },
  'endpoint.recover': async ({ svix, appId, epId, since, ended }) => {
    const t = await svix.endpoint.recover(appId, epId, { since });
    assert.equal(t.task, BackgroundTaskType.EndpointRecover);
    assert.equal((await ended(t.id)).status, BackgroundTaskStatus.Finished);
  },
  'endpoint.sendExample': async ({ svix, appId, epId }) => {
    await svix.eventType.create({ name: 'walk.example', description: 'has an example', schemas: { '1': { type: 'object', examples: [{ n: 1 }] } } });
    const m = await svix.endpoint.sendExample(appId, epId, { eventType: 'walk.example' });
    assert.equal(m.eventType, 'walk.example');
    assert.deepEqual(m.payload, { n: 1 });
  },
  'endpoint.transformationPartialUpdate': async ({ svix, appId, freshEndpoint }) => {
    const id = await freshEndpoint();
    await svix.endpoint.transformationPartialUpdate(appId, id, { code: 'function handler(webhook) { return webhook; }', enabled: false });
    assert.match((await svix.endpoint.transformationGet(appId, id)).code ?? '', /handler/);
  },

  'eventType.list': async ({ svix }) => {
    await svix.eventType.create({ name: 'walk.listed', description: 'listed' });
    assert.ok((await svix.eventType.list({ limit: 250 })).data.some((t) => t.name === 'walk.listed'));
  },
  'eventType.create': async ({ svix }) => {
    const t = await svix.eventType.create({ name: 'walk.created', description: 'created', featureFlag: null });
    assert.equal(t.name, 'walk.created');
  },
  'eventType.importOpenapi': async ({ svix }) => {
    const spec = {
      openapi: '3.1.0',
      info: { title: 'walk', version: '1' },
      webhooks: { 'walk.imported': { post: { summary: 'Imported', requestBody: { content: { 'application/json': { schema: { type: 'object' } } } } } } },
    };
    const out = await svix.eventType.importOpenapi({ spec });
    assert.deepEqual(out.data.modified, ['walk.imported']);
  },
  'eventType.get': async ({ svix }) => {
    await svix.eventType.create({ name: 'walk.got', description: 'got' });
    assert.equal((await svix.eventType.get('walk.got')).description, 'got');
  },
  'eventType.update': async ({ svix }) => {
    await svix.eventType.create({ name: 'walk.updated', description: 'before' });
    assert.equal((await svix.eventType.update('walk.updated', { description: 'after' })).description, 'after');
  },
  'eventType.delete': async ({ svix }) => {
    await svix.eventType.create({ name: 'walk.archived', description: 'archived' });
    await svix.eventType.delete('walk.archived');
    assert.equal((await svix.eventType.get('walk.archived')).archived, true, 'deleting archives');
  },
  'eventType.patch': async ({ svix }) => {
    await svix.eventType.create({ name: 'walk.patched', description: 'before' });
    assert.equal((await svix.eventType.patch('walk.patched', { deprecated: true })).deprecated, true);
  },

  'health.get': async ({ svix, server }) => {
    // The SDK reads no body: a healthy server answers 204, anything else throws.
    assert.equal(await svix.health.get(), undefined);
    const res = await fetch(`${server.url}/api/v1/health`);
    assert.equal(res.status, 204);
    assert.equal(await res.text(), '');
    const broken = sdkClient(`${server.url}/no-such-prefix`, server.token);
    await assert.rejects(broken.health.get(), apiError(404));
  },

  'ingest.endpoint.list': async ({ svix, rx, sourceId }) => {
    const ep = await svix.ingest.endpoint.create(sourceId, { url: rx.url('/in-listed') });
    assert.ok((await svix.ingest.endpoint.list(sourceId)).data.some((e) => e.id === ep.id));
  },
  'ingest.endpoint.create': async ({ svix, rx, sourceId }) => {
    const ep = await svix.ingest.endpoint.create(sourceId, { url: rx.url('/in-created'), uid: 'walk-in', throttleRate: 5 });
    assert.deepEqual([ep.uid, ep.throttleRate], ['walk-in', 5]);
  },
  'ingest.endpoint.get': async ({ svix, rx, sourceId }) => {
    const ep = await svix.ingest.endpoint.create(sourceId, { url: rx.url('/in-got') });
    assert.equal((await svix.ingest.endpoint.get(sourceId, ep.id)).url, rx.url('/in-got'));
  },
  'ingest.endpoint.update': async ({ svix, rx, sourceId }) => {
    const ep = await svix.ingest.endpoint.create(sourceId, { url: rx.url('/in-before') });
    assert.equal((await svix.ingest.endpoint.update(sourceId, ep.id, { url: rx.url('/in-after') })).url, rx.url('/in-after'));
  },
  'ingest.endpoint.delete': async ({ svix, rx, sourceId }) => {
    const ep = await svix.ingest.endpoint.create(sourceId, { url: rx.url('/in-gone') });
    await svix.ingest.endpoint.delete(sourceId, ep.id);
    await assert.rejects(svix.ingest.endpoint.get(sourceId, ep.id), apiError(404));
  },
  'ingest.endpoint.getSecret': async ({ svix, rx, sourceId }) => {
    const ep = await svix.ingest.endpoint.create(sourceId, { url: rx.url('/in-secret') });
    assert.match((await svix.ingest.endpoint.getSecret(sourceId, ep.id)).key, /^whsec_/);
  },
  'ingest.endpoint.rotateSecret': async ({ svix, rx, sourceId }) => {
    const ep = await svix.ingest.endpoint.create(sourceId, { url: rx.url('/in-rotated') });
    const before = (await svix.ingest.endpoint.getSecret(sourceId, ep.id)).key;
    await svix.ingest.endpoint.rotateSecret(sourceId, ep.id, {});
    assert.notEqual((await svix.ingest.endpoint.getSecret(sourceId, ep.id)).key, before);
  },
  'ingest.endpoint.getHeaders': async ({ svix, rx, sourceId }) => {
    const ep = await svix.ingest.endpoint.create(sourceId, { url: rx.url('/in-headers') });
    assert.deepEqual((await svix.ingest.endpoint.getHeaders(sourceId, ep.id)).headers, {});
  },
  'ingest.endpoint.updateHeaders': async ({ svix, rx, sourceId }) => {
    const ep = await svix.ingest.endpoint.create(sourceId, { url: rx.url('/in-headers2') });
    await svix.ingest.endpoint.updateHeaders(sourceId, ep.id, { headers: { 'X-Team': 'b' } });
    assert.deepEqual((await svix.ingest.endpoint.getHeaders(sourceId, ep.id)).headers, { 'X-Team': 'b' });
  },
  'ingest.endpoint.getTransformation': async ({ svix, rx, sourceId }) => {
    const ep = await svix.ingest.endpoint.create(sourceId, { url: rx.url('/in-t') });
    assert.equal((await svix.ingest.endpoint.getTransformation(sourceId, ep.id)).enabled, false);
  },
  'ingest.endpoint.setTransformation': async ({ svix, rx, sourceId }) => {
    const ep = await svix.ingest.endpoint.create(sourceId, { url: rx.url('/in-t2') });
    await svix.ingest.endpoint.setTransformation(sourceId, ep.id, { code: 'function handler(webhook) { return webhook; }', enabled: true });
    assert.equal((await svix.ingest.endpoint.getTransformation(sourceId, ep.id)).enabled, true);
  },
  'ingest.source.list': async ({ svix, sourceId }) => {
    assert.ok((await svix.ingest.source.list({ limit: 100 })).data.some((s) => s.id === sourceId));
  },
  'ingest.source.create': async ({ svix }) => {
    const s = await svix.ingest.source.create({ name: 'Created source', uid: 'walk-source', type: 'generic-webhook' });
    assert.match(s.id, /^src_/);
    assert.match(s.ingestUrl ?? '', /\/ingest\/in\//);
  },
  'ingest.source.get': async ({ svix, sourceId }) => {
    assert.equal((await svix.ingest.source.get(sourceId)).id, sourceId);
  },
  'ingest.source.update': async ({ svix }) => {
    const s = await svix.ingest.source.create({ name: 'Before', type: 'generic-webhook' });
    assert.equal((await svix.ingest.source.update(s.id, { name: 'After', type: 'generic-webhook' })).name, 'After');
  },
  'ingest.source.delete': async ({ svix }) => {
    const s = await svix.ingest.source.create({ name: 'Gone', type: 'generic-webhook' });
    await svix.ingest.source.delete(s.id);
    await assert.rejects(svix.ingest.source.get(s.id), apiError(404));
  },
  'ingest.source.rotateToken': async ({ svix }) => {
    const s = await svix.ingest.source.create({ name: 'Rotated', type: 'generic-webhook' });
    assert.notEqual((await svix.ingest.source.rotateToken(s.id)).ingestUrl, s.ingestUrl);
  },
  'ingest.dashboard': async ({ svix, sourceId }) => {
    const out = await svix.ingest.dashboard(sourceId, {});
    assert.match(out.url, /#token=/);
  },

  'message.poller.poll': async ({ svix, appId, pollerId, msgId }) => {
    const page = await svix.message.poller.poll(appId, pollerId, { limit: 10 });
    assert.ok(page.data.some((m) => m.id === msgId));
  },
  'message.poller.consumerSeek': async ({ svix, appId, pollerId, msgId }) => {
    // Seeking to a time moves the consumer's cursor there: before the message, it is read; after it, not.
    const back = await svix.message.poller.consumerSeek(appId, pollerId, 'walk-seeker', { after: new Date(0) });
    assert.equal(typeof back.iterator, 'string');
    assert.ok((await svix.message.poller.consumerPoll(appId, pollerId, 'walk-seeker', { limit: 100 })).data.some((m) => m.id === msgId));
    await svix.message.poller.consumerSeek(appId, pollerId, 'walk-seeker', { after: new Date(Date.now() + 1000) });
    assert.ok(!(await svix.message.poller.consumerPoll(appId, pollerId, 'walk-seeker', { limit: 100 })).data.some((m) => m.id === msgId));
  },
  'message.poller.consumerPoll': async ({ svix, appId, pollerId, msgId }) => {
    const page = await svix.message.poller.consumerPoll(appId, pollerId, 'walk-consumer', { limit: 10 });
    assert.ok(page.data.some((m) => m.id === msgId));
  },
  'message.list': async ({ svix, appId, msgId }) => {
    assert.ok((await svix.message.list(appId, { limit: 100 })).data.some((m) => m.id === msgId));
  },
  'message.create': async ({ svix, appId }) => {
    const m = await svix.message.create(appId, { eventType: 'order.created', payload: { n: 2 }, eventId: 'walk-evt', tags: ['t'] });
    assert.match(m.id, /^msg_/);
    assert.deepEqual([m.eventId, m.payload, m.tags], ['walk-evt', { n: 2 }, ['t']]);
  },
  'message.precheck': async ({ svix, appId }) => {
    assert.deepEqual(await svix.message.precheck(appId, { eventType: 'order.paid' }), { active: true });
  },
  'message.get': async ({ svix, appId, msgId }) => {
    assert.deepEqual((await svix.message.get(appId, msgId)).payload, { n: 1 });
  },
  'message.expungeContent': async ({ svix, appId }) => {
    const m = await svix.message.create(appId, { eventType: 'walk.secret', payload: { card: '4242' } });
    await svix.message.expungeContent(appId, m.id);
    assert.deepEqual((await svix.message.get(appId, m.id)).payload, {});
  },
  'message.expungeAllContents': async ({ svix, ended }) => {
    const app = await svix.application.create({ name: 'Expunged' });
    await svix.message.create(app.id, { eventType: 'walk.secret', payload: { card: '4242' } });
    const t = await svix.message.expungeAllContents(app.id);
    assert.equal(t.task, BackgroundTaskType.ApplicationPurgeContent);
    assert.deepEqual((await ended(t.id)).data, { expunged: 1 });
  },

  'messageAttempt.listByEndpoint': async ({ svix, appId, epId, attemptId }) => {
    assert.ok((await svix.messageAttempt.listByEndpoint(appId, epId)).data.some((a) => a.id === attemptId));
  },
  'messageAttempt.listByMsg': async ({ svix, appId, msgId, attemptId }) => {
    assert.ok((await svix.messageAttempt.listByMsg(appId, msgId)).data.some((a) => a.id === attemptId));
  },
  'messageAttempt.listAttemptedMessages': async ({ svix, appId, epId, msgId }) => {
    assert.ok((await svix.messageAttempt.listAttemptedMessages(appId, epId)).data.some((m) => m.id === msgId));
  },
  'messageAttempt.listAttemptedDestinations': async ({ svix, appId, epId, msgId }) => {
    assert.ok((await svix.messageAttempt.listAttemptedDestinations(appId, msgId)).data.some((d) => d.id === epId));
  },
  'messageAttempt.get': async ({ svix, appId, msgId, attemptId }) => {
    const a = await svix.messageAttempt.get(appId, msgId, attemptId);
    assert.deepEqual([a.id, a.msgId, a.responseStatusCode], [attemptId, msgId, 200]);
  },
  'messageAttempt.expungeContent': async ({ svix, server, appId }) => {
    const m = await svix.message.create(appId, { eventType: 'order.paid', payload: { n: 3 } });
    const [a] = await attemptsOf(server, appId, m.id);
    assert.equal(a.response, 'ok', 'the receiver\'s answer is kept');
    await svix.messageAttempt.expungeContent(appId, m.id, a.id);
    assert.equal((await svix.messageAttempt.get(appId, m.id, a.id)).response, '');
  },
  'messageAttempt.resend': async ({ svix, server, appId, epId, msgId }) => {
    const before = (await attemptsOf(server, appId, msgId)).length;
    await svix.messageAttempt.resend(appId, msgId, epId);
    await attemptsOf(server, appId, msgId, before + 1);
  },

  'operationalWebhook.endpoint.list': async ({ svix, rx }) => {
    const ep = await svix.operationalWebhook.endpoint.create({ url: rx.url('/ops-listed') });
    assert.ok((await svix.operationalWebhook.endpoint.list()).data.some((e) => e.id === ep.id));
  },
  'operationalWebhook.endpoint.create': async ({ svix, rx }) => {
    const ep = await svix.operationalWebhook.endpoint.create({ url: rx.url('/ops-created'), filterTypes: ['message.attempt.exhausted'] });
    assert.deepEqual(ep.filterTypes, ['message.attempt.exhausted']);
  },
  'operationalWebhook.endpoint.get': async ({ svix, rx }) => {
    const ep = await svix.operationalWebhook.endpoint.create({ url: rx.url('/ops-got') });
    assert.equal((await svix.operationalWebhook.endpoint.get(ep.id)).url, rx.url('/ops-got'));
  },
  'operationalWebhook.endpoint.update': async ({ svix, rx }) => {
    const ep = await svix.operationalWebhook.endpoint.create({ url: rx.url('/ops-before') });
    assert.equal((await svix.operationalWebhook.endpoint.update(ep.id, { url: rx.url('/ops-after') })).url, rx.url('/ops-after'));
  },
  'operationalWebhook.endpoint.delete': async ({ svix, rx }) => {
    const ep = await svix.operationalWebhook.endpoint.create({ url: rx.url('/ops-gone') });
    await svix.operationalWebhook.endpoint.delete(ep.id);
    await assert.rejects(svix.operationalWebhook.endpoint.get(ep.id), apiError(404));
  },
  'operationalWebhook.endpoint.getSecret': async ({ svix, rx }) => {
    const ep = await svix.operationalWebhook.endpoint.create({ url: rx.url('/ops-secret') });
    assert.match((await svix.operationalWebhook.endpoint.getSecret(ep.id)).key, /^whsec_/);
  },
  'operationalWebhook.endpoint.rotateSecret': async ({ svix, rx }) => {
    const ep = await svix.operationalWebhook.endpoint.create({ url: rx.url('/ops-rotated') });
    const before = (await svix.operationalWebhook.endpoint.getSecret(ep.id)).key;
    await svix.operationalWebhook.endpoint.rotateSecret(ep.id, {});
    assert.notEqual((await svix.operationalWebhook.endpoint.getSecret(ep.id)).key, before);
  },
  'operationalWebhook.endpoint.getHeaders': async ({ svix, rx }) => {
    const ep = await svix.operationalWebhook.endpoint.create({ url: rx.url('/ops-headers') });
    assert.deepEqual((await svix.operationalWebhook.endpoint.getHeaders(ep.id)).headers, {});
  },
  'operationalWebhook.endpoint.updateHeaders': async ({ svix, rx }) => {
    const ep = await svix.operationalWebhook.endpoint.create({ url: rx.url('/ops-headers2') });
    await svix.operationalWebhook.endpoint.updateHeaders(ep.id, { headers: { 'X-Ops': '1' } });
    assert.deepEqual((await svix.operationalWebhook.endpoint.getHeaders(ep.id)).headers, { 'X-Ops': '1' });
  },

  'statistics.aggregateEventTypes': async ({ svix, ended }) => {
    const t = await svix.statistics.aggregateEventTypes();
    assert.equal(t.task, BackgroundTaskType.EventTypeAggregate);
    assert.ok((await ended(t.id)).data.eventTypes.includes('order.paid'));
  },
  'statistics.aggregateAppStats': async ({ svix, appId, since, ended }) => {
    const t = await svix.statistics.aggregateAppStats({ since, until: new Date(Date.now() + 60_000), appIds: [appId] });
    assert.equal(t.task, BackgroundTaskType.ApplicationStats);
    const done = await ended(t.id);
    assert.equal(done.data.apps[0].appId, appId);
  },

  'streaming.event_type.list': STREAMS,
  'streaming.event_type.create': STREAMS,
  'streaming.event_type.get': STREAMS,
  'streaming.event_type.update': STREAMS,
  'streaming.event_type.delete': STREAMS,
  'streaming.event_type.patch': STREAMS,
  'streaming.events.get': STREAMS,
  'streaming.events.create': STREAMS,
  'streaming.sink.list': STREAMS,
  'streaming.sink.create': STREAMS,
  'streaming.sink.get': STREAMS,
  'streaming.sink.update': STREAMS,
  'streaming.sink.delete': STREAMS,
  'streaming.sink.patch': STREAMS,
  'streaming.sink.transformationPartialUpdate': STREAMS,
  'streaming.sink.getSecret': STREAMS,
  'streaming.sink.rotateSecret': STREAMS,
  'streaming.stream.list': STREAMS,
  'streaming.stream.create': STREAMS,
  'streaming.stream.get': STREAMS,
  'streaming.stream.update': STREAMS,
  'streaming.stream.delete': STREAMS,
  'streaming.stream.patch': STREAMS,
  'streaming.sinkTransformationGet': STREAMS,
  'streaming.sinkHeadersGet': STREAMS,
  'streaming.sinkHeadersPatch': STREAMS,
  'operationalWebhookEndpoint.list': async ({ svix, rx }) => {
    const ep = await svix.operationalWebhookEndpoint.create({ url: rx.url('/owe-listed') });
    assert.ok((await svix.operationalWebhookEndpoint.list()).data.some((e) => e.id === ep.id));
  },
  'operationalWebhookEndpoint.create': async ({ svix, rx }) => {
    const ep = await svix.operationalWebhookEndpoint.create({ url: rx.url('/owe-created'), uid: 'walk-ops' });
    assert.equal(ep.uid, 'walk-ops');
  },
  'operationalWebhookEndpoint.get': async ({ svix, rx }) => {
    const ep = await svix.operationalWebhookEndpoint.create({ url: rx.url('/owe-got') });
    assert.equal((await svix.operationalWebhookEndpoint.get(ep.id)).id, ep.id);
  },
  'operationalWebhookEndpoint.update': async ({ svix, rx }) => {
    const ep = await svix.operationalWebhookEndpoint.create({ url: rx.url('/owe-before') });
    assert.equal((await svix.operationalWebhookEndpoint.update(ep.id, { url: rx.url('/owe-after'), disabled: true })).disabled, true);
  },
  'operationalWebhookEndpoint.delete': async ({ svix, rx }) => {
    const ep = await svix.operationalWebhookEndpoint.create({ url: rx.url('/owe-gone') });
    await svix.operationalWebhookEndpoint.delete(ep.id);
    await assert.rejects(svix.operationalWebhookEndpoint.get(ep.id), apiError(404));
  },
  'operationalWebhookEndpoint.getSecret': async ({ svix, rx }) => {
    const ep = await svix.operationalWebhookEndpoint.create({ url: rx.url('/owe-secret') });
    assert.match((await svix.operationalWebhookEndpoint.getSecret(ep.id)).key, /^whsec_/);
  },
  'operationalWebhookEndpoint.rotateSecret': async ({ svix, rx }) => {
    const ep = await svix.operationalWebhookEndpoint.create({ url: rx.url('/owe-rotated') });
    const before = (await svix.operationalWebhookEndpoint.getSecret(ep.id)).key;
    await svix.operationalWebhookEndpoint.rotateSecret(ep.id, {});
    assert.notEqual((await svix.operationalWebhookEndpoint.getSecret(ep.id)).key, before);
  },
  'operationalWebhookEndpoint.getHeaders': async ({ svix, rx }) => {
    const ep = await svix.operationalWebhookEndpoint.create({ url: rx.url('/owe-headers') });
    assert.deepEqual((await svix.operationalWebhookEndpoint.getHeaders(ep.id)).headers, {});
  },
  'operationalWebhookEndpoint.updateHeaders': async ({ svix, rx }) => {
    const ep = await svix.operationalWebhookEndpoint.create({ url: rx.url('/owe-headers2') });
    await svix.operationalWebhookEndpoint.updateHeaders(ep.id, { headers: { 'X-Ops': '2' } });
    assert.deepEqual((await svix.operationalWebhookEndpoint.getHeaders(ep.id)).headers, { 'X-Ops': '2' });
  },
};

/** Methods of the integration, connector and environment families. */
const CONFIGURATION_CALLS: Record<string, Call> = {
  'integration.list': async ({ svix, appId }) => {
    const i = await svix.integration.create(appId, { name: 'Listed' });
    assert.ok((await svix.integration.list(appId)).data.some((x) => x.id === i.id));
  },
  'integration.create': async ({ svix, appId }) => {
    const i = await svix.integration.create(appId, { name: 'Created', featureFlags: ['beta'] });
    assert.deepEqual([i.name, i.featureFlags], ['Created', ['beta']]);
  },
  'integration.get': async ({ svix, appId }) => {
    const i = await svix.integration.create(appId, { name: 'Got' });
    assert.equal((await svix.integration.get(appId, i.id)).name, 'Got');
  },
  'integration.update': async ({ svix, appId }) => {
    const i = await svix.integration.create(appId, { name: 'Before' });
    assert.equal((await svix.integration.update(appId, i.id, { name: 'After' })).name, 'After');
  },
  'integration.delete': async ({ svix, appId }) => {
    const i = await svix.integration.create(appId, { name: 'Gone' });
    await svix.integration.delete(appId, i.id);
    await assert.rejects(svix.integration.get(appId, i.id), apiError(404));
  },
  'integration.rotateKey': async ({ svix, appId }) => {
    const i = await svix.integration.create(appId, { name: 'Rotated' });
    const before = (await svix.integration.getKey(appId, i.id)).key;
    const after = (await svix.integration.rotateKey(appId, i.id)).key;
    assert.notEqual(after, before);
  },
  'integration.getKey': async ({ svix, server, appId }) => {
    const i = await svix.integration.create(appId, { name: 'Keyed' });
    const { key } = await svix.integration.getKey(appId, i.id);
    assert.match(key, /^sbint_[A-Za-z0-9_-]{43}$/, 'sbint_ and 32 random bytes in base64url');
    assert.equal((await svix.integration.getKey(appId, i.id)).key, key, 'the same key each time');
    // The key is a credential for its own application only.
    const scoped = sdkClient(server.url, key);
    assert.equal((await scoped.application.get(appId)).id, appId);
    await assert.rejects(scoped.application.list(), apiError(403));
  },
  'connector.list': async ({ svix }) => {
    const c = await svix.connector.create({ name: 'Listed', transformation: 'function handler(webhook) { return webhook; }' });
    assert.ok((await svix.connector.list()).data.some((x) => x.id === c.id));
  },
  'connector.create': async ({ svix }) => {
    const c = await svix.connector.create({ name: 'Created', uid: 'walk-connector', transformation: 'function handler(webhook) { return webhook; }' });
    assert.deepEqual([c.name, c.uid], ['Created', 'walk-connector']);
  },
  'connector.get': async ({ svix }) => {
    const c = await svix.connector.create({ name: 'Got', transformation: 'function handler(webhook) { return webhook; }' });
    assert.equal((await svix.connector.get(c.id)).name, 'Got');
  },
  'connector.update': async ({ svix }) => {
    const c = await svix.connector.create({ name: 'Before', transformation: 'function handler(webhook) { return webhook; }' });
    assert.equal((await svix.connector.update(c.id, { name: 'After', transformation: c.transformation })).name, 'After');
  },
  'connector.delete': async ({ svix }) => {
    const c = await svix.connector.create({ name: 'Gone', transformation: 'function handler(webhook) { return webhook; }' });
    await svix.connector.delete(c.id);
    await assert.rejects(svix.connector.get(c.id), apiError(404));
  },
  'connector.patch': async ({ svix }) => {
    const c = await svix.connector.create({ name: 'Patched', transformation: 'function handler(webhook) { return webhook; }' });
    const out = await svix.connector.patch(c.id, { description: 'patched' });
    assert.deepEqual([out.name, out.description], ['Patched', 'patched']);
  },
  'environment.export': async ({ svix }) => {
    await svix.eventType.create({ name: 'walk.exported', description: 'exported' });
    const out = await svix.environment.export();
    assert.ok(out.eventTypes.some((t) => t.name === 'walk.exported'));
    assert.deepEqual(out.settings, { enforceHttps: false });
  },
  'environment.import': async ({ svix, appId }) => {
    const code = 'function handler(webhook) { return webhook; }';
    await svix.environment.import({
      eventTypes: [{ name: 'walk.env-imported', description: 'imported' }],
      connectors: [{ name: 'Imported connector', uid: 'walk-env-connector', transformation: code }],
      settings: { enforceHttps: true },
    });
    try {
      assert.equal((await svix.eventType.get('walk.env-imported')).description, 'imported');
      const c = await svix.connector.get('walk-env-connector');
      assert.deepEqual([c.name, c.transformation], ['Imported connector', code]);
      assert.deepEqual((await svix.environment.export()).settings, { enforceHttps: true });
      await assert.rejects(svix.endpoint.create(appId, { url: 'http://example.com/hook' }), apiErrorMentioning(422, 'enforceHttps'), 'the imported setting is honoured');
    } finally {
      // The other calls make http endpoints.
      await svix.environment.import({ settings: { enforceHttps: false } });
    }
  },
};

const table: Record<string, Call | Elsewhere> = { ...CALLS, ...CONFIGURATION_CALLS };
const entryOf = (name: string): Call | Elsewhere | undefined => (Object.hasOwn(table, name) ? table[name] : undefined);

const { sdkMethods } = (await import(pathToFileURL(join(root, 'scripts/sdk-methods.mjs')).href)) as { sdkMethods: () => string[] };
const methods = sdkMethods();

/** Starts a server and makes one delivered message, the state the calls build on. */
async function setUp(): Promise<Walk> {
  const rx = await new Receiver().start();
  const server = await startServer({ SWITCHBOARD_TRANSFORMATION_TIMEOUT_MS: '5000' });
  const svix = sdkClient(server.url, server.token);
  const since = new Date(Date.now() - 1000);
  const appId = (await svix.application.create({ name: 'Walk' })).id;
  const epId = (await svix.endpoint.create(appId, { url: rx.url('/hook') })).id;
  const pollerId = (await server.api('POST', `/api/v1/app/${appId}/polling-endpoint`, {})).body.id as string;
  const msgId = (await svix.message.create(appId, { eventType: 'order.paid', payload: { n: 1 } })).id;
  const [attempt] = await attemptsOf(server, appId, msgId);
  const sourceId = (await svix.ingest.source.create({ name: 'Walk source', type: 'generic-webhook' })).id;
  let n = 0;
  return {
    server,
    svix,
    rx,
    appId,
    epId,
    msgId,
    attemptId: attempt.id,
    pollerId,
    sourceId,
    since,
    freshEndpoint: async () => (await svix.endpoint.create(appId, { url: rx.url(`/fresh-${++n}`) })).id,
    ended: (taskId) =>
      eventually(async () => {
        const t = await svix.backgroundTask.get(taskId);
        return t.status === BackgroundTaskStatus.Running ? null : t;
      }, `task ${taskId} to end`),
  };
}

describe('every svix SDK method', () => {
  let walk: Walk;
  const shapes = watchSdkAnswers();
  before(async () => {
    walk = await setUp();
  });
  after(async () => {
    shapes.stop();
    await walk?.server.close();
    await walk?.rx.close();
  });

  it('the table names every method of the SDK, and only those', () => {
    assert.ok(methods.length > 100, `methods found by reflection: ${methods.length}`);
    const missing = methods.filter((m) => entryOf(m) === undefined);
    assert.deepEqual(missing, [], 'SDK methods the walk does not call: add them to the table');
    const stale = Object.keys(table).filter((name) => !methods.includes(name));
    assert.deepEqual(stale, [], 'table entries the SDK no longer has');
  });

  it("checks the answers against the SDK's models as it goes", () => {
    // Runs before the calls: what setting up made was checked.
    assert.ok(shapes.checked.length >= 4, `answers checked: ${shapes.checked.length}`);
    assert.ok(shapes.checked.some((a) => a.model === 'ApplicationOut') && shapes.checked.some((a) => a.model === 'IngestSourceOut'));
  });

  for (const name of methods) {
    const entry = entryOf(name);
    if (entry === undefined) continue;
    if (typeof entry !== 'function') {
      it(`${name} is covered by ${entry.coveredBy}`, () => {
        assert.ok(streamMethods(methods).includes(name), `${name} is not among the methods the streaming suite must call`);
      });
      continue;
    }
    it(name, async () => {
      const seen = shapes.violations.length;
      try {
        await entry(walk);
      } catch (e) {
        if (e instanceof ShapeError) assert.fail(`${name}: ${e.message}`);
        throw e;
      }
      // Also those the call caught (an expected rejection, a retried wait).
      assert.deepEqual(shapes.violations.slice(seen).map((e) => e.message), [], `${name}: answers that do not fit the SDK's models`);
    });
  }

  it("checked the answers of the calls against many of the SDK's models", () => {
    // Nearly every call reads an answer, each checked against a model of the SDK.
    const models = new Set(shapes.checked.map((a) => a.model));
    assert.ok(models.size >= 40, `models checked: ${models.size}`);
  });
});
