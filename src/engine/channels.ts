/**
 * `node:diagnostics_channel` events at the points an operator asks about. Publishers pay
 * nothing while no one subscribes; metrics and operational webhooks subscribe.
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

export const attemptChannel = channel('switchboard:attempt');
export const endpointStateChannel = channel('switchboard:endpoint-state');

/** Publishes an attempt event if anyone listens. */
export function publishAttempt(e: AttemptEvent): void {
  if (attemptChannel.hasSubscribers) attemptChannel.publish(e);
}

/** Publishes an endpoint state change if anyone listens. */
export function publishEndpointState(e: EndpointStateEvent): void {
  if (endpointStateChannel.hasSubscribers) endpointStateChannel.publish(e);
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
