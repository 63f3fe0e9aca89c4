/**
 * Sends operational webhooks: turns delivery and endpoint events into `endpoint.disabled`,
 * `endpoint.enabled`, `message.attempt.exhausted`, `.failing`, `.recovered` and `ordering.key.paused` requests,
 * signed with the Standard Webhooks scheme, to every matching operational endpoint.
 *
 * Failed requests are retried on a short schedule held in memory: operational webhooks are
 * notifications about state that stays readable through the API, so a restart may drop a
 * pending retry but never loses data.
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../domain/clock.js';
import { newId } from '../domain/ids.js';
import { DeliveryStatus } from '../domain/model.js';
import { secretKey, signatureHeader } from '../domain/signature.js';
import { TokenBucket, throttleBurst } from '../domain/token-bucket.js';
import { onAttempt, onEndpointState } from '../engine/channels.js';
import type { AttemptEvent, EndpointStateEvent } from '../engine/channels.js';
import type { Sender } from '../engine/http-sender.js';
import type { Metrics } from './metrics.js';
import type { Store } from '../storage/contract/store.js';
import type { OperationalEventType } from './operational-webhooks.js';

/** `message.attempt.failing` is sent when this attempt of a delivery fails and more will follow. */
export const FAILING_AT_ATTEMPT = 4;

/** Seconds before each retry of an operational webhook request. */
export const OPERATIONAL_RETRY_SECONDS = [5, 30, 300, 1800, 7200] as const;

/** Most requests waiting to be sent; beyond it the newest are dropped (and logged). */
const MAX_QUEUED = 10_000;

export interface OperationalEvent {
  type: OperationalEventType;
  timestamp: string;
  data: Record<string, unknown>;
}

interface Job {
  endpointId: string;
  /** One id per event, the same for every endpoint and retry, so receivers can dedupe. */
  msgId: string;
  type: OperationalEventType;
  body: string;
  /** Attempts made so far. */
  attempts: number;
}

export interface OperationalSenderOptions {
  store: Store;
  clock: Clock;
  sender: Sender;
  logger: Logger;
  metrics?: Metrics | undefined;
  retrySeconds?: readonly number[];
  userAgent?: string;
}

export class OperationalWebhookSender {
  private readonly unsubscribe: (() => void)[] = [];
  private readonly timers = new Set<TimerHandle>();
  private readonly buckets = new Map<string, TokenBucket>();
  private queued = 0;
  private inflight = 0;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];
  /** Events being turned into operational webhooks (reading the store). */
  private readonly handling = new Set<Promise<void>>();

  constructor(private readonly o: OperationalSenderOptions) {}

  start(): void {
    const scope = this.o.store;
    this.unsubscribe.push(
      onAttempt(scope, (e) => {
        // Most attempts cause nothing, known at once: no promise and no bookkeeping for them.
        const type = typeOfAttempt(e);
        if (type !== null || e.pausedKey !== undefined) this.handle(this.fromAttempt(e, type));
      }),
      onEndpointState(scope, (e) => this.handle(this.fromEndpointState(e))),
    );
  }

  /**
   * Stops listening and cancels pending retries; resolves once the events being handled are
   * (their store reads done, so the store can close). Requests in flight finish on their own.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const u of this.unsubscribe.splice(0)) u();
    for (const t of this.timers) t.cancel();
    this.timers.clear();
    await Promise.all(this.handling);
  }

  private handle(work: Promise<void>): void {
    this.track(work.catch((err: unknown) => this.o.logger.error({ err }, 'operational webhook event failed')));
  }

  /** Counts `work` among the events being handled until it settles (it must not reject). */
  private track(work: Promise<void>): void {
    const done = work.finally(() => this.handling.delete(done));
    this.handling.add(done);
  }

  /** Resolves when no operational request is in flight or waiting (retries included). */
  async idle(): Promise<void> {
    if (this.inflight === 0 && this.queued === 0) return;
    await new Promise<void>((r) => this.idleWaiters.push(r));
  }

  private async appUid(appId: string): Promise<string | null> {
    return (await this.o.store.getApplication(appId))?.uid ?? null;
  }

  private async fromEndpointState(e: EndpointStateEvent): Promise<void> {
    const base = { appId: e.appId, appUid: await this.appUid(e.appId), endpointId: e.endpointId, endpointUid: e.endpointUid };
    if (e.kind === 'disabled') {
      await this.emitNow('endpoint.disabled', { ...base, failSince: new Date(e.failingSince ?? e.at).toISOString(), trigger: e.trigger });
    } else {
      await this.emitNow('endpoint.enabled', base);
    }
  }

  private async fromAttempt(e: AttemptEvent, known: OperationalEventType | 'recovered?' | null): Promise<void> {
    if (e.pausedKey !== undefined) await this.fromPausedKey(e, e.pausedKey);
    const type = known === 'recovered?' ? await this.recoveredManually(e) : known;
    if (!type) return;
    await this.emitNow(type, {
      appId: e.appId,
      appUid: await this.appUid(e.appId),
      msgId: e.messageId,
      msgEventId: e.eventId,
      endpointId: e.endpointId,
      lastAttempt: { id: e.attemptId, responseStatusCode: e.statusCode, timestamp: new Date(e.at).toISOString() },
    });
  }

  /** An ordered endpoint's key stopped behind a delivery that failed for good. */
  private async fromPausedKey(e: AttemptEvent, key: string): Promise<void> {
    await this.emitNow('ordering.key.paused', {
      appId: e.appId,
      appUid: await this.appUid(e.appId),
      endpointId: e.endpointId,
      orderingKey: key,
      msgId: e.messageId,
      msgEventId: e.eventId,
      lastAttempt: { id: e.attemptId, responseStatusCode: e.statusCode, timestamp: new Date(e.at).toISOString() },
    });
  }

  /** A manual attempt that delivered recovers the delivery if the attempt before it failed. */
  private async recoveredManually(e: AttemptEvent): Promise<OperationalEventType | null> {
    const page = await this.o.store.listAttemptsByMessage(e.appId, e.messageId, { limit: 2, endpointId: e.endpointId, order: 'descending' });
    const previous = page.data.find((a) => a.id !== e.attemptId);
    return previous && previous.status === DeliveryStatus.Fail ? 'message.attempt.recovered' : null;
  }

  /** Sends one event to every enabled operational endpoint that wants its type. */
  emit(type: OperationalEventType, data: Record<string, unknown>): Promise<void> {
    const work = this.emitNow(type, data);
    this.track(work.catch(() => undefined));
    return work;
  }

  private async emitNow(type: OperationalEventType, data: Record<string, unknown>): Promise<void> {
    if (this.stopped) return;
    const endpoints = (await this.o.store.operationalWebhooks.all()).filter((ep) => !ep.disabled && (ep.eventTypes === null || ep.eventTypes.includes(type)));
    if (endpoints.length === 0) return;
    const now = this.o.clock.now();
    const event: OperationalEvent = { type, timestamp: new Date(now).toISOString(), data };
    const body = JSON.stringify(event);
    const msgId = newId('message', now);
    for (const ep of endpoints) {
      if (this.queued >= MAX_QUEUED) {
        this.o.logger.warn({ type, endpointId: ep.id }, 'operational webhook queue is full; event dropped');
        continue;
      }
      this.schedule({ endpointId: ep.id, msgId, type, body, attempts: 0 }, 0);
    }
  }

  private schedule(job: Job, ms: number): void {
    this.queued++;
    const t = this.o.clock.setTimer(ms, () => {
      this.timers.delete(t);
      this.queued--;
      this.inflight++;
      void this.send(job)
        .catch((err: unknown) => this.o.logger.error({ err, endpointId: job.endpointId }, 'operational webhook request crashed'))
        .finally(() => {
          this.inflight--;
          if (this.inflight === 0 && this.queued === 0) for (const w of this.idleWaiters.splice(0)) w();
        });
    });
    this.timers.add(t);
  }

  private async send(job: Job): Promise<void> {
    if (this.stopped) return;
    const ep = await this.o.store.operationalWebhooks.get(job.endpointId);
    if (!ep || ep.disabled) return;
    const now = this.o.clock.now();
    if (ep.throttleRate) {
      let bucket = this.buckets.get(ep.id);
      if (!bucket) this.buckets.set(ep.id, (bucket = new TokenBucket(ep.throttleRate, throttleBurst(ep.throttleRate), now)));
      if (bucket.available(now) < 1) return this.schedule(job, bucket.msUntilToken(now));
      bucket.take(1, now);
    }
    const ts = Math.floor(now / 1000);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(ep.headers)) headers[k.toLowerCase()] = v;
    headers['content-type'] = 'application/json';
    headers['user-agent'] = this.o.userAgent ?? 'Switchboard-Webhooks/0.1';
    headers['webhook-id'] = job.msgId;
    headers['webhook-timestamp'] = String(ts);
    headers['webhook-signature'] = signatureHeader([secretKey(ep.secret)], job.msgId, ts, job.body);
    const r = await this.o.sender.send({ url: ep.url, headers, body: job.body });
    const ok = r.kind === 'response' && r.status >= 200 && r.status < 300;
    const retries = this.o.retrySeconds ?? OPERATIONAL_RETRY_SECONDS;
    const attempts = job.attempts + 1;
    if (ok) {
      this.o.metrics?.operationalWebhook(job.type, 'delivered');
      return;
    }
    const delay = retries[attempts - 1];
    if (delay === undefined || this.stopped) {
      this.o.metrics?.operationalWebhook(job.type, 'failed');
      this.o.logger.warn(
        { endpointId: ep.id, type: job.type, status: r.kind === 'response' ? r.status : 0, reason: r.kind === 'error' ? r.reason : undefined },
        'operational webhook failed after its retries',
      );
      return;
    }
    this.o.metrics?.operationalWebhook(job.type, 'retry');
    this.schedule({ ...job, attempts }, delay * 1000);
  }
}

/**
 * Which operational event, if any, an attempt causes; `recovered?` for a manual attempt that
 * delivered after earlier ones, which recovers the delivery if the attempt before it failed.
 */
function typeOfAttempt(e: AttemptEvent): OperationalEventType | 'recovered?' | null {
  if (e.outcome === 'retry') return e.attemptNumber === FAILING_AT_ATTEMPT ? 'message.attempt.failing' : null;
  if (e.outcome === 'failed') return e.trigger === 'scheduled' ? 'message.attempt.exhausted' : null;
  // Delivered: it recovers if an earlier failure was reported.
  if (e.trigger === 'scheduled') return e.attemptNumber > FAILING_AT_ATTEMPT ? 'message.attempt.recovered' : null;
  return e.attemptNumber < 2 ? null : 'recovered?';
}
