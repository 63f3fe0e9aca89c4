/**
 * Rows of the stream tables mapped to stream records, for both stores; a sink's config,
 * secret and headers, and a poller token, are sealed at rest and opened here.
 */
import type { SecretBox } from '../../security/crypto.js';
import type { SinkAttempt, SinkRecord, SinkStatus, StreamEvent, StreamEventTypeRecord, StreamRecord, StreamTokenRecord } from '../contract/streams.js';
import { flag } from './rows.js';
import type { Row } from './rows.js';

/** What both stores answer when a uid or name is taken. */
export const STREAM_UID_TAKEN = 'a stream with this uid already exists';
export const SINK_UID_TAKEN = 'a sink with this uid already exists in this stream';
export const EVENT_TYPE_TAKEN = 'a stream event type with this name already exists';

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export function toStream(r: Row): StreamRecord {
  return {
    id: r.id as string,
    uid: (r.uid as string | null) ?? null,
    name: r.name as string,
    description: (r.description as string | null) ?? null,
    metadata: JSON.parse(r.metadata as string) as Record<string, string>,
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

export function toStreamEventType(r: Row): StreamEventTypeRecord {
  return {
    name: r.name as string,
    description: (r.description as string | null) ?? null,
    archived: flag(r.archived),
    deprecated: flag(r.deprecated),
    featureFlags: r.feature_flags === null || r.feature_flags === undefined ? null : (JSON.parse(r.feature_flags as string) as string[]),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

/** The sealed columns of a sink, as stored. */
export function sealedSinkColumns(s: SinkRecord, box: SecretBox): { config: string; secret: string; headers: string } {
  return { config: box.seal(s.config), secret: box.seal(s.secret), headers: box.seal(JSON.stringify(s.headers)) };
}

export function toSink(r: Row, box: SecretBox): SinkRecord {
  return {
    id: r.id as string,
    streamId: r.stream_id as string,
    uid: (r.uid as string | null) ?? null,
    type: r.type as string,
    config: box.open(r.config as string),
    batchSize: num(r.batch_size),
    maxWaitSecs: num(r.max_wait_secs),
    eventTypes: JSON.parse(r.event_types as string) as string[],
    metadata: JSON.parse(r.metadata as string) as Record<string, string>,
    status: r.status as SinkStatus,
    failureReason: (r.failure_reason as string | null) ?? null,
    nextRetryAt: numOrNull(r.next_retry_at),
    failures: num(r.failures),
    cursor: num(r.cursor),
    secret: box.open(r.secret as string),
    headers: JSON.parse(box.open(r.headers as string)) as Record<string, string>,
    transformationCode: (r.transformation_code as string | null) ?? null,
    transformationEnabled: flag(r.transformation_enabled),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

export function toStreamEvent(r: Row): StreamEvent {
  return {
    streamId: r.stream_id as string,
    seq: num(r.seq),
    id: r.id as string,
    eventType: r.event_type as string,
    payload: r.payload as string,
    createdAt: num(r.created_at),
  };
}

export function toSinkAttempt(r: Row): SinkAttempt {
  return {
    id: r.id as string,
    sinkId: r.sink_id as string,
    streamId: r.stream_id as string,
    firstSeq: num(r.first_seq),
    lastSeq: num(r.last_seq),
    count: num(r.count),
    outcome: r.outcome as 'success' | 'failure',
    responseStatus: numOrNull(r.response_status),
    error: (r.error as string | null) ?? null,
    durationMs: num(r.duration_ms),
    createdAt: num(r.created_at),
  };
}

export function toStreamToken(r: Row, box: SecretBox): StreamTokenRecord {
  return {
    id: r.id as string,
    hash: r.hash as string,
    kind: r.kind as 'portal' | 'poller',
    streamId: r.stream_id as string,
    sinkId: (r.sink_id as string | null) ?? null,
    sessionId: (r.session_id as string | null) ?? null,
    token: r.sealed === null || r.sealed === undefined ? null : box.open(r.sealed as string),
    createdAt: num(r.created_at),
    expiresAt: numOrNull(r.expires_at),
    revokedAt: numOrNull(r.revoked_at),
  };
}
