/**
 * What follows an attempt: the retry policy plus the receiver's directives. Pure but for
 * `random`, drawn only when a retry is scheduled (its jitter).
 */
import { TriggerType } from '../domain/model.js';
import { nextRetry, parseRetryAfter } from '../domain/retry-policy.js';
import type { ClaimedDelivery } from '../storage/contract/store.js';
import type { SendResult } from './http-sender.js';

/** How an attempt ended, decided before it is recorded. */
export type Outcome =
  | { kind: 'delivered' }
  | { kind: 'retry'; at: number }
  | { kind: 'failed'; reason: string; disableEndpoint: boolean };

/** The policy an outcome is decided by. */
export interface OutcomePolicy {
  retrySchedule: readonly number[];
  /** An endpoint failing every attempt this long is disabled. */
  disableAfterMs: number;
}

/** Decides what follows an attempt that got `r` at `now`. */
export function decideOutcome(c: ClaimedDelivery, r: SendResult, now: number, policy: OutcomePolicy, random: () => number): Outcome {
  if (r.kind === 'response' && r.status >= 200 && r.status < 300) return { kind: 'delivered' };
  if (r.kind === 'response' && r.status === 410) return { kind: 'failed', reason: 'endpoint answered 410 Gone', disableEndpoint: true };
  const failingFor = c.endpoint.failingSince === null ? 0 : now - c.endpoint.failingSince;
  if (failingFor >= policy.disableAfterMs) {
    return { kind: 'failed', reason: 'endpoint has failed every attempt for too long', disableEndpoint: true };
  }
  if (r.kind === 'response' && r.deliveryDirective?.trim().toLowerCase() === 'abort-message') {
    return { kind: 'failed', reason: 'receiver asked to abort this message', disableEndpoint: false };
  }
  if (c.trigger === TriggerType.Manual) return { kind: 'failed', reason: 'manual attempt failed', disableEndpoint: false };
  const retryAfterMs = r.kind === 'response' && (r.status === 429 || r.status === 503) ? parseRetryAfter(r.retryAfter, now) : undefined;
  const d = nextRetry({ attempts: c.attempts + 1, nowMs: now, retryAfterMs, random: random() }, policy.retrySchedule);
  return d.kind === 'retry' ? { kind: 'retry', at: d.at } : { kind: 'failed', reason: 'retries exhausted', disableEndpoint: false };
}
