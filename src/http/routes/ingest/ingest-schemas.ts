/** JSON schemas of the ingest API (`/ingest/api/v1/source...`). */
import * as S from '../../schemas.js';
import { nameSchema } from '../../openapi.js';

const sourceUid = { type: 'string', minLength: 1, maxLength: 60, pattern: '^(?!src_)[a-zA-Z0-9_-]+$' } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;

export const sourceParams = {
  type: 'object',
  required: ['source_id'],
  properties: { source_id: { type: 'string', minLength: 1, maxLength: 60 } },
} as const;

export const sourceEndpointParams = {
  type: 'object',
  required: ['source_id', 'endpoint_id'],
  properties: { source_id: { type: 'string', minLength: 1, maxLength: 60 }, endpoint_id: { type: 'string', minLength: 1, maxLength: 256 } },
} as const;

export const sourceIn = {
  type: 'object',
  required: ['name', 'type'],
  properties: {
    name: { type: 'string', minLength: 2, maxLength: 256 },
    uid: { ...sourceUid, type: ['string', 'null'] },
    type: { type: 'string', minLength: 1, maxLength: 64, description: 'A provider (`stripe`, `github`, `shopify`, `slack`, `twilio`, `svix`, ...), `generic-webhook`, `generic-hmac`, `basic-auth`, `bearer`, `poll`, `cron`, or a queue: `rabbitMq`, `redisStream`, `natsJetStream`.' },
    config: { type: ['object', 'null'], description: 'Depends on `type`; see docs/ingest.md.' },
    metadata: S.S.metadata,
  },
} as const;

export const sourcePatch = {
  type: 'object',
  properties: {
    name: sourceIn.properties.name,
    uid: sourceIn.properties.uid,
    metadata: S.S.metadata,
    config: { type: ['object', 'null'], description: 'Switchboard: a replacement config of the same type.' },
  },
} as const;

export const sourceOut = {
  type: 'object',
  required: ['id', 'name', 'type', 'metadata', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string' },
    uid: { type: 'string' },
    name: { type: 'string' },
    type: { type: 'string' },
    config: { type: 'object', additionalProperties: true, description: 'The config without its secrets.' },
    ingestUrl: { type: ['string', 'null'], description: 'Where the provider sends its webhooks; null for poll, cron and queue sources.' },
    metadata: S.S.metadata,
    createdAt: dateTime,
    updatedAt: dateTime,
    run: {
      type: 'object',
      description: 'Switchboard: the schedule of a poll or cron source.',
      properties: {
        nextRunAt: dateTime,
        lastRunAt: { ...dateTime, type: ['string', 'null'] },
        lastOutcome: { type: ['string', 'null'], enum: ['emitted', 'unchanged', 'not-modified', 'primed', 'error', null] },
        lastError: { type: ['string', 'null'] },
        failures: { type: 'integer' },
        running: { type: 'boolean' },
      },
    },
    consumer: {
      type: 'object',
      description: 'Switchboard: the consumer of a queue source (rabbitMq, redisStream, natsJetStream) on the node that answered.',
      properties: {
        connected: { type: 'boolean' },
        lastError: { type: ['string', 'null'] },
        lastErrorAt: { ...dateTime, type: ['string', 'null'] },
        lastMessageAt: { ...dateTime, type: ['string', 'null'] },
        consumed: { type: 'integer' },
        deadLettered: { type: 'integer' },
      },
    },
  },
} as const;

export const rotateTokenOut = { type: 'object', required: ['ingestUrl'], properties: { ingestUrl: { type: 'string' } } } as const;

export const logOut = {
  type: 'object',
  required: ['id', 'source_id', 'status_code', 'error_text', 'headers', 'payload', 'created_at', 'updated_at'],
  properties: {
    id: { type: 'string' },
    source_id: { type: 'string' },
    status_code: { type: 'integer' },
    error_text: { type: 'string' },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    payload: { type: 'string' },
    created_at: dateTime,
    updated_at: dateTime,
  },
} as const;

export const transformationOut = {
  type: 'object',
  properties: {
    code: { type: ['string', 'null'] },
    enabled: { type: 'boolean' },
    variables: { type: ['object', 'null'], additionalProperties: { type: 'string' } },
  },
} as const;

export const transformationPatch = {
  type: 'object',
  properties: {
    code: { type: ['string', 'null'], minLength: 10, maxLength: 51200 },
    enabled: { type: 'boolean' },
    variables: { type: ['object', 'null'], additionalProperties: { type: 'string', maxLength: 8192 }, maxProperties: 100 },
  },
} as const;

export const dashboardIn = {
  type: ['object', 'null'],
  properties: {
    expiry: { type: ['integer', 'null'], minimum: 3600, maximum: 604800, description: 'Seconds the link is valid (default 7 days).' },
    readOnly: { type: ['boolean', 'null'] },
  },
} as const;

export const dashboardOut = { type: 'object', required: ['url', 'token'], properties: { url: { type: 'string' }, token: { type: 'string' } } } as const;

/** What the receiving URL answers a provider. */
export const receiveOut = {
  type: 'object',
  additionalProperties: true,
  description: '`{"id"}` of the message stored, `{"duplicate": true, "id"}` for a copy already taken, or a provider challenge answer (Slack: `{"challenge"}`).',
} as const;

nameSchema('IngestSourceIn', sourceIn);
nameSchema('IngestSourcePatch', sourcePatch);
nameSchema('IngestSourceOut', sourceOut);
nameSchema('IngestLogOut', logOut);
nameSchema('RotateTokenOut', rotateTokenOut);
nameSchema('IngestEndpointTransformationOut', transformationOut);
nameSchema('IngestEndpointTransformationPatch', transformationPatch);
