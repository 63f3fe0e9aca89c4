/**
 * `node:diagnostics_channel` events at the points an operator asks about: attempts, endpoint
 * state changes, circuit breaker transitions. Publishers pay nothing while no one
 * subscribes; metrics and operational webhooks subscribe.
 *
 * Every event carries `scope`: the store of the Switchboard instance that published it, so
 * several instances in one process (tests) keep their events apart.
 */
import { channel } from 'node:diagnostics_channel';

/** One delivery attempt, published once its record has been written. */
export interface AttemptEvent {
  scope: object;
  appId: string;
  endpointId: string;
  messageId: string;
  /** The message's `eventId`, if it has one. */
  eventId: string | null;
  attemptId: string;
  /** 1 for the first attempt of this delivery. */
  attemptNumber: number;
  trigger: 'scheduled' | 'manual';
  outcome: 'delivered' | 'retry' | 'failed';
  /** 0 when no HTTP response arrived (connection error, timeout, refused address). */
  statusCode: number;
  durationMs: number;
  /** When the attempt finished, epoch ms. */
  at: number;
  /**
   * Set when the attempt failed for good a delivery of an ordered endpoint under the `pause`
   * policy: its key is paused (docs/ordering.md).
   */
  pausedKey?: string | undefined;
}

/** An endpoint was disabled (automatically or by a caller) or enabled again. */
export interface EndpointStateEvent {
  scope: object;
  kind: 'disabled' | 'enabled';
  trigger: 'automatic' | 'manual';
  appId: string;
  endpointId: string;
  endpointUid: string | null;
  /** Start of the run of failures that led to an automatic disable. */
  failingSince: number | null;
  at: number;
}

/** A circuit breaker of this node changed state (see circuit-breaker.ts). */
export interface CircuitEvent {
  scope: object;
  /** An endpoint's circuit, or a destination origin's. */
  kind: 'endpoint' | 'origin';
  /** The endpoint id, or the origin (`scheme://host:port`). */
  key: string;
  from: 'closed' | 'open' | 'half-open';
  to: 'closed' | 'open' | 'half-open';
  at: number;
}

export const attemptChannel = channel('switchboard:attempt');
export const endpointStateChannel = channel('switchboard:endpoint-state');
export const circuitChannel = channel('switchboard:circuit');

/** Publishes an attempt event if anyone listens. */
export function publishAttempt(e: AttemptEvent): void {
  if (attemptChannel.hasSubscribers) attemptChannel.publish(e);
}

/** Publishes an endpoint state change if anyone listens. */
export function publishEndpointState(e: EndpointStateEvent): void {
  if (endpointStateChannel.hasSubscribers) endpointStateChannel.publish(e);
}

/** Publishes a circuit's change if anyone listens. */
export function publishCircuit(e: CircuitEvent): void {
  if (circuitChannel.hasSubscribers) circuitChannel.publish(e);
}

/** Subscribes to circuit changes of one instance; returns the function that unsubscribes. */
export function onCircuit(scope: object, fn: (e: CircuitEvent) => void): () => void {
  const handler = (m: unknown): void => {
    const e = m as CircuitEvent;
    if (e.scope === scope) fn(e);
  };
  circuitChannel.subscribe(handler);
  return () => circuitChannel.unsubscribe(handler);
}

/** Subscribes to attempts of one instance; returns the function that unsubscribes. */
export function onAttempt(scope: object, fn: (e: AttemptEvent) => void): () => void {
  const handler = (m: unknown): void => {
    const e = m as AttemptEvent;
    if (e.scope === scope) fn(e);
  };
  attemptChannel.subscribe(handler);
  return () => attemptChannel.unsubscribe(handler);
}

/** Subscribes to endpoint state changes of one instance; returns the function that unsubscribes. */
export function onEndpointState(scope: object, fn: (e: EndpointStateEvent) => void): () => void {
  const handler = (m: unknown): void => {
    const e = m as EndpointStateEvent;
    if (e.scope === scope) fn(e);
  };
  endpointStateChannel.subscribe(handler);
  return () => endpointStateChannel.unsubscribe(handler);
}
