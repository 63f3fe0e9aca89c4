/**
 * A publish with an `idempotency-key` stores its response in the publish's own transaction, so
 * a retry after an answer that never arrived (a client timeout, a dropped connection, a node
 * that died after its commit) replays the first response and publishes nothing new. The svix
 * SDKs send such a key with every POST and retry with it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Svix } from 'svix';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

describe('publish with an idempotency key', () => {
  let server: TestServer;
  let appId: string;
  const path = () => `/api/v1/app/${appId}/msg`;
  const count = async (): Promise<number> => ((await server.api('GET', `${path()}?limit=250`)).body.data as unknown[]).length;

  before(async () => {
    server = await startServer();
    appId = (await server.api('POST', '/api/v1/app', { name: 'idempotent publish' })).body.id;
  });
  after(async () => server?.close());

  it('replays a response stored with the message, even when the write after the answer is impossible', async () => {
    // Responses of other routes are stored once sent; a publish's must not need that write.
    const store = server.sb.store;
    const put = store.putIdempotent.bind(store);
    store.putIdempotent = () => Promise.reject(new Error('no writes after the answer'));
    try {
      const body = { eventType: 'order.paid', payload: { order: 1 } };
      const first = await server.api('POST', path(), body, { 'idempotency-key': 'pay-1' });
      assert.equal(first.status, 202);
      assert.equal(first.headers.get('idempotent-replayed'), null);
      const again = await server.api('POST', path(), body, { 'idempotency-key': 'pay-1' });
      assert.equal(again.status, 202);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(again.body, first.body, 'the same response, message id included');
      assert.equal(again.headers.get('content-type'), first.headers.get('content-type'));
      assert.equal(await count(), 1, 'one message');
    } finally {
      store.putIdempotent = put;
    }
  });

  it('publishes once for requests with the same key sent at once, and answers each with that message', async () => {
    // Each waits for the first instead of reading the key too, finding nothing and publishing
    // again (on PostgreSQL the reads take a round trip, and those of requests arriving
    // together share one query).
    const before = await count();
    const body = { eventType: 'order.paid', payload: { order: 'together' } };
    const answers = await Promise.all(Array.from({ length: 12 }, () => server.api('POST', path(), body, { 'idempotency-key': 'together-1' })));
    for (const a of answers) assert.equal(a.status, 202, JSON.stringify(a.body));
    assert.equal(new Set(answers.map((a) => a.body.id)).size, 1, `one message id: ${answers.map((a) => a.body.id).join(', ')}`);
    assert.equal(answers.filter((a) => a.headers.get('idempotent-replayed') === null).length, 1, 'one ran, the others replayed it');
    // Different keys at once: one message each.
    const many = await Promise.all(Array.from({ length: 12 }, (_, i) => server.api('POST', path(), { ...body, payload: { i } }, { 'idempotency-key': `together-k${i}` })));
    assert.equal(new Set(many.map((a) => a.body.id)).size, 12);
    assert.equal(await count(), before + 13);
  });

  it('keeps the response of a duplicate eventId (409) as before, stored once sent', async () => {
    const body = { eventType: 'order.paid', eventId: 'evt-409', payload: {} };
    assert.equal((await server.api('POST', path(), body)).status, 202);
    const refused = await server.api('POST', path(), body, { 'idempotency-key': 'dup-1' });
    assert.equal(refused.status, 409);
    const again = await server.api('POST', path(), body, { 'idempotency-key': 'dup-1' });
    assert.equal(again.status, 409);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(again.body, refused.body);
  });

  it('answers without content when asked, and replays that answer', async () => {
    const body = { eventType: 'order.paid', payload: { secret: 'x' } };
    const first = await server.api('POST', `${path()}?with_content=false`, body, { 'idempotency-key': 'lean-1' });
    assert.equal(first.status, 202);
    assert.deepEqual(first.body.payload, {}, 'without its content');
    const again = await server.api('POST', `${path()}?with_content=false`, body, { 'idempotency-key': 'lean-1' });
    assert.deepEqual(again.body, first.body);
  });

  // The server stored the response before this answer was lost, by either path: this shows the
  // SDK's own retry end to end; the first test shows the publish's response needs no write after it.
  it('the svix SDK, whose first answer is lost, retries with its own key and publishes once', async () => {
    const before = await count();
    let calls = 0;
    // The first response never reaches the SDK (as when a connection drops after the server
    // committed and answered); the SDK retries with the key it generated.
    const lossy: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (++calls === 1) {
        await res.arrayBuffer();
        throw new TypeError('fetch failed: the answer was lost');
      }
      return res;
    };
    const svix = new Svix(server.token, { serverUrl: server.url, fetch: lossy, retryScheduleInMs: [20] });
    const m = await svix.message.create(appId, { eventType: 'order.shipped', payload: { order: 2 } });
    assert.equal(calls, 2, 'the SDK sent it twice');
    assert.equal(await count(), before + 1, 'and one message was stored');
    assert.equal((await server.api('GET', `${path()}/${m.id}`)).status, 200, 'the one the SDK was told about');
  });
});
