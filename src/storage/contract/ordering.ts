/**
 * Ordered delivery (docs/ordering.md): claims that, per endpoint and ordering key, lease only
 * the oldest unfinished delivery and only while no delivery of that key is in flight; the
 * keys a failed delivery paused; letting a paused key go on; and creating keyed deliveries
 * for existing messages (replay, resend to an endpoint the message never went to).
 *
 * A delivery to an ordered endpoint carries its ordering key ('' for a message without one)
 * and its position (the message's `seq`). Deliveries left without a key (published before
 * the endpoint was ordered, or by a node whose endpoint cache was stale) are given theirs by
 * the claim while the endpoint's settings are new, and once per endpoint per process.
 */
import type { OrderingConfig } from '../../domain/ordering.js';
import type { CappedClaim } from './cluster.js';

/** A key held by a failed delivery under the `pause` policy. */
export interface PausedKey {
  key: string;
  /** The failed delivery's message (the oldest, when several failed). */
  messageId: string;
  /** When that delivery failed. */
  pausedAt: number;
}

export interface OrderingStore {
  /**
   * Leases up to `limit` due deliveries of an ordered endpoint: per key, the oldest unfinished
   * one, when no delivery of the key is in flight and (policy `pause`) no failed one holds it.
   * With `concurrency`, leases live across all nodes count against it. Resolves null when the
   * endpoint is missing or not ordered (then the ordinary claim applies).
   */
  claimDue(endpointId: string, limit: number, nowMs: number, leaseUntil: number, concurrency: number | null): Promise<CappedClaim | null>;
  /**
   * Gives the endpoint's unfinished deliveries that have no key their key and position (after
   * a resend or recover made deliveries from before the endpoint was ordered unfinished again).
   */
  assignKeys(endpointId: string, config: OrderingConfig): Promise<void>;
  /** Keys of the endpoint that a failed delivery holds (meaningful under the `pause` policy). */
  pausedKeys(endpointId: string, limit: number): Promise<PausedKey[]>;
  /** Lets the key go on past its failed deliveries (they stay failed). Resolves how many were let go. */
  resume(endpointId: string, key: string, nowMs: number): Promise<number>;
  /**
   * Creates pending deliveries, due now, of existing messages to an ordered endpoint, each with
   * its key and position; messages that already have one are left alone. Resolves how many were created.
   */
  addDeliveries(endpointId: string, appId: string, config: OrderingConfig, messageIds: string[], nowMs: number): Promise<number>;
}
