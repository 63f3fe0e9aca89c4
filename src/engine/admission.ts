/**
 * What the engine offers the publish path. Before the commit, each new delivery is
 * admitted: with a free slot on this node (the endpoint's concurrency cap, a rate token,
 * the node-wide in-flight cap) it is inserted already leased and sent as soon as the
 * commit is done, with no claim query; without one it is inserted as pending and claimed
 * from the store later. After the commit, or after it failed, the publish path settles
 * its admissions: leased deliveries are sent, the rest mark their endpoint as backlogged,
 * and slots nothing was sent under are given back.
 */
import type { Application, Endpoint, Message } from '../domain/model.js';

/** Whether a delivery being published is sent by this node once it is committed. */
export type Admission =
  /** A slot is held: insert the delivery leased to this node until `leaseUntil`. */
  | { kind: 'leased'; endpoint: Endpoint; leaseUntil: number }
  /**
   * No slot now: insert the delivery as pending; it is claimed from the store. `claimedHere`:
   * this node claims it itself (its own backlog of the endpoint is ahead of it, and it has
   * room), so other nodes sharing the store need not be told.
   */
  | { kind: 'backlog'; endpoint: Endpoint; claimedHere?: true };

/** A delivery as the store inserted it; a lease token of 0 means the store refused the lease. */
export interface InsertedDelivery {
  deliveryId: number;
  leaseToken: number;
}

/** How a publish ended, reported back with the admissions it was given. */
export type Settlement =
  /** Committed: `inserted[i]` is the delivery admitted as `admissions[i]`. */
  | {
      kind: 'committed';
      message: Message;
      app: Pick<Application, 'id' | 'headerStyle'>;
      admissions: readonly Admission[];
      inserted: readonly InsertedDelivery[];
    }
  /** Nothing was written (the commit failed, or the eventId was taken). */
  | { kind: 'rolled-back'; admissions: readonly Admission[] };

/** The engine as the publish path sees it. */
export interface AdmissionControl {
  /** Admits one new delivery to `endpoint`; a lease runs from `now`, the publish time. */
  admit(endpoint: Endpoint, now: number): Admission;
  /** Sends what was committed leased, backlogs the rest, and gives back unused slots. */
  settle(settlement: Settlement): void;
  /** The store holds due deliveries of this endpoint written outside publish (resend, recover, replay). */
  backlogged(endpointId: string): void;
}

/** How to insert the delivery: leased until a time, or pending (claimed here, or by any node). */
export function insertionOf(admission: Admission): { leaseUntil: number | null; claimedHere?: true } {
  if (admission.kind === 'leased') return { leaseUntil: admission.leaseUntil };
  return admission.claimedHere ? { leaseUntil: null, claimedHere: true } : { leaseUntil: null };
}
