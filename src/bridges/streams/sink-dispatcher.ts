/**
 * Delivers each stream's events to its sinks: leases the sinks that have events waiting, reads
 * a batch after each one's cursor (its event types only), holds a partial batch until it fills
 * or its oldest event is `maxWaitSecs` old, runs the sink's transformation, hands the batch to
 * the sink's transport, and settles the sink: the cursor moves on success; a failure leaves it
 * where it was and sets `retrying` with a backoff, or `paused` when only a change to the sink can
 * help. Events are delivered at least once, in seq order per sink.
 *
 * Rounds run when events are appended (the event bus), when a local deadline comes (a held batch,
 * a retry) and on a slow tick for what other nodes scheduled; at most one round is pending at a
 * time. A bounded number of sinks are delivered at once, each on its own, so one slow sink never
 * holds up another; a sink never has two batches in flight. Leases fence nodes sharing a
 * database: a result whose lease was lost is dropped. Transports stay open between batches, one
 * per sink, and are reopened when the sink changes or after a failure.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../domain/clock.js';
import { newId } from '../../domain/ids.js';
import type { EventBus } from '../../engine/event-bus.js';
import type { Transformer } from '../../engine/transformations/transformer.js';
import type { LeasedSink, SinkAttempt, SinkRecord, SinkSettlement, SinkDeliveryStore, StreamEvent } from '../../storage/contract/streams.js';
import { openSinkTransport } from './transports/index.js';
import type { SinkTransportOptions } from './transports/transport-options.js';
import type { SinkEvent, SinkTarget, SinkTransport } from './sink-transport.js';
import { sinkBackoffMs } from './sink-backoff.js';
import { batchDecision, cursorAfter } from './sink-batch.js';
import { credentialsOf, describeFailure, permanentFailure } from './sink-failure.js';
import type { SinkFailure } from './sink-failure.js';
import { NO_SINK_METRICS } from './sink-metrics.js';
import type { SinkDeliveryObserver } from './sink-metrics.js';
import { hasSinkTransformation, sinkEventOf, transformBatch } from './sink-transform.js';

export interface SinkDispatcherOptions {
  streams: SinkDeliveryStore;
  bus: EventBus;
  clock: Clock;
  logger: Logger;
  /** Runs sink transformations; without it they are not applied. */
  transformer?: Transformer | undefined;
  /** Opens a sink's transport (the real ones by default; tests pass fakes). */
  openTransport?: ((target: SinkTarget) => SinkTransport) | undefined;
  /** What the default transports are opened with: the server's allowed networks (the HTTP sink's address guard), timeouts. */
  transportOptions?: SinkTransportOptions | undefined;
  /** Sinks delivered at once on this node (16 by default). */
  concurrency?: number | undefined;
  /** How long a lease lasts: longer than any transport's timeout (60 s by default). */
  leaseMs?: number | undefined;
  /** Longest pause between two rounds, for retries and deadlines set by other nodes (1 s by default). */
  tickMs?: number | undefined;
  /** How long `stop()` waits for deliveries in flight (10 s by default). */
  stopGraceMs?: number | undefined;
  /** How often transports of deleted, disabled and paused sinks are closed (30 s by default). */
  transportSweepMs?: number | undefined;
  observer?: SinkDeliveryObserver | undefined;
  /** Jitter of the retry backoff (Math.random by default). */
  random?: (() => number) | undefined;
}

interface OpenTransport {
  /** What the transport was opened with: a change reopens it. */
  key: string;
  transport: SinkTransport;
}

/** What a batch became before it is sent: the events to send, or why it cannot be. */
type Prepared = { kind: 'ok'; target: SinkTarget; events: SinkEvent[]; credentials: string[] } | { kind: 'failed'; failure: SinkFailure };

export class SinkDispatcher {
  private readonly streams: SinkDeliveryStore;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly openTransport: (target: SinkTarget) => SinkTransport;
  private readonly observer: SinkDeliveryObserver;
  private readonly concurrency: number;
  private readonly leaseMs: number;
  private readonly tickMs: number;
  private readonly stopGraceMs: number;
  private readonly sweepMs: number;
  private readonly random: () => number;

  private running = false;
  private unsubscribe: (() => void) | null = null;
  private timer: TimerHandle | null = null;
  private round: Promise<void> | null = null;
  private rerun = false;
  private wakeQueued = false;
  private lastSweep = Number.NEGATIVE_INFINITY;
  /** Deliveries in flight, by sink id. */
  private readonly inflight = new Map<string, Promise<void>>();
  /** Partial batches waiting on this node: until `dueAt`, or until their stream gets events. */
  private readonly held = new Map<string, { streamId: string; dueAt: number }>();
  /** Retries this node scheduled, by sink id, so a round runs when one is due. */
  private readonly retries = new Map<string, number>();
  private readonly transports = new Map<string, OpenTransport>();

  constructor(private readonly o: SinkDispatcherOptions) {
    this.streams = o.streams;
    this.clock = o.clock;
    this.logger = o.logger;
    this.openTransport = o.openTransport ?? ((target) => openSinkTransport(target, o.transportOptions));
    this.observer = o.observer ?? NO_SINK_METRICS;
    this.concurrency = Math.max(1, o.concurrency ?? 16);
    this.leaseMs = o.leaseMs ?? 60_000;
    this.tickMs = o.tickMs ?? 1000;
    this.stopGraceMs = o.stopGraceMs ?? 10_000;
    this.sweepMs = o.transportSweepMs ?? 30_000;
    this.random = o.random ?? Math.random;
  }

  /** Sinks being delivered on this node now. */
  get inFlight(): number {
    return this.inflight.size;
  }

  /** Transports open now. */
  get openTransports(): number {
    return this.transports.size;
  }

  /** Starts delivering: a first round now, then on appended events, deadlines and the tick. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.o.bus.on((e) => {
      if (e.kind !== 'stream.events.appended') return;
      // A held batch may be full now: its sink is read again.
      for (const [id, h] of this.held) if (h.streamId === e.streamId) this.held.delete(id);
      this.wake();
    });
    this.wake();
  }

  /** Stops leasing, waits up to the grace period for deliveries in flight, and closes every transport. */
  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.timer?.cancel();
    this.timer = null;
    await this.round;
    if (this.inflight.size > 0) {
      let timeout: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((r) => (timeout = setTimeout(r, this.stopGraceMs)));
      await Promise.race([Promise.allSettled([...this.inflight.values()]), grace]);
      clearTimeout(timeout);
      if (this.inflight.size > 0) this.logger.warn({ sinks: this.inflight.size }, 'stopped with sink deliveries in flight: their leases run out and they are retried');
    }
    const open = [...this.transports.keys()];
    await Promise.all(open.map((id) => this.closeTransport(id)));
  }

  /** One round: leases what is due, delivers it, and resolves when those deliveries are settled. */
  async runOnce(): Promise<void> {
    // Stopped, nothing tells this node of appended events: held batches are read again.
    if (!this.running) this.held.clear();
    await this.closeStaleTransports();
    const started = await this.leaseAndDeliver();
    await Promise.allSettled(started);
  }

  /** Asks for a round soon; requests made before it starts, or while one runs, make one more. */
  private wake(): void {
    if (!this.running) return;
    if (this.round) {
      this.rerun = true;
      return;
    }
    if (this.wakeQueued) return;
    this.wakeQueued = true;
    setImmediate(() => {
      this.wakeQueued = false;
      this.startRound();
    });
  }

  private startRound(): void {
    if (!this.running) return;
    if (this.round) {
      this.rerun = true;
      return;
    }
    this.round = (async () => {
      try {
        do {
          this.rerun = false;
          if (this.clock.now() - this.lastSweep >= this.sweepMs) await this.closeStaleTransports();
          // Deliveries run on their own (they never reject): the round does not wait for them.
          const started = await this.leaseAndDeliver();
          if (started.length > 0) this.logger.trace({ sinks: started.length }, 'sink deliveries started');
        } while (this.rerun && this.running);
      } catch (e) {
        this.logger.error({ err: e }, 'sink delivery round failed; the next one retries');
      } finally {
        this.round = null;
        this.armTimer();
      }
    })();
  }

  /** Sets the timer to the next local deadline, or the tick, whichever comes first. */
  private armTimer(): void {
    if (!this.running) return;
    const now = this.clock.now();
    let next = now + this.tickMs;
    for (const h of this.held.values()) next = Math.min(next, h.dueAt);
    for (const at of this.retries.values()) next = Math.min(next, at);
    this.timer?.cancel();
    this.timer = this.clock.setTimer(Math.max(0, next - now), () => {
      this.timer = null;
      this.startRound();
    });
  }

  /** Leases due sinks for the free slots and starts their deliveries; returns them. */
  private async leaseAndDeliver(): Promise<Promise<void>[]> {
    const now = this.clock.now();
    for (const [id, h] of this.held) if (h.dueAt <= now) this.held.delete(id);
    for (const [id, at] of this.retries) if (at <= now) this.retries.delete(id);
    let free = this.concurrency - this.inflight.size;
    if (free <= 0) return [];
    // Sinks held here are due in the store's eyes: lease room for them, so they take no slot.
    const leased = await this.streams.leaseDueSinks(now, this.leaseMs, free + this.held.size);
    const started: Promise<void>[] = [];
    const giveBack: LeasedSink[] = [];
    for (const l of leased) {
      const id = l.sink.id;
      if (this.inflight.has(id) || this.held.has(id) || free <= 0) {
        giveBack.push(l);
        continue;
      }
      free--;
      const p = this.deliver(l).finally(() => {
        this.inflight.delete(id);
        this.wake();
      });
      this.inflight.set(id, p);
      started.push(p);
    }
    await Promise.all(giveBack.map((l) => this.release(l)));
    return started;
  }

  /** One sink's round: read, hold or send, settle. Never rejects. */
  private async deliver(l: LeasedSink): Promise<void> {
    const { sink } = l;
    try {
      // Read before the events: what the read then skips up to it was filtered out (sink-batch.ts).
      const lastSeq = await this.streams.lastSeq(sink.streamId);
      const events = await this.streams.readEvents(sink.streamId, sink.cursor, sink.batchSize, sink.eventTypes);
      if (events.length === 0) {
        if (lastSeq > sink.cursor) await this.skipFiltered(l, lastSeq);
        else await this.release(l);
        return;
      }
      const decision = batchDecision(events, sink.batchSize, sink.maxWaitSecs, this.clock.now());
      if (decision.kind === 'wait') {
        this.held.set(sink.id, { streamId: sink.streamId, dueAt: decision.dueAt });
        await this.release(l);
        this.armTimer();
        return;
      }
      await this.send(l, events, cursorAfter(events, sink.batchSize, lastSeq, sink.cursor));
    } catch (e) {
      // The lease is kept until it runs out: a store that keeps failing is not hammered.
      this.logger.error({ err: e, sinkId: sink.id }, 'sink delivery round failed; the sink is tried again when its lease runs out');
    }
  }

  /** Sends a batch and settles the sink with the outcome. */
  private async send(l: LeasedSink, events: StreamEvent[], cursor: number): Promise<void> {
    const { sink } = l;
    const prepared = await this.prepare(sink, events);
    let failure: SinkFailure | null = prepared.kind === 'failed' ? prepared.failure : null;
    let sent = 0;
    const started = performance.now();
    if (prepared.kind === 'ok' && prepared.events.length > 0) {
      sent = prepared.events.length;
      try {
        const transport = this.transportFor(sink, prepared.target);
        await transport.deliver(prepared.events);
      } catch (e) {
        failure = describeFailure(e, prepared.credentials);
        // A transport that failed may hold a broken connection: the next batch opens a new one.
        await this.closeTransport(sink.id);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    if (sent > 0) this.observer.sinkDelivered({ type: sink.type, outcome: failure ? 'failure' : 'success', events: sent, seconds });
    const now = this.clock.now();
    const attempt: SinkAttempt = {
      id: newId('sinkAttempt', now),
      sinkId: sink.id,
      streamId: sink.streamId,
      firstSeq: events[0]!.seq,
      lastSeq: events[events.length - 1]!.seq,
      count: failure ? events.length : sent,
      outcome: failure ? 'failure' : 'success',
      responseStatus: failure?.status ?? null,
      error: failure?.reason ?? null,
      durationMs: Math.round(seconds * 1000),
      createdAt: now,
    };
    const settlement = failure ? this.failed(sink, failure, now) : succeeded(cursor);
    await this.settle(l, settlement, attempt);
    if (failure && !failure.retryable) {
      await this.closeTransport(sink.id);
      this.logger.warn({ sinkId: sink.id, streamId: sink.streamId, reason: failure.reason }, 'sink paused: deliveries cannot succeed until it is changed');
    } else if (failure) {
      this.logger.info({ sinkId: sink.id, streamId: sink.streamId, failures: settlement.failures, reason: failure.reason }, 'sink delivery failed; retrying later');
    }
  }

  /** The batch as it leaves: config decoded, transformation applied. */
  private async prepare(sink: SinkRecord, events: readonly StreamEvent[]): Promise<Prepared> {
    let config: unknown;
    try {
      config = JSON.parse(sink.config);
    } catch {
      return { kind: 'failed', failure: permanentFailure(`the ${sink.type} sink's config is not valid JSON`) };
    }
    if (config === null || typeof config !== 'object' || Array.isArray(config)) {
      return { kind: 'failed', failure: permanentFailure(`the ${sink.type} sink's config must be a JSON object`) };
    }
    const credentials = credentialsOf(sink.secret, sink.headers, config);
    const target: SinkTarget = { id: sink.id, streamId: sink.streamId, type: sink.type, config: config as Record<string, unknown>, secret: sink.secret, headers: sink.headers };
    const transformer = this.o.transformer;
    if (!transformer || !hasSinkTransformation(sink)) return { kind: 'ok', target, events: events.map(sinkEventOf), credentials };
    const t = await transformBatch(transformer, sink, events);
    if (t.kind === 'error') return { kind: 'failed', failure: permanentFailure(t.reason, credentials) };
    return { kind: 'ok', target, events: t.events, credentials };
  }

  /** The settlement of a failure: a retry after the backoff, or paused. */
  private failed(sink: SinkRecord, failure: SinkFailure, now: number): SinkSettlement {
    const failures = sink.failures + 1;
    if (!failure.retryable) {
      this.retries.delete(sink.id);
      return { status: 'paused', failureReason: failure.reason, nextRetryAt: null, failures };
    }
    const nextRetryAt = now + sinkBackoffMs(failures, this.random);
    this.retries.set(sink.id, nextRetryAt);
    return { status: 'retrying', failureReason: failure.reason, nextRetryAt, failures };
  }

  /**
   * Moves the cursor over events the sink's filter skips (nothing to send), so the store stops
   * offering the sink; the status is left as it is.
   */
  private async skipFiltered(l: LeasedSink, lastSeq: number): Promise<void> {
    const { sink } = l;
    const now = this.clock.now();
    const attempt: SinkAttempt = {
      id: newId('sinkAttempt', now),
      sinkId: sink.id,
      streamId: sink.streamId,
      firstSeq: sink.cursor + 1,
      lastSeq,
      count: 0,
      outcome: 'success',
      responseStatus: null,
      error: null,
      durationMs: 0,
      createdAt: now,
    };
    await this.settle(l, { cursor: lastSeq, status: sink.status, failureReason: sink.failureReason, nextRetryAt: sink.nextRetryAt, failures: sink.failures }, attempt);
  }

  private async settle(l: LeasedSink, settlement: SinkSettlement, attempt: SinkAttempt): Promise<void> {
    const kept = await this.streams.settleSink(l.sink.id, l.leaseToken, settlement, attempt);
    if (!kept) this.logger.debug({ sinkId: l.sink.id, leaseToken: l.leaseToken }, 'sink lease lost to another node: result dropped');
    if (settlement.status === 'enabled') this.retries.delete(l.sink.id);
  }

  private async release(l: LeasedSink): Promise<void> {
    await this.streams.releaseSink(l.sink.id, l.leaseToken);
  }

  /** The sink's open transport, opened (again) when there is none or the sink changed since. */
  private transportFor(sink: SinkRecord, target: SinkTarget): SinkTransport {
    const key = transportKey(sink);
    const open = this.transports.get(sink.id);
    if (open?.key === key) return open.transport;
    if (open) void this.closeTransport(sink.id);
    const transport = this.openTransport(target);
    this.transports.set(sink.id, { key, transport });
    return transport;
  }

  private async closeTransport(sinkId: string): Promise<void> {
    const open = this.transports.get(sinkId);
    if (!open) return;
    this.transports.delete(sinkId);
    try {
      await open.transport.close();
    } catch (e) {
      this.logger.debug({ err: e, sinkId }, 'closing a sink transport failed');
    }
  }

  /** Closes the transports of sinks deleted, disabled, paused or changed since they were opened. */
  private async closeStaleTransports(): Promise<void> {
    this.lastSweep = this.clock.now();
    if (this.transports.size === 0) return;
    const sinks = new Map((await this.streams.listDeliverableSinks()).map((s) => [s.id, s]));
    const stale = [...this.transports].filter(([id, open]) => {
      if (this.inflight.has(id)) return false;
      const sink = sinks.get(id);
      return !sink || sink.status === 'paused' || transportKey(sink) !== open.key;
    });
    await Promise.all(stale.map(([id]) => this.closeTransport(id)));
  }
}

/** The settlement of a delivered batch. */
function succeeded(cursor: number): SinkSettlement {
  return { cursor, status: 'enabled', failureReason: null, nextRetryAt: null, failures: 0 };
}

/** What a transport depends on: when any of it changes, the transport is reopened. */
function transportKey(sink: SinkRecord): string {
  return JSON.stringify([sink.updatedAt, sink.type, sink.config, sink.secret, sink.headers]);
}
