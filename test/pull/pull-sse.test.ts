/**
 * Server-Sent Events: positions as event ids, resuming with `Last-Event-ID` with no gap and
 * no duplicate, filters, heartbeats, a slow reader's bounded buffer and disconnect, consumer
 * streams, the long-polling forms, the stream cap and shutdown. Clients are raw HTTP
 * connections read with an independent SSE parser.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { SseParser } from '../../src/cli/listen-sse.js';
import type { SseEvent } from '../../src/cli/listen-sse.js';
import { eventually } from '../helpers/eventually.js';
import { rawRows } from '../helpers/raw-db.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

interface Stream {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body, for answers that are not streams. */
  body: string;
  /** Every event but the opening `position` one. */
  events: SseEvent[];
  /** The `position` events (the first of each answer). */
  positions: SseEvent[];
  /** Ids set by a block without data: a client may take each for a broken event. */
  bareIds: string[];
  comments: string[];
  retry: number | null;
  parser: SseParser;
  ended: boolean;
  close(): void;
}

/** Opens an SSE request and resolves once the response headers are in. */
function open(url: string, token: string, headers: Record<string, string> = {}): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const s: Stream = {
      status: 0,
      headers: {},
      body: '',
      events: [],
      positions: [],
      bareIds: [],
      comments: [],
      retry: null,
      ended: false,
      parser: new SseParser({
        onEvent: (e) => (e.event === 'position' ? s.positions : s.events).push(e),
        onId: (id) => s.bareIds.push(id),
        onComment: (c) => s.comments.push(c),
        onRetry: (ms) => (s.retry = ms),
      }),
      close: () => req.destroy(),
    };
    const req = request(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...headers } }, (res) => {
      s.status = res.statusCode ?? 0;
      s.headers = res.headers;
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        s.body += d;
        s.parser.push(d);
      });
      const end = (): void => {
        s.ended = true;
      };
      res.on('end', end);
      res.on('close', end);
      res.on('error', end);
      resolve(s);
    });
    req.on('error', (e) => (s.status ? (s.ended = true) : reject(e)));
    req.end();
  });
}

/** The stream opened with a `position` event that carries data, and no event had an id without data. */
function assertPositionFirst(s: Stream, start?: string): void {
  assert.deepEqual(s.bareIds, [], 'no id without data');
  assert.equal(s.positions.length, 1, 'one position event');
  const p = s.positions[0]!;
  assert.ok(p.lastEventId !== '', 'the position event has an id');
  assert.deepEqual(JSON.parse(p.data), { position: p.lastEventId }, 'and carries its position as data');
  if (start !== undefined) assert.equal(p.lastEventId, start);
  assert.ok(s.body.indexOf('event: position') < s.body.indexOf('\ndata: {"id"') || !s.body.includes('data: {"id"'), 'before any message');
}

const messageIds = (s: Stream): string[] => s.events.filter((e) => e.event === 'message').map((e) => (JSON.parse(e.data) as { id: string }).id);

describe('Server-Sent Events', () => {
  let server: TestServer;
  let appId: string;

  const publish = async (eventType: string, payload: unknown = {}, channels?: string[], app = appId): Promise<string> => {
    const r = await server.api('POST', `/api/v1/app/${app}/msg`, { eventType, payload, channels });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    return r.body.id;
  };
  const streamUrl = (q = '') => `${server.url}/api/v1/app/${appId}/msg/stream${q}`;

  before(async () => {
    server = await startServer({ SWITCHBOARD_SSE_HEARTBEAT_MS: '100', SWITCHBOARD_SSE_BUFFER_BYTES: '16384', SWITCHBOARD_SSE_STALL_MS: '300' });
    appId = (await server.api('POST', '/api/v1/app', { name: 'sse' })).body.id;
  });
  after(async () => server.close());

  it('streams each message with its position as id; a dropped client resumes with Last-Event-ID, missing nothing, repeating nothing', async () => {
    const first = await open(streamUrl(), server.token);
    assert.equal(first.status, 200);
    assert.match(String(first.headers['content-type']), /^text\/event-stream/);
    await eventually(() => first.parser.lastEventId !== '', 'the preamble');
    assert.equal(first.retry, 3000, 'a retry hint');
    const published: string[] = [];
    // Publishing goes on while the client drops and comes back.
    const publishing = (async () => {
      for (let i = 0; i < 40; i++) published.push(await publish('sse.test', { i, text: 'line\nbreak "q" ü' }));
    })();
    await eventually(() => first.events.length >= 12, 'a dozen events');
    first.close();
    const resumeFrom = first.parser.lastEventId;
    const got = messageIds(first);
    const second = await open(streamUrl(), server.token, { 'last-event-id': resumeFrom });
    await publishing;
    await eventually(() => got.length + second.events.length >= 40, 'the rest of the messages');
    const all = [...got, ...messageIds(second)];
    assert.deepEqual(all, published, 'every message exactly once, in order');
    const positions = [...first.events, ...second.events].map((e) => Number(e.lastEventId));
    assert.ok(positions.every((p, i) => i === 0 || p > positions[i - 1]!), 'positions increase');
    const sample = JSON.parse(second.events[0]!.data) as { eventType: string; payload: { text: string }; timestamp: string };
    assert.equal(sample.eventType, 'sse.test');
    assert.equal(sample.payload.text, 'line\nbreak "q" ü');
    assertPositionFirst(first);
    assertPositionFirst(second, resumeFrom);
    second.close();
  });

  it('filters by event types and channel', async () => {
    const s = await open(streamUrl('?event_types=keep.a,keep.b&channel=eu'), server.token);
    await eventually(() => s.parser.lastEventId !== '', 'the preamble');
    await publish('keep.a', {}, ['us']);
    await publish('drop.c', {}, ['eu']);
    const a = await publish('keep.a', {}, ['eu', 'us']);
    const b = await publish('keep.b', {}, ['eu']);
    await eventually(() => s.events.length >= 2, 'two events');
    assert.deepEqual(messageIds(s), [a, b]);
    assertPositionFirst(s);
    s.close();
  });

  it('sends heartbeat comments while idle', async () => {
    const s = await open(streamUrl(), server.token);
    await eventually(() => s.comments.filter((c) => c === '').length >= 2, 'two heartbeats');
    s.close();
  });

  it('cuts a reader that stops reading once its bounded buffer is full; it resumes from its last complete event', async (t) => {
    const app2 = (await server.api('POST', '/api/v1/app', { name: 'slow' })).body.id as string;
    const { port } = new URL(server.url);
    const socket = connect(Number(port), '127.0.0.1');
    let raw = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (raw += d));
    socket.on('error', () => undefined);
    let closed = false;
    socket.on('close', () => (closed = true));
    socket.write(`GET /api/v1/app/${app2}/msg/stream HTTP/1.1\r\nhost: x\r\naccept: text/event-stream\r\nauthorization: Bearer ${server.token}\r\n\r\n`);
    await eventually(() => raw.includes(': connected'), 'the stream to open');
    socket.pause();
    const big = 'x'.repeat(512 * 1024);
    const sent: string[] = [];
    const slowBefore = server.sb.pull.slowDisconnects;
    // The kernel's socket buffers take several megabytes first; a bounded number of messages fills them.
    for (let i = 0; i < 120 && server.sb.pull.slowDisconnects === slowBefore; i++) {
      sent.push(await publish('big.event', { i, big }, undefined, app2));
    }
    await eventually(() => server.sb.pull.slowDisconnects > slowBefore, 'the slow reader to be cut');
    t.diagnostic(`cut after ${sent.length} messages of 512 KiB; it held at most ${server.sb.pull.maxStreamBuffered} bytes`);
    assert.ok(
      server.sb.pull.maxStreamBuffered <= 16384 + big.length + 1024,
      `the stream held at most its buffer and one event (${server.sb.pull.maxStreamBuffered} bytes)`,
    );
    socket.resume();
    await eventually(() => closed, 'the connection to close');
    const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
    // Chunked transfer framing aside, complete events are what a client keeps.
    const events: SseEvent[] = [];
    const parser = new SseParser({ onEvent: (e) => e.event === 'message' && events.push(e) });
    parser.push(body.replace(/\r\n[0-9a-f]+\r\n/g, ''));
    const got = events.map((e) => (JSON.parse(e.data) as { id: string }).id);
    assert.ok(got.length < sent.length, 'the reader was cut before the end');
    const resumed = await open(`${server.url}/api/v1/app/${app2}/msg/stream`, server.token, { 'last-event-id': parser.lastEventId });
    await eventually(() => got.length + resumed.events.length >= sent.length, 'the rest after resuming');
    assert.deepEqual([...got, ...messageIds(resumed)], sent, 'nothing lost, nothing twice');
    resumed.close();
  });

  it('commits a consumer cursor when the consumer reconnects with Last-Event-ID', async () => {
    const app3 = (await server.api('POST', '/api/v1/app', { name: 'consumer-stream' })).body.id as string;
    const pe = (await server.api('POST', `/api/v1/app/${app3}/polling-endpoint`, { filterTypes: ['c.e'] })).body.id as string;
    const token = (await server.api('GET', `/api/v1/auth/app/${app3}/poller/${pe}/token`)).body.token as string;
    const sent = [await publish('c.e', { n: 1 }, undefined, app3), await publish('x.x', {}, undefined, app3), await publish('c.e', { n: 2 }, undefined, app3)];
    const url = `${server.url}/api/v1/app/${app3}/poller/${pe}/consumer/reader/stream`;
    const s1 = await open(url, token);
    assert.equal(s1.status, 200);
    await eventually(() => s1.events.length >= 2, 'the backlog');
    assert.deepEqual(messageIds(s1), [sent[0], sent[2]]);
    const firstId = s1.events[0]!.lastEventId;
    s1.close();
    const poll = (t: string) => server.api('GET', `/api/v1/app/${app3}/poller/${pe}/consumer/reader`, undefined, { authorization: `Bearer ${t}` });
    assert.equal((await poll(token)).body.data.length, 2, 'events sent are not acknowledged by being sent');
    const s2 = await open(url, token, { 'last-event-id': firstId });
    await eventually(() => s2.events.length >= 1, 'the rest');
    assert.deepEqual(messageIds(s2), [sent[2]]);
    assertPositionFirst(s1);
    assertPositionFirst(s2, firstId);
    s2.close();
    assert.deepEqual((await poll(token)).body.data.map((m: { id: string }) => m.id), [sent[2]], 'reconnecting acknowledged the first');
    const refused = await open(`${server.url}/api/v1/app/${app3}/msg/stream`, token);
    assert.equal(refused.status, 403, 'a poller token cannot stream the whole application');
  });

  it('refuses an expired Last-Event-ID with 410 and a foreign one with 422', async () => {
    const app4 = (await server.api('POST', '/api/v1/app', { name: 'expired' })).body.id as string;
    const s = await open(`${server.url}/api/v1/app/${app4}/msg/stream`, server.token);
    await eventually(() => s.parser.lastEventId !== '', 'the preamble');
    const start = s.parser.lastEventId;
    s.close();
    const old = await publish('o.e', {}, undefined, app4);
    await publish('o.e', {}, undefined, app4);
    await rawRows(server.sb.store, 'DELETE FROM messages WHERE id = ?', old);
    const gone = await open(`${server.url}/api/v1/app/${app4}/msg/stream`, server.token, { 'last-event-id': start });
    await eventually(() => gone.ended, 'the answer');
    assert.equal(gone.status, 410);
    assert.equal(JSON.parse(gone.body).code, 'iterator_expired');
    const foreign = await open(`${server.url}/api/v1/app/${app4}/msg/stream`, server.token, { 'last-event-id': 'msg_123' });
    await eventually(() => foreign.ended, 'the answer');
    assert.equal(foreign.status, 422);
  });

  it('long-polls in the stream framing with wait, and as JSON', async () => {
    const app5 = (await server.api('POST', '/api/v1/app', { name: 'stream-poll' })).body.id as string;
    const base = `${server.url}/api/v1/app/${app5}/msg/stream`;
    const idle = await open(`${base}?wait=0.2`, server.token);
    await eventually(() => idle.ended, 'the empty answer');
    assert.equal(idle.status, 200);
    assert.equal(idle.events.length, 0);
    const start = idle.parser.lastEventId;
    assert.notEqual(start, '', 'an empty answer still carries the position');
    assertPositionFirst(idle, start);
    const waiting = open(`${base}?wait=20`, server.token, { 'last-event-id': start });
    await eventually(() => server.sb.pull.waiting >= 1, 'the poll to wait');
    const id = await publish('p.e', { v: 1 }, undefined, app5);
    const s = await waiting;
    await eventually(() => s.ended, 'the answer');
    assert.deepEqual(messageIds(s), [id]);
    assertPositionFirst(s, start);
    const json = await server.api('GET', `/api/v1/app/${app5}/msg/stream?iterator=${start}`, undefined, { accept: 'application/json' });
    assert.equal(json.status, 200);
    assert.deepEqual(json.body.data.map((m: { id: string }) => m.id), [id]);
    assert.equal(json.body.iterator, s.parser.lastEventId);
  });
});

describe('Server-Sent Events limits and shutdown', () => {
  it('refuses streams beyond the maximum with 503', async () => {
    const server = await startServer({ SWITCHBOARD_MAX_STREAMS: '2' });
    try {
      const appId = (await server.api('POST', '/api/v1/app', { name: 'cap' })).body.id as string;
      const url = `${server.url}/api/v1/app/${appId}/msg/stream`;
      const a = await open(url, server.token);
      const b = await open(url, server.token);
      const c = await open(url, server.token);
      assert.deepEqual([a.status, b.status, c.status], [200, 200, 503]);
      a.close();
      await eventually(() => server.sb.pull.streamCount === 1, 'the closed stream to be released');
      const d = await open(url, server.token);
      assert.equal(d.status, 200);
      b.close();
      d.close();
    } finally {
      await server.close();
    }
  });

  it('ends every stream at shutdown without being held open by them', { timeout: 20_000 }, async () => {
    const server = await startServer();
    const appId = (await server.api('POST', '/api/v1/app', { name: 'shutdown' })).body.id as string;
    const streams = await Promise.all([1, 2, 3].map(() => open(`${server.url}/api/v1/app/${appId}/msg/stream`, server.token)));
    await eventually(() => server.sb.pull.streamCount === 3, 'three streams');
    await server.close();
    await eventually(() => streams.every((s) => s.ended), 'every stream to end');
  });
});
