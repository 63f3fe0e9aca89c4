/**
 * Maps stored rows to domain records, for both stores: the column layouts are the same, and
 * the few differences (booleans as 0/1 or true/false, JSON as text or JSONB) are read here.
 */
import { DeliveryStatus } from '../../domain/model.js';
import type { Application, Attempt, Endpoint, EventType, HeaderStyle, Message, TriggerType } from '../../domain/model.js';
import type { SecretBox } from '../../security/crypto.js';
import type { RunOutcomeKind } from '../../domain/providers/source.js';
import type { ApiKeyRecord, CredentialScope, OAuthClientRecord, PortalTokenRecord } from '../contract/auth.js';
import type { IngestLog, RunState, SourceRecord } from '../contract/ingest.js';
import type { PollerToken, PollingEndpoint } from '../contract/pull.js';
import type { EndpointStats } from '../contract/stats.js';
import type { AppAttemptStats } from '../contract/app-stats.js';
import type { BackgroundTask, BackgroundTaskKind, BackgroundTaskStatus } from '../contract/background-tasks.js';
import type { IdempotentResponse } from '../contract/idempotency.js';

export type Row = Record<string, unknown>;

/** JSON text for a TEXT column, or null. */
export const json = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));
const parse = <T>(v: unknown): T => JSON.parse(v as string) as T;
const parseOrNull = <T>(v: unknown): T | null => (v === null || v === undefined ? null : (JSON.parse(v as string) as T));
/** A JSON column: text to parse, or a value the driver already parsed. */
const jsonValue = <T>(v: unknown): T | null => (typeof v === 'string' ? (JSON.parse(v) as T) : ((v as T | null | undefined) ?? null));
/** A boolean column: 0/1 on SQLite, a boolean on PostgreSQL. */
export const flag = (v: unknown): boolean => v === 1 || v === true;

export function toApp(r: Row): Application {
  return {
    id: r.id as string,
    uid: (r.uid as string | null) ?? null,
    name: r.name as string,
    throttleRate: (r.throttle_rate as number | null) ?? null,
    metadata: parse(r.metadata),
    headerStyle: r.header_style as HeaderStyle,
    createdAt: r.created_at as number,
    updatedAt: r.updated_at as number,
  };
}

export function toEventType(r: Row): EventType {
  return {
    name: r.name as string,
    description: r.description as string,
    archived: flag(r.archived),
    deprecated: flag(r.deprecated),
    featureFlag: (r.feature_flag as string | null) ?? null,
    schemas: parseOrNull(r.schemas),
    createdAt: r.created_at as number,
    updatedAt: r.updated_at as number,
  };
}

/** An endpoint row; headers, secrets and transformation are sealed at rest. */
export function toEndpoint(r: Row, box: SecretBox): Endpoint {
  return {
    id: r.id as string,
    appId: r.app_id as string,
    uid: (r.uid as string | null) ?? null,
    url: r.url as string,
    description: r.description as string,
    disabled: flag(r.disabled),
    eventTypes: parseOrNull(r.event_types),
    channels: parseOrNull(r.channels),
    throttleRate: (r.throttle_rate as number | null) ?? null,
    metadata: parse(r.metadata),
    headers: parse(box.open(r.headers as string)),
    secrets: parse(box.open(r.secrets as string)),
    failingSince: (r.failing_since as number | null) ?? null,
    filter: parseOrNull(r.filter),
    transformation: r.transformation == null ? null : parse(box.open(r.transformation as string)),
    createdAt: r.created_at as number,
    updatedAt: r.updated_at as number,
  };
}

/** Channels and tags: JSON text on SQLite, JSONB (already parsed by the driver) on PostgreSQL. */
export function toMessage(r: Row): Message {
  const m: Message = {
    id: r.id as string,
    appId: r.app_id as string,
    eventType: r.event_type as string,
    eventId: (r.event_id as string | null) ?? null,
    channels: jsonValue(r.channels),
    tags: jsonValue(r.tags),
    payload: (r.payload as string | null) ?? null,
    createdAt: r.created_at as number,
  };
  // Only messages published with an explicit ordering key carry the field.
  if (typeof r.ordering_key === 'string') m.orderingKey = r.ordering_key;
  return m;
}

export function toAttempt(r: Row): Attempt {
  return {
    id: r.id as string,
    messageId: r.message_id as string,
    endpointId: r.endpoint_id as string,
    appId: r.app_id as string,
    url: r.url as string,
    status: r.status as DeliveryStatus.Success | DeliveryStatus.Fail,
    responseStatusCode: r.response_status_code as number,
    response: r.response as string,
    responseDurationMs: r.duration_ms as number,
    triggerType: r.trigger as TriggerType,
    createdAt: r.created_at as number,
  };
}

// ---- credentials (auth store)

const scopesOf = (v: unknown): CredentialScope[] => JSON.parse(v as string) as CredentialScope[];
/** A nullable number column. */
export const num = (v: unknown): number | null => (v === null || v === undefined ? null : (v as number));

export function toApiKey(r: Row): ApiKeyRecord {
  return {
    id: r.id as string,
    name: r.name as string,
    prefix: r.prefix as string,
    hash: r.hash as string,
    appId: (r.app_id as string | null) ?? null,
    scopes: scopesOf(r.scopes),
    createdAt: r.created_at as number,
    expiresAt: num(r.expires_at),
    revokedAt: num(r.revoked_at),
    lastUsedAt: num(r.last_used_at),
  };
}

export function toClient(r: Row): OAuthClientRecord {
  return {
    id: r.id as string,
    name: r.name as string,
    secretHash: r.secret_hash as string,
    appId: (r.app_id as string | null) ?? null,
    scopes: scopesOf(r.scopes),
    createdAt: r.created_at as number,
    revokedAt: num(r.revoked_at),
    lastUsedAt: num(r.last_used_at),
  };
}

export function toPortalToken(r: Row): PortalTokenRecord {
  return {
    id: r.id as string,
    hash: r.hash as string,
    appId: r.app_id as string,
    scopes: scopesOf(r.scopes),
    sessionId: (r.session_id as string | null) ?? null,
    createdAt: r.created_at as number,
    expiresAt: r.expires_at as number,
    revokedAt: num(r.revoked_at),
  };
}

// ---- ingest sources

export function toSource(r: Row, box: SecretBox): SourceRecord {
  return {
    id: r.id as string,
    uid: (r.uid as string | null) ?? null,
    name: r.name as string,
    type: r.type as string,
    metadata: JSON.parse(r.metadata as string) as Record<string, string>,
    config: box.open(r.config as string),
    createdAt: r.created_at as number,
    updatedAt: r.updated_at as number,
  };
}

export function toLog(r: Row): IngestLog {
  return {
    id: r.id as string,
    sourceId: r.source_id as string,
    statusCode: r.status_code as number,
    errorText: r.error_text as string,
    headers: JSON.parse(r.headers as string) as Record<string, string>,
    payload: r.payload as string,
    createdAt: r.created_at as number,
  };
}

export function toRun(r: Row): RunState {
  return {
    sourceId: r.source_id as string,
    nextRunAt: r.next_run_at as number,
    tickAt: r.tick_at as number,
    leaseToken: r.lease_token as number,
    running: flag(r.running),
    lastRunAt: (r.last_run_at as number | null) ?? null,
    lastOutcome: (r.last_outcome as RunOutcomeKind | null) ?? null,
    lastError: (r.last_error as string | null) ?? null,
    failures: r.failures as number,
    etag: (r.etag as string | null) ?? null,
    lastModified: (r.last_modified as string | null) ?? null,
    primed: flag(r.primed),
  };
}

// ---- pull

export function toPollingEndpoint(r: Row): PollingEndpoint {
  return {
    id: r.id as string,
    appId: r.app_id as string,
    uid: (r.uid as string | null) ?? null,
    description: r.description as string,
    eventTypes: parseOrNull(r.event_types),
    channels: parseOrNull(r.channels),
    metadata: JSON.parse(r.metadata as string) as Record<string, string>,
    createdAt: r.created_at as number,
    updatedAt: r.updated_at as number,
  };
}

/** A poller token; the token itself is sealed at rest. */
export function toPollerToken(r: Row, box: SecretBox): PollerToken {
  return {
    id: r.id as string,
    pollingEndpointId: r.polling_endpoint_id as string,
    appId: r.app_id as string,
    tokenHash: r.token_hash as string,
    token: box.open(r.sealed as string),
    createdAt: r.created_at as number,
    expiresAt: (r.expires_at as number | null) ?? null,
  };
}

/** An endpoint's deliveries by state, from `(status, n)` rows of a count grouped by status. */
export function endpointStatsOf(rows: Iterable<Record<string, unknown>>): EndpointStats {
  const stats: EndpointStats = { success: 0, pending: 0, fail: 0, sending: 0 };
  for (const r of rows) {
    const n = r.n as number;
    if (r.status === DeliveryStatus.Success) stats.success = n;
    else if (r.status === DeliveryStatus.Pending) stats.pending = n;
    else if (r.status === DeliveryStatus.Fail) stats.fail = n;
    else stats.sending = n;
  }
  return stats;
}

/** An application's unfinished deliveries, from `(status, n, oldest)` rows of pending (1) and sending (3) counts. */
export function appQueueOf(rows: Iterable<Record<string, unknown>>): AppAttemptStats['queue'] {
  const queue: AppAttemptStats['queue'] = { pending: 0, sending: 0, oldestPendingAt: null };
  for (const r of rows) {
    if (r.status === DeliveryStatus.Pending) queue.pending = r.n as number;
    else queue.sending = r.n as number;
    const oldest = r.oldest as number | null;
    if (oldest !== null && (queue.oldestPendingAt === null || oldest < queue.oldestPendingAt)) queue.oldestPendingAt = oldest;
  }
  return queue;
}

/** A background task row (timestamps as numbers on both databases). */
export function toBackgroundTask(r: Row): BackgroundTask {
  return {
    id: r.id as string,
    task: r.task as BackgroundTaskKind,
    status: r.status as BackgroundTaskStatus,
    appId: (r.app_id as string | null) ?? null,
    params: JSON.parse(r.params as string) as Record<string, unknown>,
    data: JSON.parse(r.data as string) as Record<string, unknown>,
    checkpoint: parseOrNull<Record<string, unknown>>(r.checkpoint),
    owner: (r.owner as string | null) ?? null,
    leaseUntil: r.lease_until === null || r.lease_until === undefined ? null : Number(r.lease_until),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

/** The response a row of `idempotency_keys` holds. */
export function toIdempotentResponse(r: Row): IdempotentResponse {
  return { status: r.status as number, body: r.body as string, contentType: r.content_type as string };
}
