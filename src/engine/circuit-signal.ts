/**
 * What an attempt tells the circuit breakers, about its endpoint and about its origin
 * (the host): nothing, when no request was made (a failed or cancelling transformation,
 * expunged content); otherwise
 * - the endpoint failed when there was no response (connection error, timeout) or a 5xx, and
 *   answered with any other response;
 * - the origin failed only when the host could not be reached or could not serve: no response,
 *   or 502, 503 or 504 (a gateway or the host itself unavailable). Any other response, a 500
 *   of one endpoint's handler included, shows the host up: one tenant's broken endpoint on a
 *   host many tenants share never counts against the host.
 */
import { DeliveryStatus } from '../domain/model.js';
import type { Attempt } from '../domain/model.js';

export type CircuitSignal = 'success' | 'failure' | 'none';

/** What one attempt tells each circuit it went through. */
export interface CircuitSignals {
  endpoint: CircuitSignal;
  origin: CircuitSignal;
}

/** Reasons of attempts that failed before any request left this node (see attempt-runner.ts and transformations/). */
const NOT_SENT = [/^transformation /, /^message content was expunged/, /^canceled by the endpoint transformation/];

/** Statuses that say the host (or the gateway in front of it) cannot serve, whatever the path. */
const HOST_UNAVAILABLE = new Set([502, 503, 504]);

export function circuitSignals(a: Pick<Attempt, 'status' | 'responseStatusCode' | 'response'>): CircuitSignals {
  const code = a.responseStatusCode;
  if (code > 0) return { endpoint: code >= 500 ? 'failure' : 'success', origin: HOST_UNAVAILABLE.has(code) ? 'failure' : 'success' };
  // Cancelled by a transformation (nothing was sent), or failed before sending.
  if (a.status === DeliveryStatus.Success || NOT_SENT.some((r) => r.test(a.response))) return { endpoint: 'none', origin: 'none' };
  return { endpoint: 'failure', origin: 'failure' };
}
