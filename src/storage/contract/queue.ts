/**
 * The delivery queue: claiming due deliveries under a lease, settling them with the outcome
 * of an attempt, giving leases back, and scheduling deliveries again (resend, recover, replay).
 */
import type { Application, Attempt, DeliveryStatus, Endpoint, Message, TriggerType } from '../../domain/model.js';

/** A delivery this node holds a lease on, with everything needed to send it. */
export interface ClaimedDelivery {
  deliveryId: number;
  leaseToken: number;
  /** Attempts made before this one. */
  attempts: number;
  trigger: TriggerType;
  message: Message;
  endpoint: Endpoint;
  app: Pick<Application, 'id' | 'headerStyle'>;
  /** Its ordering key, when claimed by an ordered claim (storage/contract/ordering.ts). */
  orderingKey?: string | undefined;
}

/** The outcome of one attempt, recorded under the lease that made it. */
export interface AttemptRecord {
  attempt: Attempt;
  deliveryId: number;
  leaseToken: number;
  /** The delivery's next state. */
  next:
    | { status: DeliveryStatus.Success }
    | { status: DeliveryStatus.Fail }
    | { status: DeliveryStatus.Pending; at: number };
  /** Disable the endpoint (410 Gone, or failing for too long). */
  disableEndpoint: boolean;
}

/** What recording a batch of attempts left for the engine to do. */
export interface RecordedAttempts {
  /**
   * Indexes (into the records) of those whose delivery a resend requested during the attempt
   * made pending and due at the attempt's time, with a manual trigger, whatever the attempt's
   * outcome: it is to be claimed again at once. Records of stale leases are never listed.
   */
  resent: number[];
}

/** A lease on one delivery, as handed out by a claim or a publish, with the delivery's application (which leads its key). */
export interface LeaseRef {
  appId: string;
  deliveryId: number;
  leaseToken: number;
}

/** Claiming, settling, releasing and rescheduling deliveries. */
export interface QueueStore {
  /** Leases up to `limit` due deliveries of one endpoint. */
  claimDue(endpointId: string, limit: number, nowMs: number, leaseUntil: number): Promise<ClaimedDelivery[]>;
  /** Loads deliveries this node leased at publish time. */
  loadClaimed(refs: LeaseRef[]): Promise<ClaimedDelivery[]>;
  /**
   * Endpoints that have deliveries due at `nowMs`, at most `limit`, in ascending id order;
   * with `afterEndpointId`, those after it (the sweep pages through them all: endpoints whose
   * due deliveries wait behind open circuits or caps must not hide the others).
   */
  dueEndpoints(nowMs: number, limit: number, afterEndpointId?: string): Promise<string[]>;
  /**
   * The earliest time after `afterMs` at which an open delivery falls due (a retry, the end of
   * a lease), or null. Deliveries due already are left out: those still waiting at `afterMs`
   * (behind a concurrency cap, a rate limit, an open circuit or an ordering key's head) are
   * what `dueEndpoints` finds, and must not hide the next time something new falls due.
   */
  nextDueAt(afterMs: number): Promise<number | null>;
  /**
   * Records attempts in one transaction; a stale lease records the attempt but not the state.
   * A resend requested during an attempt (see `resend`) is served here, in the same transaction,
   * whatever the outcome: the delivery becomes pending, due at the attempt's time, manual.
   */
  recordAttempts(records: AttemptRecord[]): Promise<RecordedAttempts>;
  /** Makes all leases due now (single-node start-up: no other node can hold them). */
  releaseAllLeases(nowMs: number): Promise<number>;
  /** Gives back specific leases (shutdown), due at once. */
  releaseLeases(refs: LeaseRef[], nowMs: number): Promise<void>;

  /**
   * Schedules the message to the endpoint again now (manual trigger). While an attempt of the
   * delivery is in flight the request is remembered instead, and served when that attempt is
   * recorded under the current lease; releasing or retaking the lease keeps it.
   */
  resend(messageId: string, endpointId: string, appId: string, nowMs: number): Promise<void>;
  /**
   * Schedules again every delivery of the endpoint created in [since, until) that is failed
   * now. One in flight has not failed: its attempt decides, and a later recover takes it if it fails.
   */
  recoverFailed(endpointId: string, since: number, until: number | null, nowMs: number): Promise<number>;
  /** Messages of the app created in [since, until) that have no delivery to the endpoint. */
  messagesWithoutDelivery(appId: string, endpointId: string, since: number, until: number | null): Promise<Message[]>;
  /** Creates deliveries for existing messages (replay). */
  addDeliveries(endpointId: string, appId: string, messageIds: string[], nowMs: number): Promise<number>;
}
