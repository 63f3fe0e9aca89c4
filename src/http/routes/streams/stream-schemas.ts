/** JSON schemas of the Stream API (shapes as in the reference SDK's models), input and output. */
import * as S from '../../schemas.js';

const id = { type: 'string', minLength: 1, maxLength: 256 } as const;
const nullableUid = { ...S.S.uid, type: ['string', 'null'] } as const;
const eventTypes = { type: 'array', items: S.S.name256, maxItems: 1000 } as const;
const featureFlags = { type: ['array', 'null'], items: S.S.name256, maxItems: 100 } as const;
const description = { type: ['string', 'null'], maxLength: 65536 } as const;

export const streamParams = { type: 'object', required: ['stream_id'], properties: { stream_id: id } } as const;
export const sinkParams = { type: 'object', required: ['stream_id', 'sink_id'], properties: { stream_id: id, sink_id: id } } as const;
export const eventTypeParams = { type: 'object', required: ['name'], properties: { name: S.S.name256 } } as const;

export const streamIn = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 256 }, uid: nullableUid, description, metadata: S.S.metadata },
} as const;
export const streamPatch = { ...streamIn, required: [] } as const;

export const streamOut = {
  type: 'object',
  required: ['id', 'metadata', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string' },
    uid: { type: ['string', 'null'] },
    name: { type: ['string', 'null'] },
    description: { type: ['string', 'null'] },
    metadata: S.S.metadata,
    createdAt: S.S.dateTime,
    updatedAt: S.S.dateTime,
  },
} as const;

const eventTypeProps = { description, archived: { type: 'boolean' }, deprecated: { type: 'boolean' }, featureFlags } as const;
export const eventTypeIn = { type: 'object', required: ['name'], properties: { name: S.S.name256, ...eventTypeProps } } as const;
export const eventTypeUpdate = { type: 'object', properties: { name: S.S.name256, ...eventTypeProps } } as const;
export const eventTypePatch = { type: 'object', properties: eventTypeProps } as const;

export const eventTypeOut = {
  type: 'object',
  required: ['name', 'archived', 'deprecated', 'createdAt', 'updatedAt'],
  properties: {
    name: { type: 'string' },
    description: { type: ['string', 'null'] },
    archived: { type: 'boolean' },
    deprecated: { type: 'boolean' },
    featureFlags: { type: ['array', 'null'], items: { type: 'string' } },
    createdAt: S.S.dateTime,
    updatedAt: S.S.dateTime,
  },
} as const;

const sinkProps = {
  type: { type: 'string', minLength: 1, maxLength: 64 },
  config: { type: ['object', 'null'], additionalProperties: true },
  uid: nullableUid,
  batchSize: { type: 'integer', minimum: 1, maximum: 1000 },
  maxWaitSecs: { type: 'integer', minimum: 0, maximum: 300 },
  eventTypes,
  metadata: S.S.metadata,
  status: { type: 'string', enum: ['enabled', 'disabled'] },
} as const;

export const sinkIn = { type: 'object', required: ['type'], properties: sinkProps } as const;
export const sinkPatch = {
  type: 'object',
  properties: {
    ...sinkProps,
    batchSize: { ...sinkProps.batchSize, type: ['integer', 'null'] },
    maxWaitSecs: { ...sinkProps.maxWaitSecs, type: ['integer', 'null'] },
    status: { type: ['string', 'null'], enum: ['enabled', 'disabled', null] },
  },
} as const;

export const sinkOut = {
  type: 'object',
  required: ['id', 'type', 'batchSize', 'maxWaitSecs', 'metadata', 'status', 'currentIterator', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string' },
    uid: { type: ['string', 'null'] },
    type: { type: 'string' },
    config: { type: 'object', additionalProperties: true },
    extension: {
      type: 'object',
      description: 'Switchboard extension sinks (redis, natsJetStream, mqtt): their real type and config; `type`/`config` show them as http for SDKs that do not know them',
      required: ['type', 'config'],
      properties: { type: { type: 'string' }, config: { type: 'object', additionalProperties: true } },
    },
    batchSize: { type: 'integer' },
    maxWaitSecs: { type: 'integer' },
    eventTypes: { type: 'array', items: { type: 'string' } },
    metadata: S.S.metadata,
    status: { type: 'string', enum: ['enabled', 'paused', 'disabled', 'retrying'] },
    failureReason: { type: ['string', 'null'] },
    nextRetryAt: { type: ['string', 'null'], format: 'date-time' },
    currentIterator: { type: 'string' },
    createdAt: S.S.dateTime,
    updatedAt: S.S.dateTime,
  },
} as const;

export const secretOut = { type: 'object', properties: { key: { type: ['string', 'null'] } } } as const;

export const headersOut = {
  type: 'object',
  required: ['headers', 'sensitive'],
  properties: { headers: { type: 'object', additionalProperties: { type: 'string' } }, sensitive: { type: 'array', items: { type: 'string' } } },
} as const;
export const headersPatchIn = {
  type: 'object',
  required: ['headers'],
  properties: { headers: { type: 'object', additionalProperties: { type: ['string', 'null'] }, maxProperties: 100 } },
} as const;

export const transformationIn = { type: ['object', 'null'], properties: { code: { type: ['string', 'null'], maxLength: 51200 } } } as const;
export const transformationOut = { type: 'object', required: ['enabled'], properties: { code: { type: ['string', 'null'] }, enabled: { type: 'boolean' } } } as const;

export const replayIn = {
  type: 'object',
  properties: { iterator: { type: 'string', minLength: 1, maxLength: 64 }, since: S.S.dateTime },
} as const;
export const replayOut = { type: 'object', required: ['currentIterator'], properties: { currentIterator: { type: 'string' } } } as const;

export const attemptOut = {
  type: 'object',
  required: ['id', 'sinkId', 'streamId', 'firstIterator', 'lastIterator', 'count', 'outcome', 'durationMs', 'createdAt'],
  properties: {
    id: { type: 'string' },
    sinkId: { type: 'string' },
    streamId: { type: 'string' },
    firstIterator: { type: 'string' },
    lastIterator: { type: 'string' },
    count: { type: 'integer' },
    outcome: { type: 'string', enum: ['success', 'failure'] },
    responseStatus: { type: ['integer', 'null'] },
    error: { type: ['string', 'null'] },
    durationMs: { type: 'integer' },
    createdAt: S.S.dateTime,
  },
} as const;

export const createEventsIn = {
  type: 'object',
  required: ['events'],
  properties: {
    events: {
      type: 'array',
      minItems: 1,
      maxItems: 1000,
      items: { type: 'object', required: ['eventType', 'payload'], properties: { eventType: S.S.name256, payload: { type: 'string' } } },
    },
    stream: { ...streamIn, type: ['object', 'null'] },
  },
} as const;

export const eventsQuery = {
  type: 'object',
  properties: { limit: { type: 'integer', minimum: 1, maximum: 250, default: 50 }, iterator: { type: 'string', maxLength: 64 }, after: S.S.dateTime },
} as const;

export const eventStreamOut = {
  type: 'object',
  required: ['data', 'iterator', 'done'],
  properties: {
    data: {
      type: 'array',
      items: {
        type: 'object',
        required: ['eventType', 'payload', 'timestamp'],
        properties: { eventType: { type: 'string' }, payload: { type: 'string' }, timestamp: S.S.dateTime },
      },
    },
    iterator: { type: 'string' },
    done: { type: 'boolean' },
  },
} as const;

const sessionId = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[a-zA-Z0-9@_-]+$' } as const;
export const portalAccessIn = {
  type: ['object', 'null'],
  properties: {
    expiry: { type: ['integer', 'null'], minimum: 3600, maximum: 604800 },
    featureFlags: { type: 'array', items: S.S.name256, maxItems: 25 },
    sessionId: { ...sessionId, type: ['string', 'null'] },
  },
} as const;
export const portalAccessOut = { type: 'object', required: ['url', 'token'], properties: { url: { type: 'string' }, token: { type: 'string' } } } as const;
export const expireAllIn = {
  type: ['object', 'null'],
  properties: { expiry: { type: ['integer', 'null'], minimum: 0, maximum: 604800 }, sessionIds: { type: 'array', items: sessionId, maxItems: 100 } },
} as const;
export const rotatePollerTokenIn = {
  type: ['object', 'null'],
  properties: { expiry: { type: ['integer', 'null'], minimum: 1, maximum: 31_536_000 }, oldTokenExpiry: { type: 'integer', minimum: 0, maximum: 86_400 } },
} as const;
export const apiTokenOut = {
  type: 'object',
  required: ['id', 'token', 'createdAt'],
  properties: {
    id: { type: 'string' },
    token: { type: 'string' },
    name: { type: ['string', 'null'] },
    scopes: { type: ['array', 'null'], items: { type: 'string' } },
    createdAt: S.S.dateTime,
    expiresAt: { type: ['string', 'null'], format: 'date-time' },
  },
} as const;
