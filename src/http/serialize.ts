/** Turns records into the API's output shapes. */
import type { Application, Attempt, Endpoint, EventType, Message } from '../domain/model.js';
import { DeliveryStatus, STATUS_TEXT } from '../domain/model.js';
import type { Page } from '../storage/contract/store.js';

/** An epoch-ms time as the API writes it (RFC 3339, UTC). */
export const iso = (ms: number): string => new Date(ms).toISOString();

/** A list response: `data`, `iterator`, `prevIterator`, `done`. */
export function listOut<T, O>(page: Page<T>, map: (t: T) => O): { data: O[]; iterator: string | null; prevIterator: string | null; done: boolean } {
  return { data: page.data.map(map), iterator: page.iterator, prevIterator: page.prevIterator, done: page.done };
}

export function applicationOut(a: Application) {
  return {
    id: a.id,
    uid: a.uid ?? undefined,
    name: a.name,
    throttleRate: a.throttleRate ?? undefined,
    rateLimit: a.throttleRate ?? undefined,
    metadata: a.metadata,
    headerStyle: a.headerStyle,
    createdAt: iso(a.createdAt),
    updatedAt: iso(a.updatedAt),
  };
}

export function eventTypeOut(e: EventType) {
  return {
    name: e.name,
    description: e.description,
    archived: e.archived,
    deprecated: e.deprecated,
    featureFlag: e.featureFlag ?? undefined,
    schemas: e.schemas ?? undefined,
    createdAt: iso(e.createdAt),
    updatedAt: iso(e.updatedAt),
  };
}

export function endpointOut(e: Endpoint) {
  return {
    id: e.id,
    uid: e.uid ?? undefined,
    url: e.url,
    description: e.description,
    version: 1,
    disabled: e.disabled,
    filterTypes: e.eventTypes ?? undefined,
    eventTypes: e.eventTypes ?? undefined,
    channels: e.channels ?? undefined,
    rateLimit: e.throttleRate ?? undefined,
    throttleRate: e.throttleRate ?? undefined,
    metadata: e.metadata,
    filter: e.filter ?? undefined,
    createdAt: iso(e.createdAt),
    updatedAt: iso(e.updatedAt),
  };
}

/**
 * The payload text parsed back for output; an expunged payload reads as `{}`. Payloads are
 * stored as JSON objects: publishing takes nothing else and ingest wraps other bodies in one.
 */
function payloadOf(m: Message): Record<string, unknown> {
  return m.payload === null ? {} : (JSON.parse(m.payload) as Record<string, unknown>);
}

/**
 * `messageOut` as JSON text, with the payload text spliced in as it is: the same fields in the
 * same order as the response schema's serializer writes them. Only for payload text that
 * JSON.stringify wrote (the publish answer): parsing it back to write it again would be two
 * passes over up to 1 MiB for nothing.
 */
export function messageJson(m: Message, withContent = true): string {
  // The serializer writes the schema's required properties first, then the others present.
  let s = `{"id":${JSON.stringify(m.id)},"eventType":${JSON.stringify(m.eventType)}`;
  s += `,"payload":${withContent && m.payload !== null ? m.payload : '{}'}`;
  s += `,"timestamp":${JSON.stringify(iso(m.createdAt))}`;
  if (m.eventId != null) s += `,"eventId":${JSON.stringify(m.eventId)}`;
  if (m.channels != null) s += `,"channels":${JSON.stringify(m.channels)}`;
  if (m.tags != null) s += `,"tags":${JSON.stringify(m.tags)}`;
  return s + '}';
}

export function messageOut(m: Message, withContent = true) {
  return {
    id: m.id,
    eventType: m.eventType,
    eventId: m.eventId ?? undefined,
    channels: m.channels ?? undefined,
    tags: m.tags ?? undefined,
    payload: withContent ? payloadOf(m) : {},
    timestamp: iso(m.createdAt),
  };
}

export function attemptOut(a: Attempt) {
  return {
    id: a.id,
    msgId: a.messageId,
    endpointId: a.endpointId,
    url: a.url,
    status: a.status,
    statusText: STATUS_TEXT[a.status],
    response: a.response,
    responseStatusCode: a.responseStatusCode,
    responseDurationMs: a.responseDurationMs,
    triggerType: a.triggerType,
    timestamp: iso(a.createdAt),
  };
}

export function deliveryStatusOut(status: DeliveryStatus, nextAttemptAt: number | null) {
  return { status, statusText: STATUS_TEXT[status], nextAttempt: nextAttemptAt === null ? undefined : iso(nextAttemptAt) };
}
