/**
 * The storage contract. Services talk to storage only through this interface; SQLite
 * and PostgreSQL implement it and pass the same contract suite.
 */
import type {
  Application,
  Attempt,
  DeliveryStatus,
  Endpoint,
  EventType,
  Message,
  TriggerType,
} from '../../domain/model.js';
import type { OperationalWebhookStore } from './operational-webhooks.js';
import type { PullStore } from './pull.js';
import type { AuthStore } from './auth.js';
import type { ClusterStore } from './cluster.js';
import type { IngestStore } from './ingest.js';
import type { AppAttemptStats } from './app-stats.js';

export type Order = 'ascending' | 'descending';

export interface PageQuery {
  limit: number;
  /** Opaque position from a previous page; a leading '-' pages backwards. */
  iterator?: string | undefined;
  order?: Order | undefined;
}

export interface Page<T> {
  data: T[];
  iterator: string | null;
  prevIterator: string | null;
  done: boolean;
}

export interface MessageQuery extends PageQuery {
  before?: number | undefined;
  after?: number | undefined;
  eventTypes?: string[] | undefined;
  channel?: string | undefined;
  tag?: string | undefined;
}

export interface AttemptQuery extends PageQuery {
  status?: DeliveryStatus | undefined;
  statusCodeClass?: number | undefined;
  endpointId?: string | undefined;
  channel?: string | undefined;
  eventTypes?: string[] | undefined;
  before?: number | undefined;
  after?: number | undefined;
}

/** A delivery to create alongside a message. A lease means this node sends it at once. */
export interface NewDelivery {
  endpointId: string;
  leaseUntil: number | null;
}

export interface PublishItem {
  message: Message;
  deliveries: NewDelivery[];
}

export type PublishResult =
  | { kind: 'created'; deliveries: { endpointId: string; deliveryId: number; leaseToken: number }[] }
  | { kind: 'duplicate-event-id'; existingId: string };

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

export interface EndpointStats {
  success: number;
  pending: number;
  fail: number;
  sending: number;
}

/** The delivery queue at one instant, for metrics. */
export interface QueueStats {
  /** Deliveries due now (pending, or leased with an expired lease). */
  due: number;
  /** Pending deliveries due later (retries waiting for their time). */
  scheduled: number;
  /** Deliveries leased and in flight. */
  sending: number;
  /** When the longest-waiting due delivery fell due, or null if none is due. */
  oldestDueAt: number | null;
}

export interface IdempotentResponse {
  status: number;
  body: string;
  contentType: string;
}

export interface Store {
  /** Present on a store several nodes share (PostgreSQL): cross-node claim caps and notices. */
  readonly cluster?: ClusterStore | undefined;
  /** Applies pending migrations. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** Checks the database answers. */
  ping(): Promise<void>;

  createApplication(app: Application): Promise<void>;
  /** By id or uid. */
  getApplication(idOrUid: string): Promise<Application | null>;
  listApplications(q: PageQuery): Promise<Page<Application>>;
  updateApplication(app: Application): Promise<void>;
  deleteApplication(id: string): Promise<void>;

  createEventType(et: EventType): Promise<void>;
  getEventType(name: string): Promise<EventType | null>;
  listEventTypes(q: PageQuery & { includeArchived: boolean }): Promise<Page<EventType>>;
  updateEventType(et: EventType): Promise<void>;
  deleteEventType(name: string): Promise<void>;

  createEndpoint(ep: Endpoint): Promise<void>;
  /** By id or uid, within the application. */
  getEndpoint(appId: string, idOrUid: string): Promise<Endpoint | null>;
  listEndpoints(appId: string, q: PageQuery): Promise<Page<Endpoint>>;
  /** Every endpoint of the application, for fan-out. */
  allEndpoints(appId: string): Promise<Endpoint[]>;
  /** Saves the endpoint; disabling it fails its deliveries not yet in flight. */
  updateEndpoint(ep: Endpoint): Promise<void>;
  deleteEndpoint(appId: string, id: string): Promise<void>;

  /** Inserts messages and their deliveries in one transaction (group commit). */
  publish(items: PublishItem[]): Promise<PublishResult[]>;
  /** By id or eventId, within the application. */
  getMessage(appId: string, idOrEventId: string): Promise<Message | null>;
  listMessages(appId: string, q: MessageQuery): Promise<Page<Message>>;
  expungeMessageContent(appId: string, id: string): Promise<void>;

  /** Leases up to `limit` due deliveries of one endpoint. */
  claimDue(endpointId: string, limit: number, nowMs: number, leaseUntil: number): Promise<ClaimedDelivery[]>;
  /** Loads deliveries this node leased at publish time. */
  loadClaimed(refs: { deliveryId: number; leaseToken: number }[]): Promise<ClaimedDelivery[]>;
  /** Endpoints that have deliveries due at `nowMs`. */
  dueEndpoints(nowMs: number, limit: number): Promise<string[]>;
  /** The earliest time any delivery falls due, or null. */
  nextDueAt(): Promise<number | null>;
  /** Records attempts in one transaction; a stale lease records the attempt but not the state. */
  recordAttempts(records: AttemptRecord[]): Promise<void>;
  /** Makes all leases due now (single-node start-up: no other node can hold them). */
  releaseAllLeases(nowMs: number): Promise<number>;
  /** Gives back specific leases (shutdown), due at once. */
  releaseLeases(refs: { deliveryId: number; leaseToken: number }[], nowMs: number): Promise<void>;

  /** Schedules the message to the endpoint again now (manual trigger). */
  resend(messageId: string, endpointId: string, appId: string, nowMs: number): Promise<void>;
  /** Schedules again every failed delivery of the endpoint created in [since, until). */
  recoverFailed(endpointId: string, since: number, until: number | null, nowMs: number): Promise<number>;
  /** Messages of the app created in [since, until) that have no delivery to the endpoint. */
  messagesWithoutDelivery(appId: string, endpointId: string, since: number, until: number | null): Promise<Message[]>;
  /** Creates deliveries for existing messages (replay). */
  addDeliveries(endpointId: string, appId: string, messageIds: string[], nowMs: number): Promise<number>;

  listAttemptsByMessage(appId: string, messageId: string, q: AttemptQuery): Promise<Page<Attempt>>;
  listAttemptsByEndpoint(appId: string, endpointId: string, q: AttemptQuery): Promise<Page<Attempt>>;
  getAttempt(appId: string, messageId: string, attemptId: string): Promise<Attempt | null>;
  expungeAttemptContent(appId: string, messageId: string, attemptId: string): Promise<void>;
  /** Deliveries of a message, one per endpoint, with the endpoint. */
  listMessageDestinations(
    appId: string,
    messageId: string,
    q: PageQuery,
  ): Promise<Page<{ endpoint: Endpoint; status: DeliveryStatus; nextAttemptAt: number | null }>>;
  /** Messages sent to an endpoint, with the delivery status. */
  listEndpointMessages(
    appId: string,
    endpointId: string,
    q: MessageQuery & { status?: DeliveryStatus | undefined },
  ): Promise<Page<{ message: Message; status: DeliveryStatus; nextAttemptAt: number | null }>>;
  endpointStats(endpointId: string, since: number | null, until: number | null): Promise<EndpointStats>;
  /** An application's attempts in [since, until) per `bucketMs` bucket and per event type, and its unfinished deliveries. */
  appAttemptStats(appId: string, since: number, until: number, bucketMs: number): Promise<AppAttemptStats>;

  /** A stored response for an idempotency key, if one is fresh. */
  getIdempotent(key: string, nowMs: number): Promise<IdempotentResponse | null>;
  /** Stores a response until `expiresAt`, dropping entries expired at `nowMs`. */
  putIdempotent(key: string, res: IdempotentResponse, expiresAt: number, nowMs: number): Promise<void>;

  /** Counts of the delivery queue at `nowMs` (metrics). */
  queueStats(nowMs: number): Promise<QueueStats>;
  /**
   * Retention: deletes up to `limit` of the oldest messages created before `cutoffMs`, with
   * their deliveries and attempts. Messages with a delivery still pending or in flight are
   * kept. Returns how many messages were deleted.
   */
  purgeMessagesBefore(cutoffMs: number, limit: number): Promise<number>;
  /** Operational webhook endpoints. */
  readonly operationalWebhooks: OperationalWebhookStore;
  /** The pull side: the message log by position, polling endpoints, consumers, poller tokens. */
  readonly pull: PullStore;
  /** API keys, OAuth clients and signing keys, app-portal tokens. */
  readonly auth: AuthStore;
  /** Ingest sources, their tokens and logs, schedules of poll and cron sources. */
  readonly ingest: IngestStore;
}
