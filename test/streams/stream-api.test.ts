/**
 * The Stream API through the official `svix` SDK: every `streaming.*` method and the five
 * stream methods of `authentication`, then unhappy paths over raw HTTP (unknown sink type,
 * private URIs, bad batch size, unknown stream, idempotent appends, masked credentials), an
 * extension sink surviving SDK round trips, and a poller sink read by iterator, time and token.
 * The suite fails unless it called every one of those SDK methods (the SDK walk,
 * test/compatibility/sdk-walk.test.ts, leaves them to this suite).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Svix } from 'svix';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { apiError, sdkClient } from '../helpers/svix-sdk.js';
import { recordSdkCalls, streamMethods } from '../helpers/sdk-calls.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const { sdkMethods } = (await import(pathToFileURL(join(root, 'scripts/sdk-methods.mjs')).href)) as { sdkMethods: () => string[] };

describe('the Stream API with the svix SDK', () => {
  let server: TestServer;
  let svix: Svix;
  let streamId: string;
  let httpSinkId: string;
  let pollerId: string;

  // Every stream method of the pinned SDK must be called by this suite, by any client.
  let calls: ReturnType<typeof recordSdkCalls> | undefined;
  before(() => {
    calls = recordSdkCalls();
  });
  before(async () => {
    server = await startServer();
    svix = sdkClient(server.url, server.token);
    streamId = (await svix.streaming.stream.create({ name: 'orders', uid: 'orders', metadata: { team: 'shop' } })).id;
    httpSinkId = (await svix.streaming.sink.create(streamId, { type: 'http', config: { url: 'http://127.0.0.1:9/hook', key: 'sink-key-1' }, uid: 'hook' })).id;
    pollerId = (await svix.streaming.sink.create(streamId, { type: 'poller', config: {}, eventTypes: ['order.created'] })).id;
  });
  after(async () => server.close());
  // Last, so that the server is closed even when this fails.
  after(() => {
    calls?.stop();
    const expected = streamMethods(sdkMethods());
    assert.ok(expected.length > 20, `stream methods found by reflection: ${expected.length}`);
    assert.deepEqual(expected.filter((m) => calls?.ambiguous.has(m)), [], 'stream methods whose calls cannot be told apart');
    assert.deepEqual(expected.filter((m) => !calls?.called.has(m)), [], 'stream methods of the SDK this suite never called');
  });

  const raw = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => server.api(method, path, body, headers);

  describe('streaming.stream', () => {
    it('create', async () => {
      const s = await svix.streaming.stream.create({ name: 'made', uid: 'made-1' });
      assert.match(s.id, /^strm_/);
      assert.equal(s.name, 'made');
      assert.equal(s.uid, 'made-1');
      assert.ok(s.createdAt instanceof Date);
    });
    it('list', async () => {
      const page = await svix.streaming.stream.list({ limit: 1 });
      assert.equal(page.data.length, 1);
      assert.equal(page.done, false);
      const next = await svix.streaming.stream.list({ limit: 100, iterator: page.iterator! });
      assert.ok(next.data.length >= 1);
    });
    it('get (by id and by uid)', async () => {
      assert.equal((await svix.streaming.stream.get('orders')).id, streamId);
      assert.deepEqual((await svix.streaming.stream.get(streamId)).metadata, { team: 'shop' });
    });
    it('update', async () => {
      const s = await svix.streaming.stream.create({ name: 'to-update' });
      const u = await svix.streaming.stream.update(s.id, { name: 'updated', metadata: { a: 'b' } });
      assert.equal(u.name, 'updated');
      assert.deepEqual(u.metadata, { a: 'b' });
    });
    it('patch', async () => {
      const s = await svix.streaming.stream.create({ name: 'to-patch', metadata: { keep: 'me' } });
      const p = await svix.streaming.stream.patch(s.id, { uid: 'patched-uid' });
      assert.equal(p.uid, 'patched-uid');
      assert.equal(p.name, 'to-patch');
      assert.deepEqual(p.metadata, { keep: 'me' });
    });
    it('delete', async () => {
      const s = await svix.streaming.stream.create({ name: 'to-delete' });
      await svix.streaming.stream.delete(s.id);
      await assert.rejects(svix.streaming.stream.get(s.id), apiError(404));
    });
  });

  describe('streaming.event_type', () => {
    it('create', async () => {
      const et = await svix.streaming.event_type.create({ name: 'order.created', description: 'an order', featureFlags: ['beta'] });
      assert.equal(et.name, 'order.created');
      assert.equal(et.archived, false);
      assert.deepEqual(et.featureFlags, ['beta']);
    });
    it('list', async () => {
      await svix.streaming.event_type.create({ name: 'order.archived', archived: true });
      const live = await svix.streaming.event_type.list();
      assert.ok(!live.data.some((e) => e.name === 'order.archived'));
      const all = await svix.streaming.event_type.list({ includeArchived: true });
      assert.ok(all.data.some((e) => e.name === 'order.archived'));
    });
    it('get', async () => {
      await svix.streaming.event_type.create({ name: 'order.get' });
      assert.equal((await svix.streaming.event_type.get('order.get')).name, 'order.get');
    });
    it('update', async () => {
      const et = await svix.streaming.event_type.update('order.put', { name: 'order.put', description: 'made by PUT' });
      assert.equal(et.description, 'made by PUT');
      assert.equal((await svix.streaming.event_type.update('order.put', { name: 'order.put', deprecated: true })).deprecated, true);
    });
    it('patch', async () => {
      await svix.streaming.event_type.create({ name: 'order.patch', description: 'before' });
      const et = await svix.streaming.event_type.patch('order.patch', { description: 'after' });
      assert.equal(et.description, 'after');
    });
    it('delete (archives; expunge deletes)', async () => {
      await svix.streaming.event_type.create({ name: 'order.delete' });
      await svix.streaming.event_type.delete('order.delete');
      assert.equal((await svix.streaming.event_type.get('order.delete')).archived, true);
      await svix.streaming.event_type.delete('order.delete', { expunge: true });
      await assert.rejects(svix.streaming.event_type.get('order.delete'), apiError(404));
    });
  });

  describe('streaming.sink', () => {
    it('create', async () => {
      const s = await svix.streaming.sink.create(streamId, {
        type: 'rabbitMq',
        config: { uri: 'amqp://guest:guest@127.0.0.1:5672/%2f', routingKey: 'orders' },
        batchSize: 10,
      });
      assert.match(s.id, /^sink_/);
      assert.equal(s.type, 'rabbitMq');
      assert.equal(s.batchSize, 10);
      assert.equal(s.maxWaitSecs, 0);
      assert.equal(s.status, 'enabled');
      assert.equal(s.currentIterator, '0');
      assert.deepEqual(s.config, { uri: 'amqp://guest:***@127.0.0.1:5672/%2f', routingKey: 'orders' });
    });
    it('list', async () => {
      const page = await svix.streaming.sink.list(streamId, { limit: 1 });
      assert.equal(page.data.length, 1);
      assert.equal(page.done, false);
    });
    it('get', async () => {
      const s = await svix.streaming.sink.get(streamId, 'hook');
      assert.equal(s.id, httpSinkId);
      assert.equal(s.type, 'http');
      assert.equal((s.config as { url: string }).url, 'http://127.0.0.1:9/hook');
      assert.equal((s.config as { key?: string }).key, undefined, 'the key is not shown');
    });
    it('update', async () => {
      const s = await svix.streaming.sink.create(streamId, { type: 'http', config: { url: 'http://127.0.0.1:9/a' } });
      const u = await svix.streaming.sink.update(streamId, s.id, { type: 'http', config: { url: 'http://127.0.0.1:9/b' }, batchSize: 5, status: 'disabled' as never });
      assert.equal(u.type, 'http');
      assert.equal((u.config as { url: string }).url, 'http://127.0.0.1:9/b');
      assert.equal(u.batchSize, 5);
      assert.equal(u.status, 'disabled');
    });
    it('patch', async () => {
      const s = await svix.streaming.sink.create(streamId, { type: 'http', config: { url: 'http://127.0.0.1:9/p' }, metadata: { k: 'v' } });
      const p = await svix.streaming.sink.patch(streamId, s.id, { type: 'http', config: {}, maxWaitSecs: 30, status: 'enabled' as never });
      assert.equal(p.maxWaitSecs, 30);
      assert.equal((p.config as { url: string }).url, 'http://127.0.0.1:9/p');
      assert.deepEqual(p.metadata, { k: 'v' });
    });
    it('delete', async () => {
      const s = await svix.streaming.sink.create(streamId, { type: 'poller' });
      await svix.streaming.sink.delete(streamId, s.id);
      await assert.rejects(svix.streaming.sink.get(streamId, s.id), apiError(404));
    });
    it('transformationPartialUpdate', async () => {
      await svix.streaming.sink.transformationPartialUpdate(streamId, httpSinkId, { code: 'function handler(webhook) { return webhook; }' });
      const t = await svix.streaming.sinkTransformationGet(streamId, httpSinkId);
      assert.equal(t.enabled, true);
      await assert.rejects(svix.streaming.sink.transformationPartialUpdate(streamId, httpSinkId, { code: 'this is not javascript (' }), apiError(422));
    });
    it('getSecret', async () => {
      const s = await svix.streaming.sink.getSecret(streamId, httpSinkId);
      assert.match(s.key!, /^whsec_/);
    });
    it('rotateSecret', async () => {
      const before = (await svix.streaming.sink.getSecret(streamId, httpSinkId)).key;
      await svix.streaming.sink.rotateSecret(streamId, httpSinkId);
      const after = (await svix.streaming.sink.getSecret(streamId, httpSinkId)).key;
      assert.match(after!, /^whsec_/);
      assert.notEqual(after, before);
    });
  });

  describe('streaming (sink settings)', () => {
    it('sinkTransformationGet', async () => {
      const s = await svix.streaming.sink.create(streamId, { type: 'http', config: { url: 'http://127.0.0.1:9/t' } });
      const t = await svix.streaming.sinkTransformationGet(streamId, s.id);
      assert.equal(t.enabled, false);
      assert.equal(t.code ?? null, null);
    });
    it('sinkHeadersPatch', async () => {
      const h = await svix.streaming.sinkHeadersPatch(streamId, httpSinkId, { headers: { 'x-team': 'shop', authorization: 'Bearer s3cret' } });
      assert.deepEqual(h.headers, { 'x-team': 'shop' });
      assert.deepEqual(h.sensitive, ['authorization']);
    });
    it('sinkHeadersGet', async () => {
      await svix.streaming.sinkHeadersPatch(streamId, httpSinkId, { headers: { 'x-get': '1' } });
      const h = await svix.streaming.sinkHeadersGet(streamId, httpSinkId);
      assert.equal(h.headers['x-get'], '1');
    });
  });

  describe('streaming.events', () => {
    it('create (and the stream on the way)', async () => {
      await svix.streaming.events.create('made-on-append', { events: [{ eventType: 'order.created', payload: '{"n":1}' }], stream: { name: 'made on append' } });
      const s = await svix.streaming.stream.get('made-on-append');
      assert.equal(s.name, 'made on append');
      await assert.rejects(svix.streaming.events.create('no-such-stream', { events: [{ eventType: 'a', payload: '{}' }] }), apiError(404));
    });
    it('get', async () => {
      const s = await svix.streaming.stream.create({ name: 'events-get' });
      const p = await svix.streaming.sink.create(s.id, { type: 'poller' });
      await svix.streaming.events.create(s.id, { events: [{ eventType: 'a', payload: '{"n":1}' }, { eventType: 'b', payload: '{"n":2}' }] });
      const page = await svix.streaming.events.get(s.id, p.id, { limit: 10 });
      assert.deepEqual(page.data.map((e) => e.payload), ['{"n":1}', '{"n":2}']);
      assert.ok(page.data[0]!.timestamp instanceof Date);
      assert.equal(page.done, true);
      assert.equal(page.iterator, '2');
    });
  });

  describe('authentication (streams)', () => {
    it('streamPortalAccess gives a token limited to its stream', async () => {
      const out = await svix.authentication.streamPortalAccess(streamId, { expiry: 3600, sessionId: 's1' });
      assert.match(out.url, /\/portal#token=/);
      const portal = sdkClient(server.url, out.token);
      assert.equal((await portal.streaming.sink.get(streamId, httpSinkId)).id, httpSinkId);
      const other = await svix.streaming.stream.create({ name: 'not yours' });
      await assert.rejects(portal.streaming.sink.list(other.id), apiError(404));
      await assert.rejects(portal.streaming.stream.list(), apiError(403));
      await assert.rejects(portal.streaming.events.create(streamId, { events: [{ eventType: 'a', payload: '{}' }] }), apiError(403));
      assert.equal((await portal.streaming.events.get(streamId, pollerId)).done, true, 'the portal reads its pollers');
    });
    it('streamLogout', async () => {
      const out = await svix.authentication.streamPortalAccess(streamId, {});
      const portal = sdkClient(server.url, out.token);
      await portal.authentication.streamLogout();
      await assert.rejects(portal.streaming.stream.get(streamId), apiError(401));
    });
    it('streamExpireAll', async () => {
      const a = await svix.authentication.streamPortalAccess(streamId, { sessionId: 'gone' });
      const b = await svix.authentication.streamPortalAccess(streamId, { sessionId: 'kept' });
      await svix.authentication.streamExpireAll(streamId, { sessionIds: ['gone'] });
      await assert.rejects(sdkClient(server.url, a.token).streaming.stream.get(streamId), apiError(401));
      assert.equal((await sdkClient(server.url, b.token).streaming.stream.get(streamId)).id, streamId);
      await svix.authentication.streamExpireAll(streamId);
      await assert.rejects(sdkClient(server.url, b.token).streaming.stream.get(streamId), apiError(401));
    });
    it('getStreamPollerToken', async () => {
      const t = await svix.authentication.getStreamPollerToken(streamId, pollerId);
      assert.match(t.token, /^sb_sinkpoll_/);
      assert.equal((await svix.authentication.getStreamPollerToken(streamId, pollerId)).token, t.token, 'the same token until rotated');
      await assert.rejects(svix.authentication.getStreamPollerToken(streamId, httpSinkId), apiError(400));
    });
    it('rotateStreamPollerToken', async () => {
      const old = await svix.authentication.getStreamPollerToken(streamId, pollerId);
      const fresh = await svix.authentication.rotateStreamPollerToken(streamId, pollerId, { oldTokenExpiry: 0 });
      assert.notEqual(fresh.token, old.token);
      assert.equal((await svix.authentication.getStreamPollerToken(streamId, pollerId)).token, fresh.token);
      await assert.rejects(sdkClient(server.url, old.token).streaming.events.get(streamId, pollerId), apiError(401));
      assert.equal((await sdkClient(server.url, fresh.token).streaming.events.get(streamId, pollerId)).done, true);
    });
  });

  describe('unhappy paths over raw HTTP', () => {
    it('refuses an unknown sink type, naming the supported ones', async () => {
      const r = await raw('POST', `/api/v1/stream/${streamId}/sink`, { type: 'amazonS3', config: { bucket: 'b' } });
      assert.equal(r.status, 422);
      assert.match(JSON.stringify(r.body), /supported types: poller, http, rabbitMq, redis, natsJetStream, mqtt/);
    });
    it('refuses private URIs of every type, naming the setting', async () => {
      const cases = [
        { type: 'http', config: { url: 'http://10.0.0.1/hook' } },
        { type: 'rabbitMq', config: { uri: 'amqp://10.1.2.3', routingKey: 'k' } },
        { type: 'redis', config: { uri: 'redis://192.168.1.1:6379', streamKey: 'k' } },
        { type: 'natsJetStream', config: { url: 'nats://10.0.0.2:4222', subject: 's' } },
        { type: 'mqtt', config: { url: 'mqtt://172.16.0.1', topic: 't' } },
      ];
      for (const c of cases) {
        const r = await raw('POST', `/api/v1/stream/${streamId}/sink`, c);
        assert.equal(r.status, 422, `${c.type}: ${JSON.stringify(r.body)}`);
        assert.match(JSON.stringify(r.body), /SWITCHBOARD_ALLOWED_NETWORKS/);
      }
    });
    it('refuses a URI scheme that does not fit the type', async () => {
      const r = await raw('POST', `/api/v1/stream/${streamId}/sink`, { type: 'redis', config: { uri: 'http://127.0.0.1:6379', streamKey: 'k' } });
      assert.equal(r.status, 422);
      assert.match(JSON.stringify(r.body), /redis or rediss/);
    });
    it('refuses a batch size out of range', async () => {
      for (const batchSize of [0, 1001]) {
        const r = await raw('POST', `/api/v1/stream/${streamId}/sink`, { type: 'poller', batchSize });
        assert.equal(r.status, 422);
      }
      const r = await raw('POST', `/api/v1/stream/${streamId}/sink`, { type: 'poller', maxWaitSecs: 301 });
      assert.equal(r.status, 422);
    });
    it('answers 404 for an unknown stream', async () => {
      assert.equal((await raw('GET', '/api/v1/stream/strm_nope')).status, 404);
      assert.equal((await raw('GET', '/api/v1/stream/strm_nope/sink')).status, 404);
      assert.equal((await raw('POST', '/api/v1/stream/strm_nope/events', { events: [{ eventType: 'a', payload: '{}' }] })).status, 404);
    });
    it('appends once for one idempotency key', async () => {
      const s = await svix.streaming.stream.create({ name: 'idem' });
      const p = await svix.streaming.sink.create(s.id, { type: 'poller' });
      const body = { events: [{ eventType: 'a', payload: '{"once":true}' }] };
      const first = await raw('POST', `/api/v1/stream/${s.id}/events`, body, { 'idempotency-key': 'k-1' });
      const second = await raw('POST', `/api/v1/stream/${s.id}/events`, body, { 'idempotency-key': 'k-1' });
      assert.equal(first.status, 202);
      assert.equal(second.status, 202);
      assert.equal(second.headers.get('idempotent-replayed'), 'true');
      const page = await svix.streaming.events.get(s.id, p.id);
      assert.equal(page.data.length, 1);
    });
    it('masks credentials and keeps them when the masked value is sent back', async () => {
      const r = await raw('POST', `/api/v1/stream/${streamId}/sink`, { type: 'rabbitMq', config: { uri: 'amqp://user:pa55word@127.0.0.1:5672/', routingKey: 'r' } });
      assert.equal(r.status, 201);
      assert.ok(!JSON.stringify(r.body).includes('pa55word'));
      const id = r.body.id as string;
      const put = await raw('PUT', `/api/v1/stream/${streamId}/sink/${id}`, { type: 'rabbitMq', config: { uri: r.body.config.uri, routingKey: 'r2' } });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      assert.equal(put.body.config.routingKey, 'r2');
      const stored = await server.sb.store.streams.getSink(streamId, id);
      assert.equal(JSON.parse(stored!.config).uri, 'amqp://user:pa55word@127.0.0.1:5672/');
    });
  });

  describe('extension sinks and the SDK', () => {
    it('a redis sink made over raw HTTP survives list, get, update and patch through the SDK', async () => {
      const r = await raw('POST', `/api/v1/stream/${streamId}/sink`, { type: 'redis', config: { uri: 'redis://:hunter2@127.0.0.1:6379/0', streamKey: 'orders' }, uid: 'cache' });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      assert.equal(r.body.type, 'http');
      assert.deepEqual(r.body.extension, { type: 'redis', config: { uri: 'redis://:***@127.0.0.1:6379/0', streamKey: 'orders', maxLen: 10000 } });
      const id = r.body.id as string;
      const list = await svix.streaming.sink.list(streamId, { limit: 250 });
      assert.ok(list.data.some((s) => s.id === id));
      const got = await svix.streaming.sink.get(streamId, id);
      assert.equal(got.type, 'http');
      const url = (got.config as { url: string }).url;
      const updated = await svix.streaming.sink.update(streamId, id, { type: 'http', config: { url }, batchSize: 20 });
      assert.equal(updated.batchSize, 20);
      const patched = await svix.streaming.sink.patch(streamId, id, { type: 'http', config: { url }, maxWaitSecs: 5 });
      assert.equal(patched.maxWaitSecs, 5);
      const stored = await server.sb.store.streams.getSink(streamId, id);
      assert.equal(stored?.type, 'redis');
      assert.deepEqual(JSON.parse(stored.config), { uri: 'redis://:hunter2@127.0.0.1:6379/0', streamKey: 'orders', maxLen: 10000 });
      assert.equal(stored?.batchSize, 20);
    });

    it('a rabbitMq sink keeps its exchange through an SDK update, whose model has no exchange field', async () => {
      const r = await raw('POST', `/api/v1/stream/${streamId}/sink`, { type: 'rabbitMq', config: { uri: 'amqp://billing:s3cret@127.0.0.1:5672', routingKey: 'paid', exchange: 'orders' } });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const id = r.body.id as string;
      const got = await svix.streaming.sink.get(streamId, id);
      assert.equal(got.type, 'rabbitMq');
      const { uri, routingKey } = got.config;
      await svix.streaming.sink.update(streamId, id, { type: 'rabbitMq', config: { uri, routingKey }, batchSize: 7 });
      const stored = await server.sb.store.streams.getSink(streamId, id);
      assert.deepEqual(JSON.parse(stored!.config), { uri: 'amqp://billing:s3cret@127.0.0.1:5672', routingKey: 'paid', exchange: 'orders' });
      assert.equal(stored?.batchSize, 7);
    });
  });

  describe('appending wakes the sink dispatcher', () => {
    it('emits stream.events.appended with the last seq, once per append that stored events', async () => {
      const s = await svix.streaming.stream.create({ name: 'bus' });
      const heard: unknown[] = [];
      const off = server.sb.bus.on((e) => {
        if (e.kind === 'stream.events.appended' && e.streamId === s.id) heard.push(e);
      });
      try {
        await svix.streaming.events.create(s.id, { events: [{ eventType: 'a', payload: '1' }, { eventType: 'a', payload: '2' }] });
        await svix.streaming.events.create(s.id, { events: [{ eventType: 'a', payload: '3' }] });
      } finally {
        off();
      }
      assert.deepEqual(heard, [
        { kind: 'stream.events.appended', streamId: s.id, lastSeq: 2 },
        { kind: 'stream.events.appended', streamId: s.id, lastSeq: 3 },
      ]);
    });
  });

  describe('sink status on change', () => {
    it('a paused sink is enabled again by a config change or status enabled; a retrying one only by status', async () => {
      const sink = await svix.streaming.sink.create(streamId, { type: 'http', config: { url: 'http://127.0.0.1:9/status' } });
      const stored = async () => (await server.sb.store.streams.getSink(streamId, sink.id))!;
      const failing = { failures: 3, failureReason: 'wrong credentials', nextRetryAt: Date.now() + 60_000 };
      await server.sb.store.streams.updateSink({ ...(await stored()), status: 'paused', ...failing });
      assert.equal((await svix.streaming.sink.patch(streamId, sink.id, { type: 'http', config: {}, batchSize: 3 })).status, 'paused');
      const changed = await svix.streaming.sink.patch(streamId, sink.id, { type: 'http', config: { url: 'http://127.0.0.1:9/fixed' } });
      assert.equal(changed.status, 'enabled');
      assert.equal(changed.failureReason ?? null, null);
      assert.equal(changed.nextRetryAt ?? null, null);
      assert.equal((await stored()).failures, 0);
      await server.sb.store.streams.updateSink({ ...(await stored()), status: 'retrying', ...failing });
      const kept = await svix.streaming.sink.update(streamId, sink.id, { type: 'http', config: { url: 'http://127.0.0.1:9/again' } });
      assert.equal(kept.status, 'retrying');
      assert.equal(kept.failureReason, 'wrong credentials');
      assert.ok(kept.nextRetryAt instanceof Date);
      const enabled = await svix.streaming.sink.patch(streamId, sink.id, { type: 'http', config: {}, status: 'enabled' as never });
      assert.equal(enabled.status, 'enabled');
      assert.equal((await stored()).failures, 0);
    });
  });

  describe('extensions: replay and attempts', () => {
    it('replay moves the cursor to an iterator or a time; attempts are listed', async () => {
      const s = await svix.streaming.stream.create({ name: 'replay' });
      const sink = await svix.streaming.sink.create(s.id, { type: 'poller' });
      await svix.streaming.events.create(s.id, { events: [{ eventType: 'a', payload: '1' }, { eventType: 'a', payload: '2' }, { eventType: 'a', payload: '3' }] });
      await svix.streaming.events.get(s.id, sink.id);
      assert.equal((await svix.streaming.sink.get(s.id, sink.id)).currentIterator, '3');
      const r = await raw('POST', `/api/v1/stream/${s.id}/sink/${sink.id}/replay`, { iterator: '1' });
      assert.equal(r.status, 202);
      assert.equal(r.body.currentIterator, '1');
      assert.deepEqual((await svix.streaming.events.get(s.id, sink.id)).data.map((e) => e.payload), ['2', '3']);
      const since = await raw('POST', `/api/v1/stream/${s.id}/sink/${sink.id}/replay`, { since: new Date(0).toISOString() });
      assert.equal(since.body.currentIterator, '0');
      const attempts = await raw('GET', `/api/v1/stream/${s.id}/sink/${sink.id}/attempt`);
      assert.equal(attempts.status, 200);
      assert.deepEqual(attempts.body.data, []);
    });
  });

  describe('poller sinks', () => {
    it('reads by iterator, time and limit, only the sink’s event types, and follows with done', async () => {
      const s = await svix.streaming.stream.create({ name: 'poll' });
      const p = await svix.streaming.sink.create(s.id, { type: 'poller', eventTypes: ['keep'] });
      const t0 = new Date();
      await svix.streaming.events.create(s.id, {
        events: [
          { eventType: 'keep', payload: 'k1' },
          { eventType: 'drop', payload: 'd1' },
          { eventType: 'keep', payload: 'k2' },
          { eventType: 'keep', payload: 'k3' },
        ],
      });
      const first = await svix.streaming.events.get(s.id, p.id, { limit: 2, iterator: '0' });
      assert.deepEqual(first.data.map((e) => e.payload), ['k1', 'k2']);
      assert.equal(first.done, false);
      const second = await svix.streaming.events.get(s.id, p.id, { limit: 2, iterator: first.iterator });
      assert.deepEqual(second.data.map((e) => e.payload), ['k3']);
      assert.equal(second.done, true);
      const empty = await svix.streaming.events.get(s.id, p.id, { iterator: second.iterator });
      assert.deepEqual(empty.data, []);
      assert.equal(empty.iterator, second.iterator);
      const fromTime = await svix.streaming.events.get(s.id, p.id, { after: new Date(t0.getTime() - 1000) });
      assert.deepEqual(fromTime.data.map((e) => e.payload), ['k1', 'k2', 'k3']);
      const bad = await raw('GET', `/api/v1/stream/${s.id}/sink/${p.id}/events?iterator=not-an-iterator`);
      assert.equal(bad.status, 422);
    });
    it('a poller token reads its sink only', async () => {
      const s = await svix.streaming.stream.create({ name: 'poll-token' });
      const mine = await svix.streaming.sink.create(s.id, { type: 'poller' });
      const other = await svix.streaming.sink.create(s.id, { type: 'poller' });
      await svix.streaming.events.create(s.id, { events: [{ eventType: 'a', payload: 'x' }] });
      const token = (await svix.authentication.getStreamPollerToken(s.id, mine.id)).token;
      const poller = sdkClient(server.url, token);
      assert.deepEqual((await poller.streaming.events.get(s.id, mine.id)).data.map((e) => e.payload), ['x']);
      await assert.rejects(poller.streaming.events.get(s.id, other.id), apiError(403));
      await assert.rejects(poller.streaming.sink.get(s.id, mine.id), apiError(403));
      await assert.rejects(poller.streaming.events.get(streamId, pollerId), apiError(404));
      await assert.rejects(poller.streaming.stream.list(), apiError(403));
    });
  });
});
