/**
 * Server-Sent Events: a parser for `text/event-stream` bodies and a reader that reconnects
 * with `Last-Event-ID`, so a dropped connection resumes with no gap and no duplicate.
 */
import { SwitchboardError, errorOf } from './http.js';
import type { Http, Query } from './http.js';

export interface SseEvent {
  /** The `id:` field; absent if the event had none. */
  id: string | undefined;
  /** The `event:` field; `message` by default. */
  event: string;
  data: string;
  /** A `retry:` hint (milliseconds) given with this event, if any. */
  retry: number | undefined;
}

/** Parses an event stream into events, as the HTML standard describes. */
export async function* parseEventStream(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let buffer = '';
  let data: string[] = [];
  let event = '';
  let id: string | undefined;
  let retry: number | undefined;
  let sawId = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      for (;;) {
        const m = /\r\n|\n|\r/.exec(buffer);
        // A lone CR at the end may be the first half of CRLF: wait for more.
        if (!m || (m[0] === '\r' && m.index === buffer.length - 1 && !done)) break;
        const line = buffer.slice(0, m.index);
        buffer = buffer.slice(m.index + m[0].length);
        if (line === '') {
          if (data.length > 0 || sawId) yield { id, event: event || 'message', data: data.join('\n'), retry };
          data = [];
          event = '';
          retry = undefined;
          sawId = false;
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let v = colon < 0 ? '' : line.slice(colon + 1);
        if (v.startsWith(' ')) v = v.slice(1);
        if (field === 'data') data.push(v);
        else if (field === 'event') event = v;
        else if (field === 'id' && !v.includes('\0')) {
          id = v;
          sawId = true;
        } else if (field === 'retry' && /^\d+$/.test(v)) retry = Number(v);
      }
      if (done) return;
    }
  } finally {
    reader.releaseLock();
    await body.cancel().catch(() => undefined);
  }
}

export interface StreamOptions {
  /** Resume after this position (the `id` of the last event handled). */
  lastEventId?: string | undefined;
  /** Stops the stream. */
  signal?: AbortSignal | undefined;
  /** Reconnect when the connection drops (default true). */
  reconnect?: boolean;
  /** Longest wait before reconnecting; the server's `retry:` hint is used up to this (default 3000 ms). */
  maxRetryDelayMs?: number;
}

/** An event and the position to resume after it. */
export interface PositionedEvent {
  position: string;
  event: SseEvent;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

/**
 * Reads a stream route, reconnecting with `Last-Event-ID` after drops. Client errors (4xx)
 * and `event: error` frames (a position past retention) end it with a SwitchboardError.
 */
export async function* readStream(http: Http, path: string, query: Query, opts: StreamOptions = {}): AsyncGenerator<PositionedEvent> {
  let position = opts.lastEventId;
  let delay = Math.min(opts.maxRetryDelayMs ?? 3000, 3000);
  let failures = 0;
  while (!opts.signal?.aborted) {
    let res: Response | undefined;
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (position !== undefined) headers['last-event-id'] = position;
      res = await http.raw('GET', path, { query, headers, signal: opts.signal });
    } catch (e: unknown) {
      if (opts.signal?.aborted) return;
      if (opts.reconnect === false) throw e;
    }
    if (res && !res.ok) {
      const err = await errorOf(res);
      if (res.status < 500 && res.status !== 429) throw err;
      if (opts.reconnect === false) throw err;
    }
    if (res?.ok && res.body) {
      failures = 0;
      try {
        for await (const ev of parseEventStream(res.body)) {
          if (ev.retry !== undefined) delay = Math.min(ev.retry, opts.maxRetryDelayMs ?? 3000);
          if (ev.event === 'error') {
            let body: { code?: string; detail?: string } = {};
            try {
              body = JSON.parse(ev.data) as typeof body;
            } catch {
              // keep it empty
            }
            throw new SwitchboardError(410, body.code ?? 'stream_error', body.detail ?? ev.data, body);
          }
          if (ev.id !== undefined) position = ev.id;
          // The opening frame: a `position` event (an id without data from older servers).
          if (ev.event === 'position' || (ev.data === '' && ev.event === 'message')) continue;
          yield { position: position ?? '', event: ev };
        }
      } catch (e: unknown) {
        if (e instanceof SwitchboardError || opts.signal?.aborted) {
          if (opts.signal?.aborted) return;
          throw e;
        }
        if (opts.reconnect === false) throw e;
      }
    }
    if (opts.reconnect === false || opts.signal?.aborted) return;
    failures++;
    await sleep(failures > 1 ? Math.min(delay * 2 ** Math.min(failures - 1, 5), 30_000) : delay, opts.signal);
  }
}
