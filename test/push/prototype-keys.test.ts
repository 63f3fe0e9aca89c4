/**
 * `__proto__`, `constructor` and `prototype` are ordinary keys of a webhook payload: a
 * message carrying them is accepted and goes out exactly as sent on every path (publish,
 * ingest, transformations, pull reads, SSE), and nothing in the server's prototypes changes.
 * Outside `payload` such keys are still refused.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../helpers/eventually.js';
import { Receiver } from '../helpers/receiver.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { call } from '../helpers/security.js';

/** The payload, as bytes: compact JSON, which is how payloads are stored and delivered. */
const PAYLOAD = '{"__proto__":{"x":1},"constructor":{"prototype":{}}}';

/** Object.prototype has gained nothing. */
function assertNoPollution(protoBefore: string[]): void {
  assert.equal(({} as Record<string, unknown>).x, undefined, '({}).x');
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), protoBefore, 'Object.prototype untouched');
}

describe('prototype keys in a payload', () => {
  let server: TestServer;
  let rx: Receiver;
  let appId: string;
  const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort();
  const publishRaw = (path: string, json: string) => call(server, 'POST', path, { token: server.token, body: json });

  before(async () => {
    rx = await new Receiver().start();
    server = await startServer();
    appId = (await server.api('POST', '/api/v1/app', { name: 'proto' })).body.id;
    assert.equal((await server.api('POST', `/api/v1/app/${appId}/endpoint`, { url: rx.url('/proto'), filterTypes: ['proto.plain'] })).status, 201);
  });
  after(async () => {
    await server.close();
    await rx.close();
    assertNoPollution(protoBefore);
  });

  it('publish: accepted, answered, stored, read back and delivered byte for byte', async () => {
    const sent = await publishRaw(`/api/v1/app/${appId}/msg`, `{"eventType":"proto.plain","eventId":"proto-1","payload":${PAYLOAD}}`);
    assert.equal(sent.status, 202, sent.text);
    assert.ok(sent.text.includes(`"payload":${PAYLOAD}`), sent.text);
    const delivered = await eventually(() => rx.at('/proto')[0], 'delivery');
    assert.equal(delivered.body, PAYLOAD);
    const read = await call(server, 'GET', `/api/v1/app/${appId}/msg/proto-1`, { token: server.token });
    assert.ok(read.text.includes(`"payload":${PAYLOAD}`), read.text);
    const listed = await call(server, 'GET', `/api/v1/app/${appId}/msg`, { token: server.token });
    assert.ok(listed.text.includes(`"payload":${PAYLOAD}`), listed.text);
    assertNoPollution(protoBefore);
  });

  it('pull reads and the SSE stream carry the same bytes', async () => {
    const pe = await server.api('POST', `/api/v1/app/${appId}/polling-endpoint`, { filterTypes: ['proto.pull'] });
    assert.equal(pe.status, 201);
    const stream = await fetch(`${server.url}/api/v1/app/${appId}/msg/stream`, { headers: { authorization: `Bearer ${server.token}`, accept: 'text/event-stream' } });
    assert.equal(stream.status, 200);
    assert.equal((await publishRaw(`/api/v1/app/${appId}/msg`, `{"eventType":"proto.pull","payload":${PAYLOAD}}`)).status, 202);
    const reader = stream.body!.getReader();
    let seen = '';
    const deadline = Date.now() + 10_000;
    while (!seen.includes(PAYLOAD) && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += Buffer.from(value).toString('utf8');
    }
    await reader.cancel();
    assert.ok(seen.includes(`data: `) && seen.includes(PAYLOAD), seen);
    const polled = await call(server, 'GET', `/api/v1/app/${appId}/poller/${pe.body.id}`, { token: server.token });
    assert.equal(polled.status, 200);
    assert.ok(polled.text.includes(PAYLOAD), polled.text);
    assertNoPollution(protoBefore);
  });

  it('a transformation gets the keys as data and its output goes out as it returned it', async () => {
    const ep = await server.api('POST', `/api/v1/app/${appId}/endpoint`, { url: rx.url('/proto-t'), filterTypes: ['proto.transformed'] });
    const code = 'function handler(w) { w.payload.seen = Object.keys(w.payload).join(","); return w }';
    const t = await server.api('PATCH', `/api/v1/app/${appId}/endpoint/${ep.body.id}/transformation`, { code, enabled: true });
    assert.equal(t.status, 204, JSON.stringify(t.body));
    assert.equal((await publishRaw(`/api/v1/app/${appId}/msg`, `{"eventType":"proto.transformed","payload":${PAYLOAD}}`)).status, 202);
    const delivered = await eventually(() => rx.at('/proto-t')[0], 'transformed delivery');
    assert.equal(delivered.body, `${PAYLOAD.slice(0, -1)},"seen":"__proto__,constructor"}`);
    assertNoPollution(protoBefore);
  });

  it('ingest: delivered byte for byte', async () => {
    const src = await server.api('POST', '/ingest/api/v1/source', { name: 'proto source', type: 'generic-webhook' });
    assert.equal(src.status, 201, JSON.stringify(src.body));
    const ep = await server.api('POST', `/ingest/api/v1/source/${src.body.id}/endpoint`, { url: rx.url('/proto-in') });
    assert.equal(ep.status, 201, JSON.stringify(ep.body));
    const got = await fetch(src.body.ingestUrl as string, { method: 'POST', headers: { 'content-type': 'application/json' }, body: PAYLOAD });
    assert.ok(got.status >= 200 && got.status < 300, `${got.status} ${await got.text()}`);
    const delivered = await eventually(() => rx.at('/proto-in')[0], 'ingested delivery');
    assert.equal(delivered.body, PAYLOAD);
    assertNoPollution(protoBefore);
  });

  it('outside payload the keys are still refused, with the key named', async () => {
    for (const body of [
      `{"eventType":"proto.plain","payload":{},"__proto__":{"x":1}}`,
      `{"eventType":"proto.plain","payload":{},"constructor":{"prototype":{"x":1}}}`,
      `{"eventType":"proto.plain","payload":{},"application":{"name":"p","metadata":{"__proto__":{"x":1}}}}`,
    ]) {
      const res = await publishRaw(`/api/v1/app/${appId}/msg`, body);
      assert.equal(res.status, 400, `${body}: ${res.text}`);
      assert.equal(res.body.code, 'invalid_json');
      assert.match(res.body.detail, /may reach an object prototype; such keys are accepted only inside payload/);
    }
    const other = await publishRaw('/api/v1/app', '{"name":"p","metadata":{"__proto__":{"x":1}}}');
    assert.equal(other.status, 400, other.text);
    assertNoPollution(protoBefore);
  });
});
