/**
 * Hostile connections on a real server over loopback: clients that send nothing and read
 * nothing are disconnected (not left half-closed), a response the client does not read is
 * cut, the per-address and total caps refuse extra connections (and serve again once they
 * are gone) with one log line, not one per refusal, and SSE streams stay open beside them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { eventually } from '../helpers/eventually.js';
import { TEST_TOKEN, startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';
import { createApp } from '../helpers/security.js';
import { resolveConnectionLimits } from '../../src/http/connection-guard.js';

/** Connections the server holds open now. */
function serverConnections(server: TestServer): Promise<number> {
  return new Promise((resolve, reject) => server.sb.app.server.getConnections((err, n) => (err ? reject(err) : resolve(n))));
}

interface RawClient {
  socket: Socket;
  /** Bytes received so far. */
  received(): string;
  closed: Promise<void>;
  isClosed(): boolean;
}

/** A plain TCP client; with `read: false` it never reads what it is sent. */
async function open(url: string, opts: { read?: boolean; send?: string } = {}): Promise<RawClient> {
  const u = new URL(url);
  const socket = connect(Number(u.port), u.hostname);
  let data = '';
  let closed = false;
  const done = new Promise<void>((r) =>
    socket.once('close', () => {
      closed = true;
      r();
    }),
  );
  socket.on('error', () => undefined);
  if (opts.read === false) socket.pause();
  else socket.on('data', (d: Buffer) => (data += d.toString()));
  await new Promise<void>((resolve) => {
    socket.once('connect', resolve);
    socket.once('close', resolve);
  });
  if (opts.send && !closed) socket.write(opts.send);
  return { socket, received: () => data, closed: done, isClosed: () => closed };
}

/** Log lines written by the server. */
function logSink(): { lines: () => any[]; stream: Writable } {
  const lines: any[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim()) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines: () => lines, stream };
}

async function metric(server: TestServer, name: string): Promise<number | null> {
  const text = await (await fetch(server.url + '/metrics')).text();
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : null;
}

describe('slow and non-reading clients are disconnected', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({
      SWITCHBOARD_CLIENT_HEADERS_TIMEOUT_MS: '300',
      SWITCHBOARD_CLIENT_REQUEST_TIMEOUT_MS: '600',
      SWITCHBOARD_CLIENT_SEND_TIMEOUT_MS: '300',
      SWITCHBOARD_KEEP_ALIVE_TIMEOUT_MS: '300',
    });
  });
  after(async () => server.close());

  it('clients that send nothing and read nothing: every server socket is destroyed, not left half-closed', async () => {
    const clients = await Promise.all(Array.from({ length: 30 }, () => open(server.url, { read: false })));
    assert.ok(clients.every((c) => !c.isClosed()), 'the connections were accepted');
    // Before: the 408 was written and the socket half-closed, held until the client closed its side.
    await eventually(async () => (await serverConnections(server)) === 0, 'the server to hold no connection');
    for (const c of clients) c.socket.destroy();
  });

  it('a client that sends half its headers and stops reading is disconnected too', async () => {
    const c = await open(server.url, { read: false, send: 'GET /api/v1/health HTTP/1.1\r\nhost: x\r\n' });
    await eventually(async () => (await serverConnections(server)) === 0, 'the server to hold no connection');
    c.socket.destroy();
  });

  it('an idle keep-alive connection whose client neither reads nor closes is closed after the keep-alive timeout', async () => {
    const c = await open(server.url, { read: false, send: 'GET /api/v1/health HTTP/1.1\r\nhost: x\r\n\r\n' });
    await eventually(async () => (await serverConnections(server)) === 0, 'the idle connection to be closed');
    c.socket.destroy();
  });

  it('a client that asks for responses and never reads them is cut after the send timeout', async () => {
    const size = (await (await fetch(server.url + '/api/v1/openapi.json')).text()).length;
    // Enough pipelined requests that their answers fill the socket buffers many times over.
    const count = Math.ceil((16 * 1024 * 1024) / size);
    const req = 'GET /api/v1/openapi.json HTTP/1.1\r\nhost: x\r\n\r\n';
    const c = await open(server.url, { read: false, send: req.repeat(count) });
    await eventually(async () => (await serverConnections(server)) === 0, 'the stalled connection to be cut');
    assert.ok(((await metric(server, 'switchboard_connections_cut_total{reason="send_timeout"}')) ?? 0) >= 1);
    c.socket.destroy();
  });

  it('a client that reads slowly but steadily is not cut', async () => {
    const c = await open(server.url, { send: 'GET /api/v1/openapi.json HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n' });
    await c.closed;
    assert.match(c.received(), /^HTTP\/1\.1 200/);
    assert.ok(c.received().includes('"openapi"'));
  });
});

describe('connection caps', () => {
  let server: TestServer;
  let appId: string;
  const logs = logSink();

  before(async () => {
    server = await startServer(
      {
        SWITCHBOARD_MAX_CONNECTIONS_PER_ADDRESS: '6',
        SWITCHBOARD_MAX_CONNECTIONS: '1000',
        // Held idle sockets stay until the test closes them.
        SWITCHBOARD_CLIENT_HEADERS_TIMEOUT_MS: '60000',
        SWITCHBOARD_CLIENT_REQUEST_TIMEOUT_MS: '60000',
      },
      { logger: pino({ level: 'warn' }, logs.stream) },
    );
    appId = await createApp(server, 'caps');
  });
  after(async () => server.close());

  const streamRequest = (id: string) => `GET /api/v1/app/${id}/msg/stream HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TEST_TOKEN}\r\naccept: text/event-stream\r\n\r\n`;

  it('refuses connections beyond the per-address cap at once, logs once, and serves again when they are gone; SSE streams stay open beside them', async () => {
    // Three streams first: they move to the stream budget and leave the per-address budget free.
    const streams = await Promise.all([1, 2, 3].map(() => open(server.url, { send: streamRequest(appId) })));
    await eventually(() => streams.every((s) => s.received().includes('text/event-stream')), 'the streams to open');
    // And a long poll, which counts as a stream while it waits.
    const longPoll = await open(server.url, { send: `GET /api/v1/app/${appId}/msg?wait=30 HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TEST_TOKEN}\r\n\r\n` });
    await eventually(async () => (await metric(server, 'switchboard_client_connections{kind="stream"}')) === 4, 'four stream connections counted');

    // The fetch client's own keep-alive connection may hold a slot: close it by asking the server to.
    await fetch(server.url + '/api/v1/health', { headers: { connection: 'close' } });
    await eventually(async () => (await serverConnections(server)) === 4, 'only the streams open');

    const held = await Promise.all(Array.from({ length: 6 }, () => open(server.url)));
    const refused = await Promise.all(Array.from({ length: 5 }, () => open(server.url)));
    await Promise.all(refused.map((r) => r.closed));
    for (const r of refused) assert.equal(r.received(), '', 'a refused connection gets no answer');
    assert.ok(held.every((h) => !h.isClosed()), 'the connections within the cap stay open');
    await assert.rejects(fetch(server.url + '/api/v1/health'), 'an API call from the same address is refused too');

    const lines = logs.lines().filter((l) => /connection limit/.test(l.msg));
    assert.equal(lines.length, 1, 'one log line for many refusals');
    assert.equal(lines[0].maxPerAddress, 6);

    for (const h of held) h.socket.destroy();
    await eventually(async () => (await fetch(server.url + '/api/v1/health')).status === 204, 'the address to be served again');
    assert.ok(((await metric(server, 'switchboard_connections_refused_total{limit="address"}')) ?? 0) >= 5);

    // The streams were never touched and still carry events.
    assert.ok(streams.every((s) => !s.isClosed()));
    const published = await server.api('POST', `/api/v1/app/${appId}/msg`, { eventType: 'caps.test', payload: { n: 1 } });
    assert.equal(published.status, 202);
    await eventually(() => streams.every((s) => s.received().includes(published.body.id)), 'the message on every stream');
    await eventually(() => longPoll.received().includes(published.body.id), 'the long poll answered with the message');
    assert.match(longPoll.received(), /^HTTP\/1\.1 200/);
    for (const s of [...streams, longPoll]) s.socket.destroy();
  });

  it('reports the file-descriptor headroom', async () => {
    const headroom = await metric(server, 'switchboard_fd_headroom');
    const limit = await metric(server, 'switchboard_fd_limit');
    const openFds = await metric(server, 'switchboard_open_fds');
    if (process.platform !== 'linux') return;
    assert.ok(limit !== null && openFds !== null && headroom !== null);
    assert.ok(openFds > 0 && limit > openFds);
    assert.ok(Math.abs(headroom - (limit - openFds)) < 50);
  });
});

describe('derived caps', () => {
  it('follow the file-descriptor limit, leaving room for deliveries and streams', () => {
    const s = { maxConnections: null, maxPerAddress: null, maxStreamsPerAddress: 0, sendTimeoutMs: 30000 };
    const at = (fdLimit: number | null) => resolveConnectionLimits(s, { fdLimit, maxInflight: 1000, maxStreams: 20000 });
    assert.deepEqual([at(450).maxConnections, at(450).maxPerAddress, at(450).maxStreams], [32, 8, 32]);
    assert.deepEqual([at(20000).maxConnections, at(20000).maxPerAddress, at(20000).maxStreams], [9436, 512, 9436]);
    assert.equal(at(1_048_576).maxStreams, 20000, 'SWITCHBOARD_MAX_STREAMS bounds streams');
    assert.ok(at(null).maxConnections > 0, 'a default where the limit cannot be read');
    const set = resolveConnectionLimits({ ...s, maxConnections: 10, maxPerAddress: 0 }, { fdLimit: 450, maxInflight: 1000, maxStreams: 20000 });
    assert.deepEqual([set.maxConnections, set.maxPerAddress, set.maxStreams], [10, 0, 20000]);
  });
});

describe('total connection cap', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({
      SWITCHBOARD_MAX_CONNECTIONS: '4',
      SWITCHBOARD_MAX_CONNECTIONS_PER_ADDRESS: '0',
      SWITCHBOARD_CLIENT_HEADERS_TIMEOUT_MS: '60000',
      SWITCHBOARD_CLIENT_REQUEST_TIMEOUT_MS: '60000',
    });
  });
  after(async () => server.close());

  it('refuses connections beyond the total and serves again once some close', async () => {
    await fetch(server.url + '/api/v1/health', { headers: { connection: 'close' } });
    await eventually(async () => (await serverConnections(server)) === 0, 'no connection open');
    const held = await Promise.all(Array.from({ length: 4 }, () => open(server.url)));
    const extra = await open(server.url);
    await extra.closed;
    assert.equal(extra.received(), '');
    held[0]!.socket.destroy();
    await eventually(async () => (await fetch(server.url + '/api/v1/health', { headers: { connection: 'close' } })).status === 204, 'a free slot to serve');
    assert.ok(((await metric(server, 'switchboard_connections_refused_total{limit="total"}')) ?? 0) >= 1);
    for (const h of held) h.socket.destroy();
  });
});
