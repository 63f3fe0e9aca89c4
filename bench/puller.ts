/**
 * The benchmark pull client: a child process of the orchestrator (bench/run.ts), controlled
 * over the fork IPC channel (see lib/protocol.ts), that reads messages the way pull
 * consumers do, apart from the process that publishes them:
 *
 * - long polling in a loop (consumer or poller reads with `wait`, passing each answer's
 *   iterator back);
 * - a Server-Sent Events stream, parsed as it arrives (reconnecting with `Last-Event-ID`);
 * - many idle SSE connections on plain sockets, for memory measurements (nothing is parsed,
 *   so the client stays small).
 *
 * For the first copy of each message id it records arrival time minus `payload.sentAt` (the
 * publisher's wall clock on the same machine), like the receiver does for webhooks.
 */
import { request as httpRequest, type ClientRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { Pool } from 'undici';
import { Counter } from './lib/counter.js';
import { wallMs } from './lib/hist.js';
import type { FromPuller, PullerStats, PullGroupStats, PullJob, ToPuller } from './lib/protocol.js';

/** Bound on remembered message ids per group (duplicate detection). */
const MAX_IDS = 2_000_000;

/** What the benchmark reads of a message: its id, and its payload's phase, sequence number and send time. */
interface MessageFields {
  id: string;
  phase: string | undefined;
  seq: number | undefined;
  sentAt: number | undefined;
}

/** The JSON number that starts at `at` in `text`, or undefined. */
function numberAt(text: string, at: number): number | undefined {
  let end = at;
  for (; end < text.length; end++) {
    const c = text.charCodeAt(end);
    // Digits, '+', '-', '.', 'e' and 'E'.
    if (!((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46 || c === 101 || c === 69)) break;
  }
  const n = Number(text.slice(at, end));
  return end > at && Number.isFinite(n) ? n : undefined;
}

/**
 * The fields of an SSE event's data without parsing the whole JSON: the server writes the
 * message's own fields first (`{"id":"msg_...",...`) and the payload, as published, last
 * (src/bridges/pull/sse-frames.ts), and the benchmark's payloads start with phase, seq and
 * sentAt (lib/scenario.ts `messageBody`). 200 SSE readers at 500 msg/s are 100,000 events a
 * second, and parsing each whole made the reader processes, not the server, the busiest on
 * the machine. Null when the data is not shaped so (then it is parsed); every
 * FULL_PARSE_EVERY-th event is parsed as well and must agree.
 */
function quickFields(data: string): MessageFields | null {
  if (!data.startsWith('{"id":"')) return null;
  const idEnd = data.indexOf('"', 7);
  const payloadAt = data.indexOf(',"payload":{"phase":"', idEnd);
  if (idEnd < 0 || payloadAt < 0) return null;
  const phaseAt = payloadAt + 21;
  const phaseEnd = data.indexOf('"', phaseAt);
  const seqKey = data.indexOf('"seq":', phaseEnd);
  const sentKey = data.indexOf('"sentAt":', phaseEnd);
  if (phaseEnd < 0 || seqKey < 0 || sentKey < 0) return null;
  return { id: data.slice(7, idEnd), phase: data.slice(phaseAt, phaseEnd), seq: numberAt(data, seqKey + 6), sentAt: numberAt(data, sentKey + 9) };
}

/** One event in this many is parsed whole and checked against `quickFields`. */
const FULL_PARSE_EVERY = 256;

/** The fields the benchmark reads of a parsed message. */
function fieldsOf(m: unknown): MessageFields {
  const msg = (typeof m === 'object' && m !== null ? m : {}) as { id?: unknown; payload?: unknown };
  const p = (typeof msg.payload === 'object' && msg.payload !== null ? msg.payload : {}) as Record<string, unknown>;
  return {
    id: typeof msg.id === 'string' ? msg.id : '',
    phase: p['phase'] as string | undefined,
    seq: typeof p['seq'] === 'number' ? p['seq'] : undefined,
    sentAt: typeof p['sentAt'] === 'number' ? p['sentAt'] : undefined,
  };
}

/** Whether two readings of a message agree on every field. */
function sameFields(a: MessageFields, b: MessageFields): boolean {
  return a.id === b.id && a.phase === b.phase && a.seq === b.seq && a.sentAt === b.sentAt;
}

class Group {
  readonly counter = new Counter();
  /** Messages seen: by payload seq, or by id where there is none. */
  readonly seen = new Set<string | number>();
  reads = 0;
  errors: Record<string, number> = {};
  /** First arrivals: payload seq and wall time, flat (bounded like `seen`). */
  arrivals: number[] = [];

  error(key: string): void {
    this.errors[key] = (this.errors[key] ?? 0) + 1;
  }

  /** One message as a reader got it (parsed JSON), at wall time `now`. */
  message(m: unknown, now: number): void {
    this.arrived(fieldsOf(m), now);
  }

  /** One message as a reader got it, by the fields the benchmark reads, at wall time `now`. */
  arrived(f: MessageFields, now: number): void {
    this.counter.requests++;
    // The payload's seq names a published message within a phase; a number keeps the set
    // small (an id sliced from an event would keep the whole event's text alive).
    const key = f.seq ?? f.id;
    if (f.phase !== undefined && f.phase !== phase) this.counter.stale++;
    else if (this.seen.has(key)) this.counter.duplicates++;
    else {
      if (this.seen.size < MAX_IDS) {
        this.seen.add(key);
        if (f.seq !== undefined) this.arrivals.push(f.seq, now);
      }
      this.counter.arrival(now, f.sentAt, phaseStart);
    }
  }

  reset(): void {
    this.counter.resetPhase();
    this.seen.clear();
    this.reads = 0;
    this.errors = {};
    this.arrivals = [];
  }

  snapshot(light: boolean, arrivals: boolean): PullGroupStats {
    const s: PullGroupStats = { ...this.counter.snapshot(false, light), reads: this.reads, errors: { ...this.errors } };
    if (arrivals) s.arrivals = [...this.arrivals];
    return s;
  }
}

let phase = 'initial';
let phaseStart = wallMs();
const groups = new Map<string, Group>();
/** Called to end every job. */
const stoppers = new Set<() => void>();
const idle = { open: 0, failed: 0, ended: 0, errors: {} as Record<string, number> };
const idleSockets = new Set<Socket>();

function group(name: string): Group {
  let g = groups.get(name);
  if (!g) {
    g = new Group();
    groups.set(name, g);
  }
  return g;
}

function errorKey(err: unknown): string {
  return (err as { code?: string }).code ?? (err instanceof Error ? err.name : 'error');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Long polling: resolves once the first answer has arrived (the reader is then waiting or reading). */
function startLongPoll(job: Extract<PullJob, { kind: 'long-poll' }>): Promise<void> {
  const g = group(job.group);
  // The wait is up to 30 s: give the answer time beyond it.
  const pool = new Pool(job.baseUrl, { connections: 1, headersTimeout: (job.waitSec + 15) * 1000, bodyTimeout: 30_000, keepAliveTimeout: 60_000 });
  const ac = new AbortController();
  let stopped = false;
  stoppers.add(() => {
    stopped = true;
    ac.abort();
    void pool.destroy();
  });
  let first: () => void = () => undefined;
  const firstAnswer = new Promise<void>((r) => (first = r));
  void (async () => {
    let iterator: string | undefined;
    let firstPoll = true;
    while (!stopped) {
      // The first poll does not wait, so the job is known to be reading as soon as it answers.
      const q = new URLSearchParams({ limit: String(job.limit) });
      if (!firstPoll) q.set('wait', String(job.waitSec));
      firstPoll = false;
      if (iterator) q.set('iterator', iterator);
      try {
        const res = await pool.request({
          method: 'GET',
          path: `${job.path}?${q.toString()}`,
          headers: { authorization: `Bearer ${job.token}`, accept: 'application/json' },
          signal: ac.signal,
        });
        const text = await res.body.text();
        const now = wallMs();
        first();
        if (res.statusCode !== 200) {
          g.error(String(res.statusCode));
          await sleep(100);
          continue;
        }
        g.reads++;
        const page = JSON.parse(text) as { data: unknown[]; iterator: string };
        for (const m of page.data) g.message(m, now);
        iterator = page.iterator;
      } catch (err) {
        if (stopped) break;
        first();
        g.error(errorKey(err));
        await sleep(100);
      }
    }
  })();
  return firstAnswer;
}

/** Splits an SSE byte stream into events; calls `onEvent(id, data)` for each message event. */
class SseParser {
  private buf = '';
  private id: string | undefined;
  private event = '';
  private data: string[] = [];
  lastId: string | undefined;

  constructor(private readonly onEvent: (id: string | undefined, data: string) => void) {}

  push(chunk: string): void {
    // One scan over the buffer; the unfinished last line is kept for the next chunk.
    const buf = this.buf + chunk;
    let start = 0;
    let nl: number;
    while ((nl = buf.indexOf('\n', start)) >= 0) {
      const end = nl > start && buf.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      this.line(buf, start, end);
      start = nl + 1;
    }
    this.buf = start === 0 ? buf : buf.slice(start);
  }

  private line(buf: string, start: number, end: number): void {
    if (end === start) {
      // Named events (the opening `position`) carry no message.
      if (this.data.length && this.event === '') this.onEvent(this.id, this.data.join('\n'));
      if (this.id !== undefined) this.lastId = this.id;
      this.id = undefined;
      this.event = '';
      this.data = [];
    } else if (buf.startsWith('data:', start)) this.data.push(buf.slice(start + (buf.charCodeAt(start + 5) === 32 ? 6 : 5), end));
    else if (buf.startsWith('id:', start)) this.id = buf.slice(start + (buf.charCodeAt(start + 3) === 32 ? 4 : 3), end);
    else if (buf.startsWith('event:', start)) this.event = buf.slice(start + (buf.charCodeAt(start + 6) === 32 ? 7 : 6), end);
    // Comments (heartbeats) and retry: lines need nothing here.
  }
}

/** One SSE stream: resolves once the stream's first bytes (the preamble) have arrived. */
function startSse(job: Extract<PullJob, { kind: 'sse' }>): Promise<void> {
  const g = group(job.group);
  const url = new URL(job.path, job.baseUrl);
  let stopped = false;
  let current: ClientRequest | null = null;
  stoppers.add(() => {
    stopped = true;
    current?.destroy();
  });
  let first: () => void = () => undefined;
  const connected = new Promise<void>((r) => (first = r));
  let lastId: string | undefined;
  let events = 0;
  const open = (): void => {
    if (stopped) return;
    const headers: Record<string, string> = { authorization: `Bearer ${job.token}`, accept: 'text/event-stream' };
    if (lastId !== undefined) headers['last-event-id'] = lastId;
    const parser = new SseParser((_id, data) => {
      const now = wallMs();
      const quick = quickFields(data);
      try {
        if (quick === null) g.message(JSON.parse(data), now);
        else {
          if (++events % FULL_PARSE_EVERY === 0 && !sameFields(quick, fieldsOf(JSON.parse(data)))) throw new Error('fields read wrong');
          g.arrived(quick, now);
        }
      } catch {
        g.error('bad-event');
      }
    });
    let gone = false;
    const reconnect = (key: string): void => {
      lastId = parser.lastId ?? lastId;
      if (stopped || gone) return;
      gone = true;
      g.error(key);
      first();
      setTimeout(open, 100);
    };
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname + url.search, headers, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reconnect(String(res.statusCode));
        return;
      }
      g.reads++;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        parser.push(chunk);
        first();
      });
      res.on('end', () => reconnect('ended'));
      res.on('error', (err) => reconnect(errorKey(err)));
    });
    req.on('error', (err) => reconnect(errorKey(err)));
    req.end();
    current = req;
  };
  open();
  return connected;
}

/** Opens `count` idle SSE connections on plain sockets; resolves when every one has answered or failed. */
async function startIdle(job: Extract<PullJob, { kind: 'idle-sse' }>): Promise<Record<string, number>> {
  const url = new URL(job.path, job.baseUrl);
  const head = Buffer.from(
    `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${job.token}\r\nAccept: text/event-stream\r\n\r\n`,
  );
  const fail = (key: string): void => {
    idle.failed++;
    idle.errors[key] = (idle.errors[key] ?? 0) + 1;
  };
  const openOne = (): Promise<void> =>
    new Promise((resolve) => {
      let settled = false;
      const sock = connect({ host: url.hostname, port: Number(url.port) });
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        fail('timeout');
        sock.destroy();
        resolve();
      }, 30_000);
      sock.once('connect', () => sock.write(head));
      sock.once('data', (chunk: Buffer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (chunk.toString('latin1', 0, 12) !== 'HTTP/1.1 200') {
          fail(chunk.toString('latin1', 9, 12));
          sock.destroy();
        } else {
          idle.open++;
          idleSockets.add(sock);
          // Heartbeats keep coming: read and drop them.
          sock.on('data', () => undefined);
        }
        resolve();
      });
      sock.on('error', (err) => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          fail(errorKey(err));
          resolve();
        }
      });
      sock.on('close', () => {
        if (idleSockets.delete(sock)) {
          idle.open--;
          idle.ended++;
        }
      });
    });
  const t0 = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < job.count) {
      next++;
      await openOne();
    }
  };
  await Promise.all(Array.from({ length: Math.min(job.concurrency, job.count) }, () => worker()));
  return { open: idle.open, failed: idle.failed, ms: Math.round(performance.now() - t0) };
}

function closeAll(): void {
  for (const stop of stoppers) stop();
  stoppers.clear();
  for (const s of idleSockets) s.destroy();
  idleSockets.clear();
  idle.open = 0;
}

function stats(light: boolean, arrivals: boolean): PullerStats {
  const gs: Record<string, PullGroupStats> = {};
  for (const [name, g] of groups) gs[name] = g.snapshot(light, arrivals);
  return { phase, phaseStart, groups: gs, idle: { ...idle, errors: { ...idle.errors } } };
}

function send(msg: FromPuller): void {
  process.send?.(msg);
}

async function onMessage(msg: ToPuller): Promise<void> {
  try {
    switch (msg.type) {
      case 'start': {
        const job = msg.job;
        if (job.kind === 'long-poll') await startLongPoll(job);
        else if (job.kind === 'sse') await startSse(job);
        else {
          send({ type: 'ack', id: msg.id, info: await startIdle(job) });
          return;
        }
        send({ type: 'ack', id: msg.id });
        return;
      }
      case 'reset':
        phase = msg.phase;
        phaseStart = wallMs();
        for (const g of groups.values()) g.reset();
        send({ type: 'ack', id: msg.id });
        return;
      case 'stats':
        send({ type: 'stats', id: msg.id, stats: stats(msg.light, msg.arrivals === true) });
        return;
      case 'close':
        closeAll();
        send({ type: 'ack', id: msg.id });
        return;
    }
  } catch (err) {
    send({ type: 'ack', id: msg.id, error: err instanceof Error ? err.message : String(err) });
  }
}

if (!process.send) {
  console.error('bench/puller.js is started by bench/run.js (it needs an IPC channel)');
  process.exit(2);
}
process.on('message', (m: ToPuller) => {
  void onMessage(m);
});
// The orchestrator going away (even by SIGKILL) closes the channel: exit with it.
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
send({ type: 'ready' });
