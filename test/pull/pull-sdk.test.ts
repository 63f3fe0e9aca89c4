/**
 * Polling endpoints through the official `svix` SDK (`message.poller`): polls with
 * iterators and filters, consumers with a server-kept cursor, seek, poller tokens, HTTP
 * caching, the retention boundary and the management API.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Svix } from 'svix';
import type { PollingEndpointOut } from 'svix';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { rawRows } from '../helpers/raw-db.js';
import { apiError } from '../helpers/svix-sdk.js';

const ids = (p: PollingEndpointOut): string[] => p.data.map((m) => m.id);

describe('polling endpoints with the svix SDK', () => {
  let server: TestServer;
  let svix: Svix;
  let appId: string;
  /** Message ids in publish order, by event type. */
  const sent: { id: string; eventType: string; channels?: string[]; at: Date }[] = [];

  const sdk = (token: string) => new Svix(token, { serverUrl: server.url, retryScheduleInMs: [] });

  async function publish(eventType: string, payload: Record<string, unknown>, channels?: string[]): Promise<string> {
    const m = await svix.message.create(appId, { eventType, payload, channels });
    sent.push({ id: m.id, eventType, channels, at: m.timestamp });
    return m.id;
  }

  async function pollingEndpoint(body: Record<string, unknown>): Promise<{ id: string; uid?: string }> {
    const r = await server.api('POST', `/api/v1/app/${appId}/polling-endpoint`, body);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body;
  }

  async function tokenOf(pe: string): Promise<string> {
    const r = await server.api('GET', `/api/v1/auth/app/${appId}/poller/${pe}/token`);
    assert.equal(r.status, 200);
    return r.body.token;
  }

  before(async () => {
    server = await startServer();
    svix = sdk(server.token);
    appId = (await svix.application.create({ name: 'pull', uid: 'pull-app' })).id;
    await publish('order.created', { n: 1 }, ['eu']);
    await publish('user.created', { n: 2 });
    await publish('order.created', { n: 3, text: 'ünïcödé "quoted"' });
    await publish('order.paid', { n: 4 }, ['us', 'eu']);
    await publish('order.created', { n: 5 });
    await publish('order.created', { n: 6 }, ['us']);
    await publish('order.created', { n: 7 });
  });
  after(async () => server.close());

  it('polls page by page, filtered by the endpoint and by the query', async () => {
    const pe = await pollingEndpoint({ uid: 'orders', filterTypes: ['order.created', 'order.paid'] });
    const want = sent.filter((m) => m.eventType.startsWith('order.')).map((m) => m.id);
    const got: string[] = [];
    let iterator: string | null = null;
    let pages = 0;
    for (; pages < 10; pages++) {
      const p = await svix.message.poller.poll(appId, 'orders', { limit: 2, iterator });
      got.push(...ids(p));
      iterator = p.iterator;
      if (p.done) break;
    }
    assert.deepEqual(got, want);
    assert.equal(pages, 2, 'six messages in pages of two: the third page says done');
    const empty = await svix.message.poller.poll(appId, pe.id, { iterator });
    assert.deepEqual(empty.data, []);
    assert.equal(empty.iterator, iterator, 'an empty answer keeps the iterator usable');

    const first = (await svix.message.poller.poll(appId, pe.id, { limit: 1 })).data[0]!;
    assert.equal(first.eventType, 'order.created');
    assert.deepEqual(first.payload, { n: 1 });
    assert.deepEqual(first.channels, ['eu']);

    assert.deepEqual(ids(await svix.message.poller.poll(appId, pe.id, { eventType: 'order.paid' })), [sent[3]!.id]);
    assert.deepEqual(ids(await svix.message.poller.poll(appId, pe.id, { eventType: 'user.created' })), [], 'the endpoint does not allow it');
    assert.deepEqual(ids(await svix.message.poller.poll(appId, pe.id, { channel: 'us' })), [sent[3]!.id, sent[5]!.id]);
    const afterThird = await svix.message.poller.poll(appId, pe.id, { after: sent[2]!.at });
    assert.deepEqual(ids(afterThird), want.filter((id) => sent.findIndex((m) => m.id === id) > 2));
  });

  it('filters a polling endpoint by channels', async () => {
    const pe = await pollingEndpoint({ channels: ['eu'] });
    assert.deepEqual(ids(await svix.message.poller.poll(appId, pe.id)), [sent[0]!.id, sent[3]!.id]);
  });

  it('keeps a cursor per consumer: a batch comes again until its iterator is passed back; seek moves it', async () => {
    const pe = await pollingEndpoint({});
    const all = sent.map((m) => m.id);
    const b1 = await svix.message.poller.consumerPoll(appId, pe.id, 'worker-1', { limit: 3 });
    assert.deepEqual(ids(b1), all.slice(0, 3));
    const again = await svix.message.poller.consumerPoll(appId, pe.id, 'worker-1', { limit: 3 });
    assert.deepEqual(ids(again), all.slice(0, 3), 'a consumer that crashed mid-batch gets the batch again');
    const b2 = await svix.message.poller.consumerPoll(appId, pe.id, 'worker-1', { limit: 3, iterator: b1.iterator });
    assert.deepEqual(ids(b2), all.slice(3, 6), 'passing the iterator back commits the first batch');
    const resumed = await svix.message.poller.consumerPoll(appId, pe.id, 'worker-1', { limit: 3 });
    assert.deepEqual(ids(resumed), all.slice(3, 6));
    const b3 = await svix.message.poller.consumerPoll(appId, pe.id, 'worker-1', { iterator: b2.iterator });
    assert.deepEqual(ids(b3), all.slice(6));
    assert.equal(b3.done, true);

    assert.deepEqual(ids(await svix.message.poller.consumerPoll(appId, pe.id, 'worker-2', { limit: 2 })), all.slice(0, 2), 'consumers are independent');

    const seek = await svix.message.poller.consumerSeek(appId, pe.id, 'worker-1', { after: sent[4]!.at });
    assert.equal(typeof seek.iterator, 'string');
    assert.deepEqual(ids(await svix.message.poller.consumerPoll(appId, pe.id, 'worker-1')), all.slice(5), 'after the seek time');
    const toStart = await svix.message.poller.consumerSeek(appId, pe.id, 'worker-3', { after: new Date(0) });
    assert.deepEqual(ids(await svix.message.poller.consumerPoll(appId, pe.id, 'worker-3', { iterator: toStart.iterator })), all);
  });

  it('gives tokens that read one polling endpoint and nothing else, rotates them', async () => {
    const pe = await pollingEndpoint({ uid: 'tokened' });
    const other = await pollingEndpoint({});
    const token = await tokenOf('tokened');
    assert.match(token, /^sb_poller_[A-Za-z0-9_-]{43,}$/, 'a readable prefix and at least 32 random bytes');
    const row = (await rawRows(server.sb.store, 'SELECT token_hash, sealed FROM poller_tokens WHERE polling_endpoint_id = ?', pe.id))[0] as { token_hash: string; sealed: string };
    assert.equal(row.token_hash, createHash('sha256').update(token).digest('hex'));
    assert.ok(!row.sealed.includes(token), 'the token is not kept in plaintext');

    const poller = sdk(token);
    assert.equal((await poller.message.poller.poll(appId, pe.id)).data.length, sent.length);
    assert.equal((await poller.message.poller.consumerPoll(appId, 'tokened', 'c')).data.length, sent.length);
    await poller.message.poller.consumerSeek(appId, pe.id, 'c', { after: new Date() });
    await assert.rejects(poller.message.poller.poll(appId, other.id), apiError(404, 'not_found'));
    await assert.rejects(poller.message.list(appId), apiError(403, 'forbidden'));
    await assert.rejects(poller.application.list(), apiError(403, 'forbidden'));

    // Rotation: the new token works at once; the old one for oldTokenExpiry seconds (default 300).
    const rotated = await server.api('POST', `/api/v1/auth/app/${appId}/poller/${pe.id}/token/rotate`, {});
    assert.equal(rotated.status, 201);
    assert.notEqual(rotated.body.token, token);
    assert.equal(await tokenOf(pe.id), rotated.body.token, 'GET shows the current token');
    assert.equal((await sdk(rotated.body.token).message.poller.poll(appId, pe.id, { limit: 1 })).data.length, 1);
    assert.equal((await poller.message.poller.poll(appId, pe.id, { limit: 1 })).data.length, 1, 'the old token still works for a while');
    const revoked = await server.api('POST', `/api/v1/auth/app/${appId}/poller/${pe.id}/token/rotate`, { oldTokenExpiry: 0 });
    assert.equal(revoked.status, 201);
    await assert.rejects(poller.message.poller.poll(appId, pe.id), apiError(401));
    await assert.rejects(sdk(rotated.body.token).message.poller.poll(appId, pe.id), apiError(401));
    assert.equal((await sdk(revoked.body.token).message.poller.poll(appId, pe.id, { limit: 1 })).data.length, 1);
    assert.equal((await server.api('POST', `/api/v1/auth/app/${appId}/poller/${pe.id}/token/rotate`, { oldTokenExpiry: 86_401 })).status, 422);
  });

  it('answers conditional reads with 304 and hints the poll interval', async () => {
    const pe = await pollingEndpoint({});
    const path = `/api/v1/app/${appId}/poller/${pe.id}?limit=3`;
    const first = await server.api('GET', path);
    const etag = first.headers.get('etag');
    assert.ok(etag);
    assert.equal(first.headers.get('x-poll-interval'), '0', 'more is waiting: poll again at once');
    const same = await server.api('GET', path, undefined, { 'if-none-match': etag });
    assert.equal(same.status, 304);
    assert.equal(same.body, null);
    const end = await server.api('GET', `/api/v1/app/${appId}/poller/${pe.id}?iterator=${first.body.iterator}`);
    assert.equal(end.headers.get('x-poll-interval'), '5', 'caught up: the configured interval');
    const tail = `/api/v1/app/${appId}/poller/${pe.id}?iterator=${end.body.iterator}`;
    const idle = await server.api('GET', tail);
    assert.equal((await server.api('GET', tail, undefined, { 'if-none-match': idle.headers.get('etag')! })).status, 304, 'nothing new: nothing sent');
    await publish('order.created', { n: 8 });
    const changed = await server.api('GET', tail, undefined, { 'if-none-match': idle.headers.get('etag')! });
    assert.equal(changed.status, 200);
    assert.equal(changed.body.data.length, 1);
    for (const p of [`/api/v1/app/${appId}/polling-endpoint`, `/api/v1/app/${appId}/polling-endpoint/${pe.id}`, `/api/v1/app/${appId}/msg/${sent[0]!.id}`, `/api/v1/app/${appId}/msg`]) {
      const r = await server.api('GET', p);
      assert.equal(r.status, 200);
      assert.equal((await server.api('GET', p, undefined, { 'if-none-match': `"other", ${r.headers.get('etag')}` })).status, 304, p);
    }
  });

  it('answers 410 for an iterator or cursor past the retention horizon, never a silent skip', async () => {
    const app2 = (await svix.application.create({ name: 'retention' })).id;
    const pe = (await server.api('POST', `/api/v1/app/${app2}/polling-endpoint`, {})).body.id as string;
    const m: string[] = [];
    for (let i = 0; i < 4; i++) m.push((await svix.message.create(app2, { eventType: 'r.e', payload: { i } })).id);
    const start = await svix.message.poller.poll(app2, pe, { limit: 1 });
    await svix.message.poller.consumerPoll(app2, pe, 'slow', { limit: 1 });
    // Retention deletes the two oldest messages.
    await rawRows(server.sb.store, 'DELETE FROM messages WHERE id IN (?, ?)', m[0], m[1]);
    await assert.rejects(svix.message.poller.poll(app2, pe, { iterator: start.iterator }), apiError(410, 'iterator_expired'));
    await assert.rejects(svix.message.poller.consumerPoll(app2, pe, 'slow'), apiError(410, 'iterator_expired'));
    assert.deepEqual(ids(await svix.message.poller.poll(app2, pe)), m.slice(2), 'without an iterator: from the oldest retained');
    await svix.message.poller.consumerSeek(app2, pe, 'slow', { after: new Date(0) });
    assert.deepEqual(ids(await svix.message.poller.consumerPoll(app2, pe, 'slow')), m.slice(2), 'a seek recovers the consumer');
    assert.deepEqual(ids(await svix.message.poller.consumerPoll(app2, pe, 'new')), m.slice(2));
  });

  it('refuses bad input with clear errors', async () => {
    const pe = await pollingEndpoint({});
    await assert.rejects(svix.message.poller.poll(appId, pe.id, { iterator: 'msg_abc' }), apiError(422));
    await assert.rejects(svix.message.poller.poll(appId, pe.id, { iterator: '999999999999' }), apiError(422));
    await assert.rejects(svix.message.poller.poll(appId, 'nope'), apiError(404, 'not_found'));
    await assert.rejects(svix.message.poller.consumerPoll('no-such-app', pe.id, 'c'), apiError(404, 'not_found'));
    assert.equal((await server.api('GET', `/api/v1/app/${appId}/poller/${pe.id}?wait=31`)).status, 422);
    assert.equal((await server.api('GET', `/api/v1/app/${appId}/poller/${pe.id}?limit=0`)).status, 422);
    assert.equal((await server.api('POST', `/api/v1/app/${appId}/poller/${pe.id}/consumer/c/seek`, { after: 'yesterday' })).status, 422);
    assert.equal((await server.api('POST', `/api/v1/app/${appId}/polling-endpoint`, { filterTypes: ['bad type!'] })).status, 422);
  });

  it('manages polling endpoints', async () => {
    const created = await pollingEndpoint({ uid: 'managed', description: 'd', filterTypes: ['a.b'], channels: ['c'], metadata: { team: 'x' } });
    assert.match(created.id, /^poll_[0-9A-Za-z]{27}$/);
    assert.equal((await server.api('POST', `/api/v1/app/${appId}/polling-endpoint`, { uid: 'managed' })).status, 409);
    const got = await server.api('GET', `/api/v1/app/${appId}/polling-endpoint/managed`);
    assert.deepEqual({ ...got.body, createdAt: undefined, updatedAt: undefined }, {
      id: created.id,
      uid: 'managed',
      description: 'd',
      filterTypes: ['a.b'],
      channels: ['c'],
      metadata: { team: 'x' },
      createdAt: undefined,
      updatedAt: undefined,
    });
    const patched = await server.api('PATCH', `/api/v1/app/${appId}/polling-endpoint/${created.id}`, { filterTypes: null, description: 'e' });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.filterTypes, undefined);
    assert.equal(patched.body.description, 'e');
    const list = await server.api('GET', `/api/v1/app/${appId}/polling-endpoint?limit=250`);
    assert.ok(list.body.data.some((p: { id: string }) => p.id === created.id));
    assert.equal((await server.api('DELETE', `/api/v1/app/${appId}/polling-endpoint/managed`)).status, 204);
    assert.equal((await server.api('GET', `/api/v1/app/${appId}/polling-endpoint/${created.id}`)).status, 404);
    await assert.rejects(svix.message.poller.poll(appId, created.id), apiError(404));
  });
});
