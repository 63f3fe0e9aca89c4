/**
 * What a store shared by several nodes (PostgreSQL) adds to the contract: claims whose
 * per-endpoint caps hold across nodes, and notices of what other nodes wrote, so every
 * node reacts within milliseconds instead of at its next sweep. A single-node store
 * (SQLite) has none of this: its `Store.cluster` is absent.
 */
import type { Message } from '../../domain/model.js';
import type { ClaimedDelivery } from './queue.js';

/** A message named by its application and id (the application leads every key of messages). */
export interface MessageRef {
  appId: string;
  id: string;
}

/** The result of a capped claim. */
export interface CappedClaim {
  claims: ClaimedDelivery[];
  /**
   * More may be due but the endpoint's caps (in-flight requests across nodes, rate limit)
   * held it back: claim again after this many ms. Null when nothing more is due.
   */
  retryInMs: number | null;
}

/** Something another node committed. */
export type ClusterNotice =
  /** A message was published; `endpointIds` have deliveries waiting to be claimed (null: too many to list, sweep). */
  | { kind: 'published'; appId: string; messageId: string; endpointIds: string[] | null }
  /** Deliveries of these endpoints fell due (resend, recover, replay). */
  | { kind: 'due'; endpointIds: string[] }
  /** An endpoint of the application was created, changed or deleted. */
  | { kind: 'endpoints-changed'; appId: string }
  /** A polling endpoint or poller token of the application was changed, rotated or deleted. */
  | { kind: 'pollers-changed'; appId: string };

export interface ClusterStore {
  /** This node's identity; its own notices are not delivered back to it. */
  readonly nodeId: string;
  /**
   * Leases up to `limit` due deliveries of one endpoint, within the endpoint's rate limit and
   * `concurrency` requests in flight, both counted across all nodes.
   */
  claimDueCapped(endpointId: string, limit: number, nowMs: number, leaseUntil: number, concurrency: number): Promise<CappedClaim>;
  /**
   * Where this node's ended requests are read from: deliveries leased to it whose request has
   * ended and whose attempt is not recorded yet. Their leases are live in the store until the
   * record, but they hold no request at the endpoint, so the concurrency caps counted across
   * nodes (claims and leases at publish) leave them out. Without it every live lease counts.
   */
  countEndedRequests(source: () => readonly number[]): void;
  /**
   * Delivers other nodes' notices to `onNotice` until the store closes. `onConnected` runs on
   * every (re)connection of the listener: notices sent while it was down are lost, so the
   * caller catches up (sweeps, drops caches). Resolves once listening.
   */
  listen(onNotice: (n: ClusterNotice) => void, onConnected?: () => void): Promise<void>;
  /** Messages by application and id, in id order (to pass other nodes' publishes to local listeners). */
  getMessages(refs: MessageRef[]): Promise<Message[]>;
}
