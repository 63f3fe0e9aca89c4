/**
 * Pull reads: polls by iterator, consumers with a server-kept cursor, long polling and SSE
 * streams. Every read goes by position (`seq`) in the message log, which is gap-free: a
 * reader sees positions in commit order and never passes one a later commit could fill.
 */
import type { Writable } from 'node:stream';
import type { Clock } from '../../domain/clock.js';
import { AppError, invalid } from '../../domain/errors.js';
import type { Message } from '../../domain/model.js';
import type { LogFilter, LogRead, PollingEndpoint, PullStore, SequencedMessage } from '../../storage/contract/pull.js';
import type { EventBus } from '../../engine/event-bus.js';
import { PollingEndpointService } from './polling-endpoints.js';
import { expired, formatPosition, logFilterMatches, parsePosition, pollerFilter } from './pull-filter.js';
import { PullNotifier } from './pull-notifier.js';
import { SharedLogReads } from './shared-log-reads.js';
import { EventStream } from './pull-stream.js';
import type { StreamEnd, StreamSettings } from './pull-stream.js';

export interface PullSettings extends StreamSettings {
  /** The poll-interval hint, in seconds, for a reader that has caught up. */
  pollIntervalSeconds: number;
  /** Most SSE streams open at once on this node. */
  maxStreams: number;
}

export interface PollQuery {
  iterator?: string | undefined;
  limit: number;
  eventType?: string | undefined;
  channel?: string | undefined;
  /** Without an iterator: start after this time (ms). */
  after?: number | undefined;
  /** Long polling: how long to hold an empty answer (ms). */
  waitMs: number;
}

export interface PollResult {
  messages: SequencedMessage[];
  /** Where the next read continues. */
  iterator: string;
  /** True when the reader has caught up. */
  done: boolean;
}

/** Counts held-open connections (metrics); the returned function is called when one closes. */
export type ConnectionObserver = (kind: 'long_poll' | 'sse') => () => void;

/** What a long poll tells its caller about its waiting. */
export interface Hold {
  /** Aborts the wait (the client left). */
  signal?: AbortSignal | undefined;
  /** Called once if the poll waits (its first read found nothing, or only the newest few messages while wake-ups are paced). */
  onHeld?: (() => void) | undefined;
}

/** Where a reader without an iterator starts. */
export type Origin = 'oldest' | 'now';

export class PullService {
  readonly endpoints: PollingEndpointService;
  private readonly notifier: PullNotifier;
  /** Reads of the log, shared by readers at the same position with the same filter. */
  readonly logReads: SharedLogReads;
  private readonly streams = new Set<EventStream>();
  private closing = false;
  /** Long polls held waiting for a message (their first read found nothing, or they lingered). */
  heldPolls = 0;
  /** Streams cut because their reader did not keep up. */
  slowDisconnects = 0;
  /** The most bytes any ended stream held in its buffer (bounded by the buffer setting plus one event). */
  maxStreamBuffered = 0;
  /** The highest log head read so far: the head only grows, so an iterator at or below it needs no store read. */
  private knownHead = 0;

  constructor(
    private readonly store: PullStore,
    private readonly clock: Clock,
    /** Real monotonic time, on which readers' wake-ups are paced (`PullNotifier`). */
    pace: Clock,
    bus: EventBus,
    readonly settings: PullSettings,
    private readonly observe: ConnectionObserver = () => () => undefined,
  ) {
    this.endpoints = new PollingEndpointService(store, clock);
    this.logReads = new SharedLogReads((appId, after, limit, filter) => store.readLog(appId, after, limit, filter), () => clock.now());
    // A commit outdates the application's shared answers before any of its readers wakes.
    this.notifier = new PullNotifier(bus, clock, (appId) => this.logReads.invalidate(appId), pace);
  }

  /**
   * The position a read starts after: a given iterator (checked against the log), else the
   * first message after `after`, else the oldest retained message or the present.
   * `readFollows`: the caller reads after an iterator's position at once, and that read
   * answers 410 if the position is behind the horizon, so it is not read here too.
   */
  async startPosition(
    appId: string,
    o: { iterator?: string | undefined; loc?: (string | number)[]; after?: number | undefined; origin: Origin; readFollows?: boolean },
  ): Promise<number> {
    if (o.iterator !== undefined) {
      const p = parsePosition(o.iterator, o.loc ?? ['query', 'iterator']);
      if (p > this.knownHead) this.knownHead = Math.max(this.knownHead, await this.store.head());
      if (p > this.knownHead) throw invalid(o.loc ?? ['query', 'iterator'], 'this iterator is ahead of the log; it did not come from this server');
      if (o.readFollows) return p;
      const horizon = await this.store.horizon(appId);
      if (p < horizon) throw expired(p, horizon);
      return p;
    }
    const horizon = await this.store.horizon(appId);
    if (o.after !== undefined) return Math.max(await this.store.positionAt(appId, o.after), horizon);
    return o.origin === 'now' ? Math.max(await this.store.head(), horizon) : horizon;
  }

  /** A 410 if messages after the position were deleted. */
  async ensureRetained(appId: string, position: number): Promise<void> {
    const horizon = await this.store.horizon(appId);
    if (horizon > position) throw expired(position, horizon);
  }

  /** Reads after a position; a deletion past the position is a 410, never a silent skip. */
  async read(appId: string, after: number, limit: number, filter: LogFilter): Promise<LogRead> {
    const r = await this.logReads.readOnce(appId, after, limit, filter);
    if (r.horizon > after) throw expired(after, r.horizon);
    return r;
  }

  /** A stateless poll of a polling endpoint (`GET /poller/{id}`). */
  async poll(pe: PollingEndpoint, q: PollQuery, hold?: Hold): Promise<PollResult> {
    const filter = pollerFilter(pe, q.eventType, q.channel);
    const start = await this.startPosition(pe.appId, { iterator: q.iterator, after: q.after, origin: 'oldest', readFollows: true });
    return this.readPage(pe.appId, start, q.limit, filter, q.waitMs, hold);
  }

  /**
   * A consumer's poll. Passing the iterator of the previous answer commits it as the
   * consumer's cursor; without one, reading resumes at the committed cursor, so a consumer
   * that crashed mid-batch gets that batch again.
   */
  async consumerPoll(pe: PollingEndpoint, consumerId: string, q: Pick<PollQuery, 'iterator' | 'limit' | 'waitMs'>, hold?: Hold): Promise<PollResult> {
    const cursor = await this.consumerCursor(pe, consumerId, q.iterator, ['query', 'iterator']);
    return this.readPage(pe.appId, cursor, q.limit, pollerFilter(pe), q.waitMs, hold);
  }

  /** Moves a consumer's cursor to just before its first message created after `afterMs`. */
  async seek(pe: PollingEndpoint, consumerId: string, afterMs: number): Promise<string> {
    const p = await this.startPosition(pe.appId, { after: afterMs, origin: 'oldest' });
    await this.store.setCursor(pe.id, consumerId, p, this.clock.now());
    return formatPosition(p);
  }

  /**
   * The consumer's cursor after acknowledging `iterator` (if given): an acknowledged
   * position is committed; a new consumer starts at the oldest retained message.
   */
  async consumerCursor(pe: PollingEndpoint, consumerId: string, iterator: string | undefined, loc: (string | number)[]): Promise<number> {
    if (iterator !== undefined) {
      const p = await this.startPosition(pe.appId, { iterator, loc, origin: 'oldest' });
      await this.store.setCursor(pe.id, consumerId, p, this.clock.now());
      return p;
    }
    const stored = await this.store.getCursor(pe.id, consumerId);
    if (stored !== null) return stored;
    const start = await this.store.horizon(pe.appId);
    await this.store.setCursor(pe.id, consumerId, start, this.clock.now());
    return start;
  }

  /** One page after `start`, long-polled for up to `waitMs` while empty. */
  async readPage(appId: string, start: number, limit: number, filter: LogFilter, waitMs: number, hold?: Hold): Promise<PollResult> {
    const r = await this.waitFor(
      appId,
      (m) => logFilterMatches(filter, m),
      waitMs,
      hold,
      () => this.read(appId, start, limit, filter),
      (x) => x.messages.length === 0,
      (x) => !x.more,
    );
    const last = r.messages[r.messages.length - 1];
    return { messages: r.messages, iterator: formatPosition(last ? last.seq : start), done: !r.more };
  }

  /**
   * Long polling for any read: runs `read`; while its answer is empty, holds on until a
   * matching message is published (then reads again), `waitMs` pass, `hold.signal` aborts
   * (the client left) or the server stops. Event-driven: nothing runs while waiting.
   *
   * While the notifier paces wake-ups (many readers), a poll that arrives to find only the
   * newest few messages (`atHead`: a partial page) waits for the next wake-up and reads again
   * before answering. Otherwise a caught-up poll, coming back right after each answer, finds
   * what was committed meanwhile and is answered at once, over and over: a crowd of them
   * would cost a whole request per commit each, whatever the pacing. So it is answered once
   * per wake-up, like a stream, with everything that arrived by then.
   */
  async waitFor<T>(
    appId: string,
    matches: (m: Message) => boolean,
    waitMs: number,
    hold: Hold | undefined,
    read: () => Promise<T>,
    isEmpty: (t: T) => boolean,
    atHead: (t: T) => boolean = () => false,
  ): Promise<T> {
    if (waitMs <= 0 || this.closing) return read();
    const sub = this.notifier.subscribe(appId, matches);
    const deadline = this.clock.now() + waitMs;
    const closed = this.observe('long_poll');
    let held = false;
    try {
      for (;;) {
        sub.reset();
        const r = await read();
        const left = deadline - this.clock.now();
        if (left <= 0 || this.closing) return r;
        // Only a poll's first read lingers: once held (waiting, or lingered once) it answers what it finds.
        const lingers = !held && !isEmpty(r) && this.notifier.pacing && atHead(r);
        if (!isEmpty(r) && !lingers) return r;
        if (!held) {
          held = true;
          this.heldPolls++;
          hold?.onHeld?.();
        }
        const woken = await sub.next(lingers ? Math.min(left, this.notifier.interval) : left, hold?.signal);
        if (hold?.signal?.aborted || (!woken && !lingers)) return r;
      }
    } finally {
      if (held) this.heldPolls--;
      sub.close();
      closed();
    }
  }

  /** Refuses a new stream when the node holds its maximum. */
  admitStream(): void {
    if (this.closing) throw new AppError('unavailable', 'the server is shutting down');
    if (this.streams.size >= this.settings.maxStreams) {
      throw new AppError('unavailable', `this server holds its maximum of ${this.settings.maxStreams} streams; retry later or use long polling`);
    }
  }

  /** Streams the application's messages matching `filter` after `start` to `sink` as SSE. */
  openStream(sink: Writable, appId: string, filter: LogFilter, start: number): EventStream {
    const closed = this.observe('sse');
    const stream = new EventStream({
      ...this.settings,
      sink,
      clock: this.clock,
      subscription: this.notifier.subscribe(appId, (m) => logFilterMatches(filter, m)),
      start,
      read: this.logReads.reader(appId, filter),
      onEnd: (s, why: StreamEnd) => {
        this.streams.delete(s);
        closed();
        if (why === 'slow') this.slowDisconnects++;
        this.maxStreamBuffered = Math.max(this.maxStreamBuffered, s.maxBuffered);
      },
    });
    this.streams.add(stream);
    stream.start();
    return stream;
  }

  /** The most bytes any open stream has held in its buffer so far. */
  get maxOpenStreamBuffered(): number {
    let most = 0;
    for (const s of this.streams) most = Math.max(most, s.maxBuffered);
    return most;
  }

  /** Open streams waiting for their client to drain a full buffer (readers that fell behind). */
  get streamsWaitingForDrain(): number {
    let n = 0;
    for (const s of this.streams) if (s.waitingForDrain) n++;
    return n;
  }

  /** Open SSE streams. */
  get streamCount(): number {
    return this.streams.size;
  }

  /** Whether a long poll or stream on this node waits for the application's messages. */
  readsApp(appId: string): boolean {
    return this.notifier.reads(appId);
  }

  /**
   * Another node committed messages of the application that no reader here waits for: answers
   * kept of its log are outdated (readers here would be woken by the messages themselves).
   */
  committedElsewhere(appId: string): void {
    this.logReads.invalidate(appId);
  }

  /**
   * Readers subscribed for messages (long polls and streams). A long poll counts from before
   * its first read; `heldPolls` counts only those that found nothing and wait.
   */
  get waiting(): number {
    return this.notifier.size;
  }

  /** The poll-interval hint for an answer: at once while more is waiting, else the setting. */
  pollInterval(done: boolean): number {
    return done ? this.settings.pollIntervalSeconds : 0;
  }

  /** True once the server is shutting down: answers should close their connection. */
  get isClosing(): boolean {
    return this.closing;
  }

  /** Server shutdown: ends every stream and answers every long poll now. */
  close(): void {
    if (this.closing) return;
    this.closing = true;
    for (const s of [...this.streams]) s.close('shutdown');
    this.notifier.close();
  }
}
