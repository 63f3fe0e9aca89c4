/**
 * `switchboard listen`: receive an application's messages on a machine with no public URL
 * and forward each one to a local URL as a signed webhook, for development.
 *
 * It reads the server's SSE stream (or, if streams do not get through, the same stream
 * long-polled), forwards each message's payload bytes unchanged with a fresh Standard
 * Webhooks signature under a `whsec_` secret kept in a state file, and saves the position
 * after each message, so a restart resumes exactly where it stopped.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import { agentClass, request } from '../platform/http-client.js';
import { generateSecret, secretKey, sign } from '../domain/signature.js';
import { SseParser, rawPayload } from './listen-sse.js';
import type { SseEvent } from './listen-sse.js';

export interface ListenOptions {
  app: string;
  forwardTo: string;
  types: string[];
  channel: string | undefined;
  server: string;
  token: string;
  /** State file: the signing secret and the saved positions. */
  state: string;
  transport: 'auto' | 'sse' | 'poll';
  /** Ignore the saved position and start with messages published from now on. */
  fromNow: boolean;
  /** Ignore the saved position and start with messages published since this time (ISO 8601). */
  since?: string | undefined;
}

interface ListenState {
  secret: string;
  /** Saved position per server, application and filter. */
  cursors: Record<string, string>;
}

/** A problem retrying cannot fix (bad token, unknown application, position expired). */
export class FatalError extends Error {}
/** The server's answer is not an event stream (a proxy in between): switch to long polling. */
class NotAStream extends Error {}

/** How long a stream may stay silent before the connection is considered lost (the server's heartbeat is 15 s). */
const STREAM_IDLE_MS = 60_000;
/** A stream whose first bytes do not arrive in this time is being held back by something in between. */
const FIRST_BYTES_MS = 10_000;
const POLL_WAIT_SECONDS = 25;
const FORWARD_TIMEOUT_MS = 30_000;
const MAX_BACKOFF_MS = 30_000;

function loadState(path: string): ListenState {
  if (existsSync(path)) {
    const s = JSON.parse(readFileSync(path, 'utf8')) as Partial<ListenState>;
    if (typeof s.secret !== 'string' || !s.secret.startsWith('whsec_')) throw new FatalError(`${path} holds no whsec_ secret; delete it to start afresh`);
    return { secret: s.secret, cursors: s.cursors ?? {} };
  }
  return { secret: generateSecret(), cursors: {} };
}

/** Writes the state atomically (a crash leaves the old or the new file, never half of one). */
function saveState(path: string, s: ListenState): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(s, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, path);
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export class Listener {
  private readonly agent = new (agentClass())({ keepAliveTimeout: 30_000 });
  private readonly state: ListenState;
  private readonly key: string;
  private mode: 'sse' | 'poll';
  /** Whether the current long-polling session has been announced. */
  private connected = false;

  constructor(
    private readonly o: ListenOptions,
    private readonly out: (line: string) => void,
  ) {
    this.state = loadState(o.state);
    this.key = [o.server.replace(/\/+$/, ''), o.app, o.types.join(','), o.channel ?? ''].join(' ');
    if (o.fromNow || o.since !== undefined) delete this.state.cursors[this.key];
    saveState(o.state, this.state);
    this.mode = o.transport === 'poll' ? 'poll' : 'sse';
  }

  get secret(): string {
    return this.state.secret;
  }

  /** Runs until `signal` aborts; throws a FatalError for problems retrying cannot fix. */
  async run(signal: AbortSignal): Promise<void> {
    this.out(`Signing secret: ${this.state.secret} (kept in ${this.o.state}; stays the same across restarts)`);
    this.out(`Forwarding messages of application ${this.o.app}${this.o.types.length ? ` (${this.o.types.join(', ')})` : ''} to ${this.o.forwardTo}`);
    let failures = 0;
    try {
      while (!signal.aborted) {
        let reason: string;
        try {
          if (this.mode === 'poll') {
            if (await this.poll(signal)) failures = 0;
            continue;
          }
          const progressed = await this.stream(signal);
          // The server ended the stream (a restart, a slow-reader cut): reconnect soon.
          failures = progressed ? 1 : failures + 1;
          reason = 'the server ended the stream';
        } catch (e: unknown) {
          if (signal.aborted) break;
          if (e instanceof FatalError) throw e;
          if (e instanceof NotAStream && this.o.transport === 'auto') {
            this.mode = 'poll';
            this.out(`The server's stream does not get through (${e.message}); switching to long polling`);
            continue;
          }
          this.connected = false;
          failures++;
          reason = e instanceof Error ? e.message : String(e);
        }
        if (signal.aborted) break;
        const delay = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(failures - 1, 10)) * (0.5 + Math.random() / 2);
        this.out(`Connection lost (${reason}); reconnecting in ${(delay / 1000).toFixed(1)} s`);
        await sleep(delay, signal);
      }
    } finally {
      await this.agent.close();
    }
  }

  private get cursor(): string | undefined {
    return this.state.cursors[this.key];
  }

  private saveCursor(position: string): void {
    if (this.state.cursors[this.key] === position) return;
    this.state.cursors[this.key] = position;
    saveState(this.o.state, this.state);
  }

  private url(extra: Record<string, string>): URL {
    const u = new URL(`/api/v1/app/${encodeURIComponent(this.o.app)}/msg/stream`, this.o.server);
    if (this.o.types.length > 0) u.searchParams.set('event_types', this.o.types.join(','));
    if (this.o.channel) u.searchParams.set('channel', this.o.channel);
    // Without a position yet, `--since` picks the start; the stream's first id then takes over.
    if (this.cursor === undefined && this.o.since !== undefined) u.searchParams.set('after', this.o.since);
    for (const [k, v] of Object.entries(extra)) u.searchParams.set(k, v);
    return u;
  }

  private headers(): Record<string, string> {
    const h: Record<string, string> = { authorization: `Bearer ${this.o.token}`, accept: 'text/event-stream' };
    if (this.cursor !== undefined) h['last-event-id'] = this.cursor;
    return h;
  }

  /** Turns a refused request into a FatalError (4xx) or a retryable Error. */
  private async refused(res: Dispatcher.ResponseData): Promise<Error> {
    const text = await res.body.text();
    let detail = text.slice(0, 500);
    try {
      const b = JSON.parse(text) as { code?: string; detail?: unknown };
      detail = `${b.code ?? res.statusCode}: ${typeof b.detail === 'string' ? b.detail : JSON.stringify(b.detail)}`;
    } catch {
      /* not JSON */
    }
    const retryable = res.statusCode >= 500 || res.statusCode === 408 || res.statusCode === 429;
    return retryable ? new Error(`HTTP ${res.statusCode} ${detail}`) : new FatalError(`the server refused (HTTP ${res.statusCode}) ${detail}`);
  }

  /** Holds one SSE connection until it ends; true if it received a message. */
  private async stream(signal: AbortSignal): Promise<boolean> {
    const ac = new AbortController();
    const abort = (): void => ac.abort();
    signal.addEventListener('abort', abort, { once: true });
    let firstBytes: NodeJS.Timeout | undefined;
    try {
      const res = await request(this.url({}), {
        headers: this.headers(),
        signal: ac.signal,
        dispatcher: this.agent,
        headersTimeout: FIRST_BYTES_MS * 3,
        bodyTimeout: STREAM_IDLE_MS,
      });
      if (res.statusCode !== 200) throw await this.refused(res);
      const type = String(res.headers['content-type'] ?? '');
      if (!type.startsWith('text/event-stream')) {
        await res.body.dump();
        throw new NotAStream(`content-type ${type || 'none'}`);
      }
      let silent = true;
      firstBytes = setTimeout(() => ac.abort(), FIRST_BYTES_MS);
      const events: SseEvent[] = [];
      const parser = new SseParser({ onEvent: (e) => events.push(e), onId: (id) => this.saveCursor(id) });
      const decoder = new TextDecoder();
      let progressed = false;
      try {
        for await (const chunk of res.body) {
          if (silent) {
            silent = false;
            clearTimeout(firstBytes);
            this.out(`Connected to ${this.o.server} (stream)`);
          }
          parser.push(decoder.decode(chunk as Buffer, { stream: true }));
          for (let e = events.shift(); e; e = events.shift()) {
            if (await this.handle(e)) progressed = true;
          }
        }
      } catch (e: unknown) {
        if (silent && ac.signal.aborted && !signal.aborted) throw new NotAStream(`no data within ${FIRST_BYTES_MS / 1000} s`);
        throw e;
      }
      return progressed;
    } finally {
      clearTimeout(firstBytes);
      signal.removeEventListener('abort', abort);
    }
  }

  /** One long poll of the stream; true if it received messages. */
  private async poll(signal: AbortSignal): Promise<boolean> {
    // The first poll answers at once: it confirms the connection and fixes the position.
    const res = await request(this.url({ wait: String(this.connected ? POLL_WAIT_SECONDS : 0), limit: '100' }), {
      headers: this.headers(),
      signal,
      dispatcher: this.agent,
      headersTimeout: (POLL_WAIT_SECONDS + 30) * 1000,
      bodyTimeout: 30_000,
    });
    if (res.statusCode !== 200) throw await this.refused(res);
    if (!this.connected) {
      this.connected = true;
      this.out(`Connected to ${this.o.server} (long polling)`);
    }
    const events: SseEvent[] = [];
    const parser = new SseParser({ onEvent: (e) => events.push(e), onId: (id) => this.saveCursor(id) });
    parser.push(await res.body.text());
    let forwarded = false;
    for (const e of events) if (await this.handle(e)) forwarded = true;
    return forwarded;
  }

  /** Forwards one message event and saves its position; true if it was a message. */
  private async handle(e: SseEvent): Promise<boolean> {
    if (e.event === 'error') {
      const b = JSON.parse(e.data) as { code?: string; detail?: string };
      throw new FatalError(`${b.code ?? 'error'}: ${b.detail ?? e.data}${b.code === 'iterator_expired' ? ' (run with --from-now to skip ahead)' : ''}`);
    }
    // The stream's start position: saved so a restart before any message resumes from it.
    if (e.event === 'position') {
      this.saveCursor(e.lastEventId);
      return false;
    }
    if (e.event !== 'message') return false;
    const meta = JSON.parse(e.data) as { id: string; eventType: string };
    const body = Buffer.from(rawPayload(e.data), 'utf8');
    const ts = Math.floor(Date.now() / 1000);
    const started = performance.now();
    let outcome: string;
    try {
      const res = await request(this.o.forwardTo, {
        method: 'POST',
        dispatcher: this.agent,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'switchboard-listen',
          'webhook-id': meta.id,
          'webhook-timestamp': String(ts),
          'webhook-signature': sign(secretKey(this.state.secret), meta.id, ts, body),
        },
        body,
        headersTimeout: FORWARD_TIMEOUT_MS,
        bodyTimeout: FORWARD_TIMEOUT_MS,
      });
      await res.body.dump();
      outcome = String(res.statusCode);
    } catch (err: unknown) {
      outcome = `failed: ${(err as { code?: string }).code ?? (err instanceof Error ? err.message : String(err))}`;
    }
    const ms = Math.round(performance.now() - started);
    this.out(`${new Date().toISOString()}  ${meta.eventType}  ${meta.id}  -> ${outcome} (${ms} ms)`);
    this.saveCursor(e.lastEventId);
    return true;
  }
}
