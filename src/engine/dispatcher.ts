/**
 * The dispatcher: takes leased deliveries, sends them, records each attempt and
 * schedules what comes next.
 *
 * Deliveries reach it two ways. On publish, a delivery whose endpoint has a free slot
 * and a rate token is inserted already leased to this node and handed over at once
 * (no claim query on the hot path). Everything else (retries, backlog behind a rate
 * limit or concurrency cap, leases left by a crash) is claimed from the store, one
 * endpoint at a time, so a slow endpoint only ever waits on its own slots.
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../domain/clock.js';
import { newId } from '../domain/ids.js';
import { DeliveryStatus, TriggerType } from '../domain/model.js';
import type { Attempt } from '../domain/model.js';
import { nextRetry, parseRetryAfter } from '../domain/retry-policy.js';
import { secretKey, signatureHeader } from '../domain/signature.js';
import { TokenBucket, throttleBurst } from '../domain/token-bucket.js';
import type { AttemptRecord, ClaimedDelivery, Store } from '../storage/contract/store.js';
import type { CappedClaim } from '../storage/contract/cluster.js';
import type { SendResult, Sender } from './http-sender.js';
import { AttemptWriter } from './attempt-writer.js';
import { publishAttempt, publishEndpointState } from './channels.js';
import { hasTransformation } from './transformations/transformer.js';
import type { Transformer } from './transformations/transformer.js';

export interface DispatcherOptions {
  store: Store;
  sender: Sender;
  clock: Clock;
  logger: Logger;
  retrySchedule: readonly number[];
  endpointConcurrency: number;
  maxInflight: number;
  /** How long a lease lasts; longer than a request can take. */
  leaseMs: number;
  disableAfterMs: number;
  /** Safety-net sweep for due work, in ms. */
  sweepIntervalMs?: number;
  /** Runs endpoint transformations before sending; without it they are not applied. */
  transformer?: Transformer;
  random?: () => number;
  userAgent?: string;
}

interface EndpointState {
  inflight: number;
  bucket: TokenBucket | null;
  rate: number | null;
  /** The store may hold due deliveries for this endpoint that are not in memory. */
  backlog: boolean;
  claiming: boolean;
  again: boolean;
  timer: TimerHandle | null;
}

/** Stored response bodies are cut to this many characters. */
const STORED_RESPONSE_CHARS = 64 * 1024;

/** How an attempt ended, decided before it is recorded. */
export type Outcome =
  | { kind: 'delivered' }
  | { kind: 'retry'; at: number }
  | { kind: 'failed'; reason: string; disableEndpoint: boolean };

export class Dispatcher {
  private readonly endpoints = new Map<string, EndpointState>();
  private inflight = 0;
  private stopping = false;
  private started = false;
  private readonly writer: AttemptWriter;
  private wakeTimer: TimerHandle | null = null;
  private wakeAt = Infinity;
  private sweepTimer: TimerHandle | null = null;
  private sweeping = false;
  private readonly inflightRefs = new Map<number, { deliveryId: number; leaseToken: number }>();
  private idleWaiters: (() => void)[] = [];
  private readonly random: () => number;
  /** Called when an attempt disables an endpoint (410 Gone, failing too long). */
  onEndpointDisabled: (endpointId: string, appId: string) => void = () => {};

  constructor(private readonly o: DispatcherOptions) {
    this.random = o.random ?? Math.random;
    this.writer = new AttemptWriter(o.store, o.logger, (records) => this.afterRecorded(records));
  }

  /** Releases leases left by a previous run of this single node and looks for due work. */
  async start(opts: { releaseOrphanedLeases: boolean }): Promise<void> {
    this.started = true;
    if (opts.releaseOrphanedLeases) {
      const n = await this.o.store.releaseAllLeases(this.o.clock.now());
      if (n > 0) this.o.logger.info({ deliveries: n }, 'released leases left by the previous run');
    }
    this.scheduleSweep(0);
  }

  /** Deliveries currently being sent. */
  get inflightCount(): number {
    return this.inflight;
  }

  private state(endpointId: string): EndpointState {
    let s = this.endpoints.get(endpointId);
    if (!s) {
      s = { inflight: 0, bucket: null, rate: null, backlog: false, claiming: false, again: false, timer: null };
      this.endpoints.set(endpointId, s);
    }
    return s;
  }

  private applyRate(s: EndpointState, rate: number | null): void {
    if (rate === s.rate) return;
    s.rate = rate;
    if (rate === null || rate <= 0) s.bucket = null;
    else if (s.bucket) s.bucket.setRate(rate, throttleBurst(rate));
    else s.bucket = new TokenBucket(rate, throttleBurst(rate), this.o.clock.now());
  }

  /** Slots this endpoint may use now: concurrency, rate tokens and the node-wide cap. */
  private capacity(s: EndpointState): number {
    const byConcurrency = this.o.endpointConcurrency - s.inflight;
    const global = this.o.maxInflight - this.inflight;
    let n = Math.min(byConcurrency, global);
    if (s.bucket) n = Math.min(n, s.bucket.available(this.o.clock.now()));
    return Math.max(0, n);
  }

  /**
   * Reserves a slot for a delivery being published, so it can be inserted already leased.
   * False means: insert it as pending and call `backlogged` after commit.
   */
  reserve(endpointId: string, throttleRate: number | null): boolean {
    if (this.stopping || !this.started) return false;
    const s = this.state(endpointId);
    this.applyRate(s, throttleRate);
    if (s.backlog) return false; // older due deliveries go first
    if (this.capacity(s) < 1) return false;
    if (s.bucket) s.bucket.take(1, this.o.clock.now());
    s.inflight++;
    this.inflight++;
    return true;
  }

  /** Gives back a reservation whose publish failed. */
  unreserve(endpointId: string): void {
    const s = this.state(endpointId);
    s.inflight--;
    this.inflight--;
    this.pump(endpointId);
    this.notifyIdle();
  }

  /** Sends deliveries this node leased at publish time (their slots are reserved). */
  dispatchReserved(claims: ClaimedDelivery[]): void {
    for (const c of claims) this.launch(c);
  }

  /** The store holds due deliveries for this endpoint that are not in memory. */
  backlogged(endpointId: string): void {
    if (!this.started) return; // a node that does not send (role api) claims nothing
    this.state(endpointId).backlog = true;
    this.pump(endpointId);
  }

  /** Some delivery may have fallen due: look in the store. */
  wake(): void {
    if (!this.started) return;
    this.scheduleSweep(0);
  }

  private scheduleSweep(ms: number): void {
    if (this.stopping) return;
    const at = this.o.clock.now() + ms;
    if (this.wakeTimer && at >= this.wakeAt) return;
    this.wakeTimer?.cancel();
    this.wakeAt = at;
    this.wakeTimer = this.o.clock.setTimer(ms, () => {
      this.wakeTimer = null;
      this.wakeAt = Infinity;
      void this.sweep();
    });
  }

  private async sweep(): Promise<void> {
    if (this.stopping) return;
    if (this.sweeping) {
      this.scheduleSweep(10);
      return;
    }
    this.sweeping = true;
    try {
      const now = this.o.clock.now();
      const due = await this.o.store.dueEndpoints(now, 10_000);
      for (const id of due) this.backlogged(id);
      const next = await this.o.store.nextDueAt();
      // Time moved while the store answered: compare with the clock as it is now.
      const later = this.o.clock.now();
      if (next !== null && next > now) this.scheduleSweep(Math.max(0, next - later));
    } catch (e: unknown) {
      this.o.logger.error({ err: e }, 'sweep for due deliveries failed');
    } finally {
      this.sweeping = false;
      // The safety net: other writers (manual triggers, other nodes) are seen within this interval.
      this.sweepTimer?.cancel();
      if (!this.stopping) this.sweepTimer = this.o.clock.setTimer(this.o.sweepIntervalMs ?? 5000, () => void this.sweep());
    }
  }

  private readonly pumpQueue = new Set<string>();

  /**
   * Claims due deliveries of one endpoint soon. Requests made in the same turn of the event
   * loop (many completions at once) are served by one claim for all freed slots.
   */
  private pump(endpointId: string): void {
    if (this.pumpQueue.size === 0) setImmediate(() => this.drainPumps());
    this.pumpQueue.add(endpointId);
  }

  private drainPumps(): void {
    const ids = [...this.pumpQueue];
    this.pumpQueue.clear();
    for (const id of ids) this.pumpNow(id);
  }

  /** Claims due deliveries of one endpoint while it has capacity and backlog. */
  private pumpNow(endpointId: string): void {
    const s = this.endpoints.get(endpointId);
    if (!s || !s.backlog || this.stopping) return;
    if (s.claiming) {
      s.again = true;
      return;
    }
    const n = this.capacity(s);
    if (n < 1) {
      if (s.bucket && s.inflight < this.o.endpointConcurrency && this.inflight < this.o.maxInflight) {
        this.pumpLater(endpointId, s, s.bucket.msUntilToken(this.o.clock.now()));
      }
      return;
    }
    s.claiming = true;
    s.again = false;
    const now = this.o.clock.now();
    // Rate tokens are taken for what is actually claimed, below.
    let heldBack = false;
    this.claim(endpointId, n, now)
      .then(({ claims, retryInMs }) => {
        if (retryInMs !== null) {
          // Caps counted across nodes held work back: more is due, claim again later.
          heldBack = true;
          this.pumpLater(endpointId, s, retryInMs);
        } else if (claims.length < n) s.backlog = false;
        if (claims.length > 0) this.applyRate(s, claims[0]!.endpoint.throttleRate);
        for (const c of claims) {
          s.bucket?.take(1, this.o.clock.now());
          s.inflight++;
          this.inflight++;
          this.launch(c);
        }
      })
      .catch((e: unknown) => {
        this.o.logger.error({ err: e, endpointId }, 'claiming deliveries failed');
        this.pumpLater(endpointId, s, 1000);
      })
      .finally(() => {
        s.claiming = false;
        if (heldBack) {
          // pumpLater is armed; completions of this node's own attempts also pump.
        } else if (s.backlog && (s.again || this.capacity(s) > 0)) this.pump(endpointId);
        else if (s.backlog && s.bucket) this.pump(endpointId);
        this.forgetIfIdle(endpointId, s);
      });
  }

  /** Claims from the store; a store shared by several nodes also applies the endpoint's caps across them. */
  private claim(endpointId: string, n: number, now: number): Promise<CappedClaim> {
    const cluster = this.o.store.cluster;
    if (cluster) return cluster.claimDueCapped(endpointId, n, now, now + this.o.leaseMs, this.o.endpointConcurrency);
    return this.o.store.claimDue(endpointId, n, now, now + this.o.leaseMs).then((claims) => ({ claims, retryInMs: null }));
  }

  private pumpLater(endpointId: string, s: EndpointState, ms: number): void {
    if (s.timer) return;
    s.timer = this.o.clock.setTimer(ms, () => {
      s.timer = null;
      this.pump(endpointId);
    });
  }

  private forgetIfIdle(endpointId: string, s: EndpointState): void {
    if (s.inflight === 0 && !s.backlog && !s.claiming && !s.timer && !s.bucket) this.endpoints.delete(endpointId);
  }

  /** Sends one leased delivery; its slot is already counted. */
  private launch(c: ClaimedDelivery): void {
    this.inflightRefs.set(c.deliveryId, { deliveryId: c.deliveryId, leaseToken: c.leaseToken });
    void this.attempt(c)
      .catch((e: unknown) => this.o.logger.error({ err: e, deliveryId: c.deliveryId }, 'delivery attempt crashed'))
      .finally(() => {
        this.inflightRefs.delete(c.deliveryId);
        const s = this.state(c.endpoint.id);
        s.inflight--;
        this.inflight--;
        if (s.backlog) this.pump(c.endpoint.id);
        // A freed node-wide slot may unblock other endpoints.
        if (this.inflight === this.o.maxInflight - 1) for (const [id, st] of this.endpoints) if (st.backlog) this.pump(id);
        this.forgetIfIdle(c.endpoint.id, s);
        this.notifyIdle();
      });
  }

  private async attempt(c: ClaimedDelivery): Promise<void> {
    const startedAt = this.o.clock.now();
    let result: SendResult;
    let url = c.endpoint.url;
    let canceled = false;
    if (c.message.payload === null) {
      result = { kind: 'error', reason: 'message content was expunged', durationMs: 0 };
    } else if (this.o.transformer && hasTransformation(c.endpoint)) {
      ({ result, url, canceled } = await this.sendTransformed(c, c.message.payload, this.o.transformer, startedAt));
    } else {
      result = await this.o.sender.send({ url, headers: this.headers(c, startedAt, c.message.payload, null), body: c.message.payload });
    }
    if (this.stopping && this.shutdownDeadlinePassed) return; // lease already given back
    const now = this.o.clock.now();
    // A cancel is the endpoint's own decision: the delivery ends, recorded, without a retry.
    const outcome: Outcome = canceled ? { kind: 'delivered' } : this.decide(c, result, now);
    const ok = outcome.kind === 'delivered';
    const attempt: Attempt = {
      id: newId('attempt', now),
      messageId: c.message.id,
      endpointId: c.endpoint.id,
      appId: c.app.id,
      url,
      status: ok ? DeliveryStatus.Success : DeliveryStatus.Fail,
      responseStatusCode: result.kind === 'response' ? result.status : 0,
      response: (result.kind === 'response' ? result.body : result.reason).slice(0, STORED_RESPONSE_CHARS),
      responseDurationMs: result.durationMs,
      triggerType: c.trigger,
      createdAt: now,
    };
    const record: AttemptRecord = {
      attempt,
      deliveryId: c.deliveryId,
      leaseToken: c.leaseToken,
      next:
        outcome.kind === 'delivered'
          ? { status: DeliveryStatus.Success }
          : outcome.kind === 'retry'
            ? { status: DeliveryStatus.Pending, at: outcome.at }
            : { status: DeliveryStatus.Fail },
      disableEndpoint: outcome.kind === 'failed' && outcome.disableEndpoint,
    };
    if (outcome.kind === 'failed' && outcome.disableEndpoint) {
      this.o.logger.warn({ endpointId: c.endpoint.id, reason: outcome.reason }, 'endpoint disabled');
    }
    await this.writer.add(record);
    this.published(c, attempt, outcome);
  }

  /**
   * Runs the endpoint's transformation, then sends what it returned, signed over the
   * transformed body. A failed transformation is a failed attempt (status code 0) with its
   * reason, retried like any other; a cancel sends nothing.
   */
  private async sendTransformed(c: ClaimedDelivery, payload: string, transformer: Transformer, startedAt: number): Promise<{ result: SendResult; url: string; canceled: boolean }> {
    const t = await transformer.transform(c.endpoint, { ...c.message, payload });
    if (t.kind === 'cancel') return { result: { kind: 'error', reason: 'canceled by the endpoint transformation: nothing was sent', durationMs: 0 }, url: c.endpoint.url, canceled: true };
    if (t.kind === 'error') return { result: { kind: 'error', reason: t.reason, durationMs: 0 }, url: c.endpoint.url, canceled: false };
    const result = await this.o.sender.send({ method: t.method, url: t.url, headers: this.headers(c, startedAt, t.body, t.headers), body: t.body });
    return { result, url: t.url, canceled: false };
  }

  /** Tells diagnostics_channel subscribers (metrics, operational webhooks) about a recorded attempt. */
  private published(c: ClaimedDelivery, a: Attempt, outcome: Outcome): void {
    const scope = this.o.store;
    publishAttempt({
      scope,
      appId: a.appId,
      endpointId: a.endpointId,
      messageId: a.messageId,
      eventId: c.message.eventId,
      attemptId: a.id,
      attemptNumber: c.attempts + 1,
      trigger: c.trigger === TriggerType.Manual ? 'manual' : 'scheduled',
      outcome: outcome.kind,
      statusCode: a.responseStatusCode,
      durationMs: a.responseDurationMs,
      at: a.createdAt,
    });
    if (outcome.kind === 'failed' && outcome.disableEndpoint) {
      const e = c.endpoint;
      publishEndpointState({ scope, kind: 'disabled', trigger: 'automatic', appId: e.appId, endpointId: e.id, endpointUid: e.uid, failingSince: e.failingSince ?? a.createdAt, at: a.createdAt });
    }
  }

  /** Decides what follows an attempt: the retry policy plus the receiver's directives. */
  decide(c: ClaimedDelivery, r: SendResult, now: number): Outcome {
    if (r.kind === 'response' && r.status >= 200 && r.status < 300) return { kind: 'delivered' };
    if (r.kind === 'response' && r.status === 410) return { kind: 'failed', reason: 'endpoint answered 410 Gone', disableEndpoint: true };
    const failingFor = c.endpoint.failingSince === null ? 0 : now - c.endpoint.failingSince;
    if (failingFor >= this.o.disableAfterMs) {
      return { kind: 'failed', reason: 'endpoint has failed every attempt for too long', disableEndpoint: true };
    }
    if (r.kind === 'response' && r.deliveryDirective?.trim().toLowerCase() === 'abort-message') {
      return { kind: 'failed', reason: 'receiver asked to abort this message', disableEndpoint: false };
    }
    if (c.trigger === TriggerType.Manual) return { kind: 'failed', reason: 'manual attempt failed', disableEndpoint: false };
    const retryAfterMs = r.kind === 'response' && (r.status === 429 || r.status === 503) ? parseRetryAfter(r.retryAfter, now) : undefined;
    const d = nextRetry({ attempts: c.attempts + 1, nowMs: now, retryAfterMs, random: this.random() }, this.o.retrySchedule);
    return d.kind === 'retry' ? { kind: 'retry', at: d.at } : { kind: 'failed', reason: 'retries exhausted', disableEndpoint: false };
  }

  /** The signed request headers. */
  private headers(c: ClaimedDelivery, nowMs: number, body: string, extra: Record<string, string> | null): Record<string, string> {
    const ts = Math.floor(nowMs / 1000);
    const keys = c.endpoint.secrets.filter((s) => s.expiresAt === null || s.expiresAt > nowMs).map((s) => secretKey(s.key));
    const sig = signatureHeader(keys, c.message.id, ts, body);
    const h: Record<string, string> = {};
    for (const [k, v] of Object.entries(c.endpoint.headers)) h[k.toLowerCase()] = v;
    // Headers set by a transformation take precedence over the endpoint's (never over the signed ones).
    if (extra) for (const [k, v] of Object.entries(extra)) h[k.toLowerCase()] = v;
    h['content-type'] = 'application/json';
    h['user-agent'] = this.o.userAgent ?? 'Switchboard-Webhooks/0.1';
    const style = c.app.headerStyle;
    if (style !== 'svix') {
      h['webhook-id'] = c.message.id;
      h['webhook-timestamp'] = String(ts);
      h['webhook-signature'] = sig;
    }
    if (style !== 'standard') {
      h['svix-id'] = c.message.id;
      h['svix-timestamp'] = String(ts);
      h['svix-signature'] = sig;
    }
    return h;
  }

  /** After attempts are durable: wake endpoints for their retries. */
  private afterRecorded(records: AttemptRecord[]): void {
    let earliest = Infinity;
    for (const r of records) if (r.disableEndpoint) this.onEndpointDisabled(r.attempt.endpointId, r.attempt.appId);
    for (const r of records) if (r.next.status === DeliveryStatus.Pending) earliest = Math.min(earliest, r.next.at);
    if (earliest !== Infinity) this.scheduleSweep(Math.max(0, earliest - this.o.clock.now()));
  }

  private notifyIdle(): void {
    if (this.inflight === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Resolves when nothing is in flight and every attempt is recorded. */
  async idle(): Promise<void> {
    if (this.inflight > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
    await this.writer.flush();
  }

  private shutdownDeadlinePassed = false;

  /**
   * Stops taking work; in-flight attempts may finish within `graceMs`, after which their
   * leases are given back so the next start (or another node) sends them again.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    this.wakeTimer?.cancel();
    this.sweepTimer?.cancel();
    for (const s of this.endpoints.values()) s.timer?.cancel();
    if (this.inflight > 0) {
      await Promise.race([new Promise<void>((r) => this.idleWaiters.push(r)), new Promise<void>((r) => setTimeout(r, graceMs).unref())]);
    }
    if (this.inflight > 0) {
      this.shutdownDeadlinePassed = true;
      const refs = [...this.inflightRefs.values()];
      await this.o.store.releaseLeases(refs, this.o.clock.now());
      this.o.logger.warn({ deliveries: refs.length }, 'released leases of deliveries still in flight at shutdown');
    }
    await this.writer.flush();
  }
}
