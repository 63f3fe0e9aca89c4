/**
 * Storage of streams: streams, their event types, sinks, the append-only event log of each
 * stream, and the delivery state of each sink (a cursor into the log, a lease, a status).
 * Exposed on the Store as `store.streams`. A sink's config, secret and headers hold
 * credentials, so the store seals them at rest, like endpoint secrets.
 */
import type { Metadata } from '../../domain/model.js';
import type { Page, PageQuery } from './paging.js';

/** As in the reference API: `paused` is set by the server, `retrying` while deliveries fail. */
export type SinkStatus = 'enabled' | 'paused' | 'disabled' | 'retrying';

export interface StreamRecord {
  /** `strm_...` */
  id: string;
  uid: string | null;
  name: string;
  description: string | null;
  metadata: Metadata;
  createdAt: number;
  updatedAt: number;
}

export interface StreamEventTypeRecord {
  name: string;
  description: string | null;
  archived: boolean;
  deprecated: boolean;
  featureFlags: string[] | null;
  createdAt: number;
  updatedAt: number;
}

export interface SinkRecord {
  /** `sink_...` */
  id: string;
  streamId: string;
  uid: string | null;
  /** `poller`, `http`, `rabbitMq`, or an extension: `redis`, `natsJetStream`, `mqtt`. */
  type: string;
  /** The type's config as JSON text (sealed at rest). */
  config: string;
  batchSize: number;
  maxWaitSecs: number;
  /** Empty: every event type. */
  eventTypes: string[];
  metadata: Metadata;
  status: SinkStatus;
  failureReason: string | null;
  nextRetryAt: number | null;
  /** Failed deliveries in a row (reset by a success). */
  failures: number;
  /** Sequence of the last event delivered (0: none yet). Poller sinks keep theirs too. */
  cursor: number;
  /** Signing secret (`whsec_...`, sealed at rest). */
  secret: string;
  /** Extra headers (HTTP sinks). */
  headers: Record<string, string>;
  transformationCode: string | null;
  transformationEnabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface NewStreamEvent {
  /** `evt_...`, unique per stream; an event appended twice with one id is stored once. */
  id: string;
  eventType: string;
  /** The payload as sent (a string, per the reference API). */
  payload: string;
  createdAt: number;
}

export interface StreamEvent extends NewStreamEvent {
  streamId: string;
  /** Position in the stream's log, increasing from 1. */
  seq: number;
}

/** A sink leased for one delivery round; `leaseToken` fences a node whose lease ran out. */
export interface LeasedSink {
  sink: SinkRecord;
  leaseToken: number;
}

/** One delivery attempt of a batch to a sink. */
export interface SinkAttempt {
  /** `satt_...` */
  id: string;
  sinkId: string;
  streamId: string;
  firstSeq: number;
  lastSeq: number;
  count: number;
  outcome: 'success' | 'failure';
  /** Status code or broker reply, when there is one. */
  responseStatus: number | null;
  error: string | null;
  durationMs: number;
  createdAt: number;
}

/** What a delivery round changes on its sink. */
export interface SinkSettlement {
  /** The new cursor on success; undefined keeps it. */
  cursor?: number;
  status: SinkStatus;
  failureReason: string | null;
  nextRetryAt: number | null;
  failures: number;
}

/** A bearer token limited to one stream: a portal token, or a poller token of one sink. */
export interface StreamTokenRecord {
  /** `stok_...` */
  id: string;
  /** SHA-256 of the token (hex); the token itself is never looked up in plain text. */
  hash: string;
  kind: 'portal' | 'poller';
  streamId: string;
  /** The poller sink a poller token reads (null for portal tokens). */
  sinkId: string | null;
  sessionId: string | null;
  /** The token (poller tokens, sealed at rest, so it can be shown again); null for portal tokens. */
  token: string | null;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
}

export interface StreamStore {
  createStream(s: StreamRecord): Promise<void>;
  getStream(idOrUid: string): Promise<StreamRecord | null>;
  listStreams(q: PageQuery): Promise<Page<StreamRecord>>;
  updateStream(s: StreamRecord): Promise<void>;
  /** Deletes the stream with its sinks, events and attempts. */
  deleteStream(id: string): Promise<void>;

  createEventType(et: StreamEventTypeRecord): Promise<void>;
  getEventType(name: string): Promise<StreamEventTypeRecord | null>;
  listEventTypes(q: PageQuery & { includeArchived: boolean }): Promise<Page<StreamEventTypeRecord>>;
  updateEventType(et: StreamEventTypeRecord): Promise<void>;
  deleteEventType(name: string): Promise<void>;

  createSink(s: SinkRecord): Promise<void>;
  getSink(streamId: string, idOrUid: string): Promise<SinkRecord | null>;
  listSinks(streamId: string, q: PageQuery): Promise<Page<SinkRecord>>;
  /** Every sink of every stream that is not a poller and not disabled (for the dispatcher's view). */
  listDeliverableSinks(): Promise<SinkRecord[]>;
  /** Saves what the API changes; the cursor and lease are left alone (setSinkCursor, settleSink move them). */
  updateSink(s: SinkRecord): Promise<void>;
  deleteSink(streamId: string, id: string): Promise<void>;

  /** Appends events in order; an id already in the stream is skipped. Returns the stored events with their seq. */
  appendEvents(streamId: string, events: NewStreamEvent[]): Promise<StreamEvent[]>;
  /** Events after `afterSeq`, oldest first, at most `limit`, only of `eventTypes` when not empty. */
  readEvents(streamId: string, afterSeq: number, limit: number, eventTypes: string[]): Promise<StreamEvent[]>;
  /** The seq just before the first event created at or after `time` (to replay from a time). */
  seqBefore(streamId: string, time: number): Promise<number>;
  /** The highest seq of the stream (0 when empty). */
  lastSeq(streamId: string): Promise<number>;

  /**
   * Leases up to `limit` sinks that are `enabled` or `retrying` (due: `nextRetryAt` null or
   * <= now), not pollers, whose lease is free or ran out, and that have events past their
   * cursor. Each lease lasts `leaseMs`; nodes sharing a database never lease one sink twice.
   */
  leaseDueSinks(now: number, leaseMs: number, limit: number): Promise<LeasedSink[]>;
  /**
   * Records the attempt and applies the settlement, and frees the lease, only while the lease
   * token still matches; false when another lease took the sink (nothing is written then).
   */
  settleSink(sinkId: string, leaseToken: number, settlement: SinkSettlement, attempt: SinkAttempt): Promise<boolean>;
  /** Frees a lease without a delivery (nothing was due after all). */
  releaseSink(sinkId: string, leaseToken: number): Promise<void>;
  listSinkAttempts(sinkId: string, q: PageQuery): Promise<Page<SinkAttempt>>;
  /** Moves a sink's cursor (replay, poller reads); lease and status are untouched. */
  setSinkCursor(sinkId: string, cursor: number): Promise<void>;

  createStreamToken(t: StreamTokenRecord): Promise<void>;
  /** The token with this hash, live or not (callers check expiry and revocation). */
  streamTokenByHash(hash: string): Promise<StreamTokenRecord | null>;
  /** The newest live poller token of a sink (no expiry), or null. */
  currentPollerToken(sinkId: string): Promise<StreamTokenRecord | null>;
  /** Adds a poller token; the sink's other live tokens expire at `oldExpiresAt` (sooner ones keep their time). */
  rotatePollerToken(t: StreamTokenRecord, oldExpiresAt: number): Promise<void>;
  /** Expires the stream's portal tokens at `at` (only those of `sessionIds` when given); returns how many. */
  expirePortalTokens(streamId: string, at: number, sessionIds: string[] | null): Promise<number>;
  revokeStreamToken(id: string, now: number): Promise<void>;
}

/** What the sink dispatcher needs of the stream store: leasing, reading and settling sinks. */
export type SinkDeliveryStore = Pick<StreamStore, 'leaseDueSinks' | 'settleSink' | 'releaseSink' | 'readEvents' | 'lastSeq' | 'listDeliverableSinks'>;
