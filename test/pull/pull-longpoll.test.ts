/**
 * Long polling (`wait`) on poller reads, consumer reads and the message list. The server
 * runs on a clock the test holds still, so an answer that arrives after a publish can only
 * have come from the publish itself, never from a timer or a sleep loop.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { eventually } from '../helpers/eventually.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe('long polling', () => {
  let server: TestServer;
  const clock = new FakeClock();
  let appId: string;
  let pe: string;

  const publish = async (eventType: string, payload: unknown = {}, app = appId): Promise<string> => {
    const r = await server.api('POST', `/api/v1/app/${app}/msg`, { eventType, payload });
    assert.equal(r.status, 202);
    return r.body.id;
  };

  before(async () => {
    server = await startServer({}, { clock });
    appId = (await server.api('POST', '/api/v1/app', { name: 'long-poll' })).body.id;
    pe = (await server.api('POST', `/api/v1/app/${appId}/polling-endpoint`, { filterTypes: ['wanted.event'] })).body.id;
  });
  after(async () => server.close());

  it('answers a waiting poll as soon as a matching message is published', async (t) => {
    const start = await server.api('GET', `/api/v1/app/${appId}/poller/${pe}`);
    const waiting = server.api('GET', `/api/v1/app/${appId}/poller/${pe}?iterator=${start.body.iterator}&wait=30`);
    await eventually(() => server.sb.pull.waiting === 1, 'the poll to wait');
    await publish('other.event');
    assert.equal(server.sb.pull.waiting, 1, 'a message the endpoint does not take does not answer it');
    let answeredAt = 0;
    const answered = waiting.then((res) => ((answeredAt = performance.now()), res));
    const id = await publish('wanted.event', { hello: 'world' });
    const acceptedAt = performance.now();
    const r = await answered;
    // Negative when the poll was answered before the publisher had read its own answer.
    const latency = answeredAt - acceptedAt;
    t.diagnostic(`answered ${latency.toFixed(1)} ms after the publish was accepted`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.data.map((m: { id: string }) => m.id), [id]);
    assert.deepEqual(r.body.data[0].payload, { hello: 'world' });
    assert.equal(server.sb.pull.waiting, 0);
    // The clock never moved: only the publish can have answered it. The bound is loose on purpose.
    assert.ok(latency < 2000, `answered ${latency.toFixed(1)} ms after the publish was accepted`);
  });

  it('answers an empty page with a usable iterator when the wait passes', async () => {
    const tail = (await server.api('GET', `/api/v1/app/${appId}/poller/${pe}`)).body.iterator as string;
    const waiting = server.api('GET', `/api/v1/app/${appId}/poller/${pe}?iterator=${tail}&wait=5`);
    await eventually(() => server.sb.pull.waiting === 1, 'the poll to wait');
    clock.advance(4999);
    assert.equal(server.sb.pull.waiting, 1);
    clock.advance(1);
    const r = await waiting;
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.data, []);
    assert.equal(r.body.iterator, tail);
    assert.equal(r.body.done, true);
    const id = await publish('wanted.event');
    assert.deepEqual((await server.api('GET', `/api/v1/app/${appId}/poller/${pe}?iterator=${r.body.iterator}`)).body.data.map((m: { id: string }) => m.id), [id]);
  });

  it('long-polls consumer reads', async () => {
    const first = await server.api('GET', `/api/v1/app/${appId}/poller/${pe}/consumer/lp?wait=30`);
    assert.ok(first.body.data.length > 0, 'a non-empty answer does not wait');
    const waiting = server.api('GET', `/api/v1/app/${appId}/poller/${pe}/consumer/lp?iterator=${first.body.iterator}&wait=30`);
    await eventually(() => server.sb.pull.waiting === 1, 'the consumer to wait');
    const id = await publish('wanted.event');
    assert.deepEqual((await waiting).body.data.map((m: { id: string }) => m.id), [id]);
  });

  it('long-polls the message list with its filters', async () => {
    const app2 = (await server.api('POST', '/api/v1/app', { name: 'list-wait' })).body.id as string;
    const waiting = server.api('GET', `/api/v1/app/${app2}/msg?wait=30&event_types=b.b&channel=ch`);
    await eventually(() => server.sb.pull.waiting === 1, 'the list to wait');
    await publish('a.a', {}, app2);
    await server.api('POST', `/api/v1/app/${app2}/msg`, { eventType: 'b.b', payload: {}, channels: ['other'] });
    assert.equal(server.sb.pull.waiting, 1, 'messages outside the filters do not answer it');
    const m = await server.api('POST', `/api/v1/app/${app2}/msg`, { eventType: 'b.b', payload: { x: 1 }, channels: ['ch'] });
    const r = await waiting;
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.data.map((x: { id: string }) => x.id), [m.body.id]);
    const idle = server.api('GET', `/api/v1/app/${app2}/msg?wait=2&before=2000-01-01T00:00:00Z`);
    await eventually(() => server.sb.pull.waiting === 1, 'the list to wait');
    clock.advance(2000);
    assert.deepEqual((await idle).body.data, []);
  });

  it('stops waiting when the client goes away', async () => {
    const tail = (await server.api('GET', `/api/v1/app/${appId}/poller/${pe}`)).body.iterator as string;
    const client = connect(Number(new URL(server.url).port), '127.0.0.1');
    client.on('error', () => undefined);
    client.write(`GET /api/v1/app/${appId}/poller/${pe}?iterator=${tail}&wait=30 HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${server.token}\r\n\r\n`);
    await eventually(() => server.sb.pull.waiting === 1, 'the poll to wait');
    client.destroy();
    await eventually(() => server.sb.pull.waiting === 0, 'the waiter to be dropped');
  });

  it('holds many idle waiting clients with one bus listener and a small, bounded cost each', async (t) => {
    const N = 300;
    const tail = (await server.api('GET', `/api/v1/app/${appId}/poller/${pe}`)).body.iterator as string;
    const { port } = new URL(server.url);
    const request = `GET /api/v1/app/${appId}/poller/${pe}?iterator=${tail}&wait=30 HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${server.token}\r\n\r\n`;
    const listeners = server.sb.bus.size;
    const base = heapAfterGc();
    const sockets: Socket[] = [];
    const answers: string[] = Array.from({ length: N }, () => '');
    for (let i = 0; i < N; i++) {
      const s = connect(Number(port), '127.0.0.1');
      s.setEncoding('utf8');
      s.on('data', (d: string) => (answers[i] += d));
      s.on('error', () => undefined);
      s.write(request);
      sockets.push(s);
    }
    await eventually(() => server.sb.pull.waiting === N, `${N} polls to wait`);
    const perClient = (heapAfterGc() - base) / N;
    t.diagnostic(`heap per waiting client (both ends): ${(perClient / 1024).toFixed(1)} KiB`);
    assert.equal(server.sb.bus.size, listeners, 'waiting clients add no bus listeners');
    // Client and server sides of each connection live in this process; both are counted.
    assert.ok(perClient < 64 * 1024, `${(perClient / 1024).toFixed(1)} KiB of heap per waiting client`);
    const id = await publish('wanted.event');
    await eventually(() => answers.every((a) => a.includes(id)), 'every client to get the message');
    assert.ok(answers.every((a) => a.startsWith('HTTP/1.1 200')));
    await eventually(() => server.sb.pull.waiting === 0, 'every waiter to finish');
    for (const s of sockets) s.destroy();
  });
});

describe('long polling at shutdown', () => {
  it('answers waiting polls at once and does not hold the server open', { timeout: 20_000 }, async () => {
    const server = await startServer();
    const appId = (await server.api('POST', '/api/v1/app', { name: 'shutdown' })).body.id as string;
    const pe = (await server.api('POST', `/api/v1/app/${appId}/polling-endpoint`, {})).body.id as string;
    const waiting = server.api('GET', `/api/v1/app/${appId}/poller/${pe}?wait=30`);
    await eventually(() => server.sb.pull.waiting === 1, 'the poll to wait');
    await server.close();
    const r = await waiting;
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.data, []);
  });
});
