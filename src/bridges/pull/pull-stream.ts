/**
 * One Server-Sent Events stream of an application's messages. Each event's `id:` is its
 * position, so a client reconnecting with `Last-Event-ID` resumes with no gap and no
 * duplicate. Messages are read from the store after the position, never queued in memory:
 * a slow reader holds at most `bufferBytes` (plus one event) of written data, and one that
 * does not drain it within `stallMs` is disconnected and resumes later from its last id.
 * While it waits, the other streams go on: each stream has its own position, and one that
 * fell behind catches up from the store. Streams at the same position share one read and
 * its encoded bytes, and write a page's frames with one write.
 */
import type { Writable } from 'node:stream';
import type { Clock, TimerHandle } from '../../domain/clock.js';
import type { LogRead } from '../../storage/contract/pull.js';
import { formatPosition } from './pull-filter.js';
import type { Subscription } from './pull-notifier.js';
import { encodedPage, eventFrame, framesWithin, streamPreamble } from './sse-frames.js';

export interface StreamSettings {
  /** A comment line is sent this often, so proxies and clients see the connection alive. */
  heartbeatMs: number;
  /** Written but unsent bytes above which the stream waits for the client to drain. */
  bufferBytes: number;
  /** How long a full buffer may wait to drain before the client is disconnected. */
  stallMs: number;
  /** The `retry:` hint: how long a client waits before reconnecting. */
  retryMs: number;
}

export type StreamEnd = 'client' | 'slow' | 'expired' | 'shutdown' | 'error';

export interface StreamOptions extends StreamSettings {
  sink: Writable;
  clock: Clock;
  /** Subscribed before the first read. */
  subscription: Subscription;
  /** Position to stream after. */
  start: number;
  /** Reads matching messages after a position. */
  read: (after: number, limit: number) => Promise<LogRead>;
  /** Called once when the stream ends, with why. */
  onEnd: (stream: EventStream, why: StreamEnd) => void;
}

/** The `retry:` hint sent to clients: reconnect after this many milliseconds. */
export const SSE_RETRY_MS = 3000;

/** Messages read per store query while catching up. */
const PAGE = 100;

export class EventStream {
  /** The position of the last event written. */
  cursor: number;
  /** Most bytes ever waiting in this stream's buffer (for tests and metrics). */
  maxBuffered = 0;
  /** True while the buffer is full and the stream waits for its client to drain it. */
  waitingForDrain = false;
  private closed = false;
  private heartbeat: TimerHandle | null = null;

  constructor(private readonly o: StreamOptions) {
    this.cursor = o.start;
  }

  /** Sends the preamble and starts streaming. */
  start(): void {
    const sink = this.o.sink;
    if (sink.destroyed) return this.finish('client');
    sink.once('close', () => this.finish('client'));
    sink.on('error', () => this.finish('client'));
    sink.write(streamPreamble(this.cursor, this.o.retryMs));
    this.armHeartbeat();
    this.pump().catch(() => this.close('error'));
  }

  /** Ends the stream from the server side. */
  close(why: StreamEnd): void {
    if (this.closed) return;
    const sink = this.o.sink;
    // Unsent data would hold the connection open: a slow or stopping stream is cut.
    if (why === 'slow' || sink.writableLength > 0) sink.destroy();
    else sink.end();
    this.finish(why);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private finish(why: StreamEnd): void {
    if (this.closed) return;
    this.closed = true;
    this.heartbeat?.cancel();
    this.o.subscription.close();
    this.o.onEnd(this, why);
  }

  private armHeartbeat(): void {
    this.heartbeat = this.o.clock.setTimer(this.o.heartbeatMs, () => {
      if (this.closed) return;
      if (this.o.sink.writableLength < this.o.bufferBytes) this.o.sink.write(':\n\n');
      this.armHeartbeat();
    });
  }

  private async pump(): Promise<void> {
    const sub = this.o.subscription;
    while (!this.closed) {
      sub.reset();
      const r = await this.o.read(this.cursor, PAGE);
      if (this.closed) return;
      if (r.horizon > this.cursor) {
        const detail = `messages after position ${this.cursor} were deleted by retention; reconnect without Last-Event-ID or from a newer position`;
        this.o.sink.write(eventFrame(formatPosition(this.cursor), JSON.stringify({ code: 'iterator_expired', detail }), 'error'));
        this.close('expired');
        return;
      }
      const page = encodedPage(r);
      const sink = this.o.sink;
      // The page goes out in slices that fit the buffer's room (at least one frame each).
      for (let i = 0; i < page.seqs.length; ) {
        const n = framesWithin(page, i, this.o.bufferBytes - sink.writableLength);
        sink.write(page.bytes.subarray(i === 0 ? 0 : page.ends[i - 1], page.ends[i + n - 1]));
        i += n;
        this.cursor = page.seqs[i - 1]!;
        const buffered = sink.writableLength;
        if (buffered > this.maxBuffered) this.maxBuffered = buffered;
        // writableNeedDrain: a 'drain' event will follow, so waiting for it cannot hang.
        if (buffered >= this.o.bufferBytes && sink.writableNeedDrain) {
          this.waitingForDrain = true;
          const drained = await this.drained();
          this.waitingForDrain = false;
          if (!drained) {
            this.close('slow');
            return;
          }
          if (this.closed) return;
        }
      }
      if (!r.more) await sub.next(Infinity);
    }
  }

  /** Waits for the buffer to drain; false if it stays full for `stallMs` or the client goes. */
  private drained(): Promise<boolean> {
    const sink = this.o.sink;
    if (!sink.writableNeedDrain) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const done = (ok: boolean): void => {
        timer.cancel();
        sink.removeListener('drain', onDrain);
        sink.removeListener('close', onClose);
        resolve(ok);
      };
      const onDrain = (): void => done(true);
      const onClose = (): void => done(false);
      const timer = this.o.clock.setTimer(this.o.stallMs, () => done(false));
      sink.once('drain', onDrain);
      sink.once('close', onClose);
    });
  }
}
