/**
 * Makes one attempt of a leased delivery: runs the endpoint's transformation if it has one,
 * hands the request and what signing it takes to the sender (on a send worker thread by
 * default, which signs and sends it), decides what follows, queues the attempt record and tells
 * diagnostics_channel subscribers (metrics, operational webhooks) about it.
 */
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { newId } from '../domain/ids.js';
import { isOrdered, orderingOf } from '../domain/ordering.js';
import { DeliveryStatus, TriggerType } from '../domain/model.js';
import type { Attempt } from '../domain/model.js';
import type { AttemptRecord, ClaimedDelivery } from '../storage/contract/store.js';
import type { AttemptWriter } from './attempt-writer.js';
import { decideOutcome } from './attempt-outcome.js';
import type { Outcome, OutcomePolicy } from './attempt-outcome.js';
import { publishAttempt, publishEndpointState } from './channels.js';
import type { SendResult, Sender } from './http-sender.js';
import { deliveryHeaders } from './signed-headers.js';
import { hasTransformation } from './transformations/transformer.js';
import type { Transformer } from './transformations/transformer.js';

/** Stored response bodies are cut to this many characters. */
const STORED_RESPONSE_CHARS = 64 * 1024;

export interface AttemptRunnerOptions {
  sender: Sender;
  clock: Clock;
  logger: Logger;
  writer: AttemptWriter;
  policy: OutcomePolicy;
  random: () => number;
  userAgent: string;
  /** Runs endpoint transformations before sending; without it they are not applied. */
  transformer: Transformer | undefined;
  /** The scope attempt events are published under (the store, so several instances in one process stay apart). */
  scope: object;
  /** True once shutdown gave the leases back: a result arriving later is not recorded. */
  abandoned: () => boolean;
  /** The request has ended and what follows is decided; called just before the record is queued. */
  requestEnded: (c: ClaimedDelivery, record: AttemptRecord) => void;
}

export class AttemptRunner {
  constructor(private readonly o: AttemptRunnerOptions) {}

  /** Sends the delivery once and resolves when its attempt is recorded (`requestEnded` tells of the response before that). */
  async run(c: ClaimedDelivery): Promise<void> {
    const startedAt = this.o.clock.now();
    let result: SendResult;
    let url = c.endpoint.url;
    let canceled = false;
    if (c.message.payload === null) {
      result = { kind: 'error', reason: 'message content was expunged', durationMs: 0 };
    } else if (this.o.transformer && hasTransformation(c.endpoint)) {
      ({ result, url, canceled } = await this.sendTransformed(c, c.message.payload, this.o.transformer, startedAt));
    } else {
      result = await this.o.sender.send({ url, ...deliveryHeaders(c, startedAt, null, this.o.userAgent), body: c.message.payload });
    }
    if (this.o.abandoned()) return;
    const now = this.o.clock.now();
    // A cancel is the endpoint's own decision: the delivery ends, recorded, without a retry.
    const outcome: Outcome = canceled ? { kind: 'delivered' } : decideOutcome(c, result, now, this.o.policy, this.o.random);
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
    this.o.requestEnded(c, record);
    // An ordered endpoint's next message of this key waits for this record: no window for it.
    await this.o.writer.add(record, { now: isOrdered(c.endpoint.metadata) });
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
    const result = await this.o.sender.send({ method: t.method, url: t.url, ...deliveryHeaders(c, startedAt, t.headers, this.o.userAgent), body: t.body });
    return { result, url: t.url, canceled: false };
  }

  /** Tells diagnostics_channel subscribers (metrics, operational webhooks) about a recorded attempt. */
  private published(c: ClaimedDelivery, a: Attempt, outcome: Outcome): void {
    const scope = this.o.scope;
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
      ...(outcome.kind === 'failed' && c.orderingKey !== undefined && orderingOf(c.endpoint.metadata)?.policy === 'pause' ? { pausedKey: c.orderingKey } : {}),
    });
    if (outcome.kind === 'failed' && outcome.disableEndpoint) {
      const e = c.endpoint;
      publishEndpointState({ scope, kind: 'disabled', trigger: 'automatic', appId: e.appId, endpointId: e.id, endpointUid: e.uid, failingSince: e.failingSince ?? a.createdAt, at: a.createdAt });
    }
  }
}
