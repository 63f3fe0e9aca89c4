/**
 * What a recorded attempt tells the circuit breakers about its endpoint: it answered (any
 * response below 500), it failed (no response: connection error, timeout; or a 5xx), or
 * nothing, when no request was made (a failed or cancelling transformation, expunged content).
 */
import { DeliveryStatus } from '../domain/model.js';
import type { Attempt } from '../domain/model.js';

export type CircuitSignal = 'success' | 'failure' | 'none';

/** Reasons of attempts that failed before any request left this node (see attempt-runner.ts and transformations/). */
const NOT_SENT = [/^transformation /, /^message content was expunged/, /^canceled by the endpoint transformation/];

export function circuitSignal(a: Pick<Attempt, 'status' | 'responseStatusCode' | 'response'>): CircuitSignal {
  if (a.responseStatusCode >= 500) return 'failure';
  if (a.responseStatusCode > 0) return 'success';
  if (a.status === DeliveryStatus.Success) return 'none'; // cancelled by a transformation: nothing was sent
  return NOT_SENT.some((r) => r.test(a.response)) ? 'none' : 'failure';
}
