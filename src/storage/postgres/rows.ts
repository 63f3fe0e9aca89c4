/** Maps PostgreSQL rows to domain records (the column layout mirrors the SQLite one). */
import type { DeliveryStatus } from '../../domain/model.js';
import type { Application, Attempt, Endpoint, EventType, HeaderStyle, Message, TriggerType } from '../../domain/model.js';
import type { SecretBox } from '../../services/crypto.js';

export type Row = Record<string, unknown>;

/** JSON text for a TEXT column, or null. */
export const json = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));
const parse = <T>(v: unknown): T => JSON.parse(v as string) as T;
const parseOrNull = <T>(v: unknown): T | null => (v === null || v === undefined ? null : (JSON.parse(v as string) as T));

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
    archived: r.archived === true,
    deprecated: r.deprecated === true,
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
    disabled: r.disabled === true,
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

/** Messages keep channels and tags as JSONB (filtered in SQL); the driver parses them. */
export function toMessage(r: Row): Message {
  return {
    id: r.id as string,
    appId: r.app_id as string,
    eventType: r.event_type as string,
    eventId: (r.event_id as string | null) ?? null,
    channels: (r.channels as string[] | null) ?? null,
    tags: (r.tags as string[] | null) ?? null,
    payload: (r.payload as string | null) ?? null,
    createdAt: r.created_at as number,
  };
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

/** The endpoint columns, for INSERT and UPDATE. */
export function endpointValues(e: Endpoint, box: SecretBox): Row {
  return {
    id: e.id,
    app_id: e.appId,
    uid: e.uid,
    url: e.url,
    description: e.description,
    disabled: e.disabled,
    event_types: json(e.eventTypes),
    channels: json(e.channels),
    throttle_rate: e.throttleRate,
    metadata: JSON.stringify(e.metadata),
    headers: box.seal(JSON.stringify(e.headers)),
    secrets: box.seal(JSON.stringify(e.secrets)),
    failing_since: e.failingSince,
    filter: json(e.filter),
    transformation: e.transformation ? box.seal(JSON.stringify(e.transformation)) : null,
    created_at: e.createdAt,
    updated_at: e.updatedAt,
  };
}
