/** Stream records as the API shows them (reference SDK shapes; extension sinks shown as http). */
import { isExtensionType, publicSinkConfig, uriFieldOf } from '../../../bridges/streams/sink-configs.js';
import { iteratorOf } from '../../../bridges/streams/streams.js';
import type { SinkAttempt, SinkRecord, StreamEvent, StreamEventTypeRecord, StreamRecord, StreamTokenRecord } from '../../../storage/contract/streams.js';

const iso = (ms: number): string => new Date(ms).toISOString();

export function streamOut(s: StreamRecord) {
  return { id: s.id, uid: s.uid, name: s.name, description: s.description, metadata: s.metadata, createdAt: iso(s.createdAt), updatedAt: iso(s.updatedAt) };
}

export function eventTypeOut(et: StreamEventTypeRecord) {
  return {
    name: et.name,
    description: et.description,
    archived: et.archived,
    deprecated: et.deprecated,
    featureFlags: et.featureFlags,
    createdAt: iso(et.createdAt),
    updatedAt: iso(et.updatedAt),
  };
}

export function sinkOut(s: SinkRecord) {
  const config = publicSinkConfig(s.type, JSON.parse(s.config) as Record<string, unknown>);
  const shown = isExtensionType(s.type)
    ? { type: 'http', config: { url: config[uriFieldOf(s.type)!] as string }, extension: { type: s.type, config } }
    : { type: s.type, config };
  return {
    id: s.id,
    uid: s.uid,
    ...shown,
    batchSize: s.batchSize,
    maxWaitSecs: s.maxWaitSecs,
    eventTypes: s.eventTypes,
    metadata: s.metadata,
    status: s.status,
    failureReason: s.failureReason,
    nextRetryAt: s.nextRetryAt === null ? null : iso(s.nextRetryAt),
    currentIterator: iteratorOf(s.cursor),
    createdAt: iso(s.createdAt),
    updatedAt: iso(s.updatedAt),
  };
}

export function attemptOut(a: SinkAttempt) {
  return {
    id: a.id,
    sinkId: a.sinkId,
    streamId: a.streamId,
    firstIterator: iteratorOf(a.firstSeq - 1),
    lastIterator: iteratorOf(a.lastSeq),
    count: a.count,
    outcome: a.outcome,
    responseStatus: a.responseStatus,
    error: a.error,
    durationMs: a.durationMs,
    createdAt: iso(a.createdAt),
  };
}

export function eventOut(e: StreamEvent) {
  return { eventType: e.eventType, payload: e.payload, timestamp: iso(e.createdAt) };
}

export function apiTokenOut(t: StreamTokenRecord) {
  return { id: t.id, token: t.token!, createdAt: iso(t.createdAt), expiresAt: t.expiresAt === null ? null : iso(t.expiresAt), name: null, scopes: null };
}
