/**
 * Many readers on one application: SSE streams and long polls all get every message in
 * order, once, while messages are published in bursts (group commits); a long poll woken by
 * a commit answers with that whole commit; a reader that stops reading neither holds the
 * others back nor buffers without bound, and catches up once it reads again. Clients are
 * raw HTTP connections read with an independent SSE parser.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { SseParser } from '../../src/cli/listen-sse.js';
import type { BusEvent } from '../../src/engine/event-bus.js';
import { eventually } from '../helpers/eventually.js';
import { startServer } from '../helpers/server.js';
import type { TestServer } from '../helpers/server.js';

interface Reader {
  /** Message ids in the order they arrived. */
  ids: string[];
  /** Event ids (positions) in the order they arrived. */
  positions: number[];
  opened: boolean;
  close(): void;
}

/** An SSE reader on a message stream. */
function sseReader(url: string, token: string): Reader {
  const r: Reader = { ids: [], positions: [], opened: false, close: () => req.destroy() };
  const parser = new SseParser({
    onEvent: (e) => {
      if (e.event === 'position') {
        r.opened = true;
        return;
      }
      r.ids.push((JSON.parse(e.data) as { id: string }).id);
      r.positions.push(Number(e.lastEventId));
    },
  });
  const req = request(url, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (d: string) => parser.push(d));
  });
  req.on('error', () => undefined);
  req.end();
  return r;
}

/** A long-polling reader in a loop, passing back each answer's iterator. */
function pollReader(server: TestServer, path: string): Reader {
  let stopped = false;
  const r: Reader = { ids: [], positions: [], opened: false, close: () => (stopped = true) };
  void (async () => {
    let iterator: string | undefined;
    while (!stopped) {
      const q = new URLSearchParams({ limit: '250', wait: iterator === undefined ? '0' : '2' });
      if (iterator !== undefined) q.set('iterator', iterator);
      const res = await server.api('GET', `${path}?${q.toString()}`).catch(() => null);
      if (!res || res.status !== 200) continue;
      r.opened = true;
      for (const m of res.body.data as { id: string }[]) r.ids.push(m.id);
      iterator = res.body.iterator as string;
    }
  })();
  return r;
}

/** A chunked HTTP body without its framing. */
function dechunk(raw: Buffer): Buffer {
  let at = raw.indexOf('\r\n\r\n') + 4;
  const parts: Buffer[] = [];
  for (;;) {
    const eol = raw.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(raw.toString('latin1', at, eol), 16);
    if (!(size > 0) || eol + 2 + size > raw.length) break;
    parts.push(raw.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

describe('many readers on one application', () => {
  let server: TestServer;

  const newApp = async (name: string): Promise<string> => (await server.api('POST', '/api/v1/app', { name })).body.id as string;
  const publish = async (app: string, payload: unknown, eventType = 'reader.test'): Promise<string> => {
    const r = await server.api('POST', `/api/v1/app/${app}/msg`, { eventType, payload });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    return r.body.id as string;
  };
  /** The application's messages in log order, read in pages. */
  const logOrder = async (app: string, pe: string): Promise<string[]> => {
    const ids: string[] = [];
    let iterator: string | undefined;
    for (;;) {
      const r = await server.api('GET', `/api/v1/app/${app}/poller/${pe}?limit=250${iterator ? `&iterator=${iterator}` : ''}`);
      ids.push(...(r.body.data as { id: string }[]).map((m) => m.id));
      iterator = r.body.iterator as string;
      if (r.body.done) return ids;
    }
  };

  before(async () => {
    // Stall limit far away: a paused reader here must wait, not be cut (the cut has its own test in pull-sse).
    server = await startServer({ SWITCHBOARD_SSE_BUFFER_BYTES: '16384', SWITCHBOARD_SSE_STALL_MS: '600000' });
  });
  after(async () => server.close());

  it('gives every SSE stream and long poll every message, in log order, once, while publishing in bursts', async (t) => {
    const app = await newApp('many');
    const pe = (await server.api('POST', `/api/v1/app/${app}/polling-endpoint`, { description: 'many' })).body.id as string;
    const streams = Array.from({ length: 25 }, () => sseReader(`${server.url}/api/v1/app/${app}/msg/stream`, server.token));
    const polls = Array.from({ length: 8 }, () => pollReader(server, `/api/v1/app/${app}/poller/${pe}`));
    await eventually(() => [...streams, ...polls].every((r) => r.opened), 'every reader to be reading');
    const batches: number[] = [];
    const off = server.sb.bus.on((e: BusEvent) => {
      if (e.kind === 'messages.published') batches.push(e.messages.length);
    });
    const queriesBefore = server.sb.pull.logReads.queries;
    const sharedBefore = server.sb.pull.logReads.shared;
    const published: string[] = [];
    try {
      for (let burst = 0; burst < 6; burst++) {
        published.push(...(await Promise.all(Array.from({ length: 15 }, (_, i) => publish(app, { burst, i })))));
      }
      await eventually(() => [...streams, ...polls].every((r) => r.ids.length >= published.length), 'every reader to have every message');
    } finally {
      off();
      for (const r of [...streams, ...polls]) r.close();
    }
    const order = await logOrder(app, pe);
    assert.deepEqual([...order].sort(), [...published].sort(), 'the log holds exactly what was published');
    for (const [i, r] of streams.entries()) {
      assert.deepEqual(r.ids, order, `stream ${i}: every message in log order, none twice`);
      assert.ok(
        r.positions.every((p, k) => k === 0 || p > r.positions[k - 1]!),
        `stream ${i}: positions only increase`,
      );
    }
    for (const [i, r] of polls.entries()) assert.deepEqual(r.ids, order, `long poll ${i}: every message in log order, none twice`);
    const queries = server.sb.pull.logReads.queries - queriesBefore;
    const shared = server.sb.pull.logReads.shared - sharedBefore;
    t.diagnostic(`${published.length} messages in ${batches.length} commits; ${queries} store reads, ${shared} shared answers`);
    assert.equal(batches.reduce((a, b) => a + b, 0), published.length, 'one bus event per commit, carrying all its messages');
    assert.ok(shared > queries, `readers at one position share reads (${queries} store reads, ${shared} shared)`);
  });

  it('answers a long poll woken by a commit with that whole commit', async () => {
    const app = await newApp('woken');
    const pe = (await server.api('POST', `/api/v1/app/${app}/polling-endpoint`, { description: 'woken' })).body.id as string;
    const tail = (await server.api('GET', `/api/v1/app/${app}/poller/${pe}`)).body.iterator as string;
    const waitingBefore = server.sb.pull.waiting;
    const waiting = server.api('GET', `/api/v1/app/${app}/poller/${pe}?iterator=${tail}&wait=20&limit=250`);
    await eventually(() => server.sb.pull.waiting === waitingBefore + 1, 'the poll to wait');
    const commits: string[][] = [];
    const off = server.sb.bus.on((e: BusEvent) => {
      if (e.kind === 'messages.published') commits.push(e.messages.filter((m) => m.appId === app).map((m) => m.id));
    });
    try {
      await Promise.all(Array.from({ length: 20 }, (_, i) => publish(app, { i })));
    } finally {
      off();
    }
    const r = await waiting;
    assert.equal(r.status, 200);
    const got = (r.body.data as { id: string }[]).map((m) => m.id);
    const first = commits.find((c) => c.length > 0)!;
    assert.ok(first.length > 0);
    assert.deepEqual(got.slice(0, first.length), first, 'the commit that woke the poll comes whole, in order');
  });

  it('a reader that stops reading holds back no one, buffers no more than its limit, and catches up when it reads again', async (t) => {
    const app = await newApp('paused');
    const pe = (await server.api('POST', `/api/v1/app/${app}/polling-endpoint`, { description: 'paused' })).body.id as string;
    const { port } = new URL(server.url);
    const socket = connect(Number(port), '127.0.0.1');
    const raw: Buffer[] = [];
    socket.on('data', (d: Buffer) => raw.push(d));
    socket.on('error', () => undefined);
    socket.write(`GET /api/v1/app/${app}/msg/stream HTTP/1.1\r\nhost: x\r\naccept: text/event-stream\r\nauthorization: Bearer ${server.token}\r\n\r\n`);
    await eventually(() => Buffer.concat(raw).includes(': connected'), 'the stream to open');
    // Two readers that read: one of every message, one of the small messages only.
    const other = sseReader(`${server.url}/api/v1/app/${app}/msg/stream`, server.token);
    const small = sseReader(`${server.url}/api/v1/app/${app}/msg/stream?event_types=small.event`, server.token);
    await eventually(() => other.opened && small.opened, 'the other readers to be reading');
    socket.pause();

    const slowBefore = server.sb.pull.slowDisconnects;
    const big = 'x'.repeat(256 * 1024);
    const sent: string[] = [];
    // The kernel's socket buffers take several megabytes first; then the stream's own buffer fills.
    for (let i = 0; i < 240; i++) {
      sent.push(await publish(app, { i, big }));
      await eventually(() => other.ids.length === sent.length, 'the reading reader to keep up');
      if (server.sb.pull.streamsWaitingForDrain > 0) break;
    }
    await eventually(() => server.sb.pull.streamsWaitingForDrain === 1, 'the paused reader to wait with a full buffer');
    // Publishing goes on; the readers that read get everything meanwhile.
    const smallIds: string[] = [];
    for (let i = 0; i < 20; i++) {
      const id = await publish(app, { after: i }, 'small.event');
      sent.push(id);
      smallIds.push(id);
    }
    await eventually(() => other.ids.length >= sent.length && small.ids.length >= smallIds.length, 'the other readers to get every message while one is paused');
    assert.deepEqual(other.ids, sent);
    assert.deepEqual(small.ids, smallIds);
    assert.equal(server.sb.pull.streamsWaitingForDrain, 1, 'the paused reader still waits');
    const held = server.sb.pull.maxOpenStreamBuffered;
    t.diagnostic(`paused after ${sent.length - 20} messages of 256 KiB; its stream held at most ${held} bytes`);
    assert.ok(held <= 16384 + big.length + 1024, `a stream holds at most its buffer and one event (${held} bytes)`);
    assert.equal(server.sb.pull.slowDisconnects, slowBefore, 'within the stall limit it is not cut');

    socket.resume();
    const events = (): string[] => {
      const got: string[] = [];
      new SseParser({ onEvent: (e) => e.event === 'message' && got.push((JSON.parse(e.data) as { id: string }).id) }).push(dechunk(Buffer.concat(raw)).toString('utf8'));
      return got;
    };
    await eventually(() => events().length >= sent.length, 'the paused reader to catch up', { intervalMs: 200 });
    assert.deepEqual(events(), sent, 'it caught up with nothing lost and nothing twice');
    assert.deepEqual(await logOrder(app, pe), sent);
    socket.destroy();
    other.close();
    small.close();
  });
});
