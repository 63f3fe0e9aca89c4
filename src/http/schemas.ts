/** JSON schemas of the API: they validate input and describe output. */

const uid = { type: 'string', minLength: 1, maxLength: 256, pattern: '^[a-zA-Z0-9\\-_.]+$' } as const;
const name256 = { type: 'string', minLength: 1, maxLength: 256, pattern: '^[a-zA-Z0-9\\-_.]+$' } as const;
const channel = { type: 'string', minLength: 1, maxLength: 128, pattern: '^[a-zA-Z0-9\\-_.]+$' } as const;
const metadata = { type: 'object', additionalProperties: { type: 'string' } } as const;
const dateTime = { type: 'string', format: 'date-time' } as const;
const secret = { type: 'string', pattern: '^(whsec_)?[a-zA-Z0-9+/=]{32,100}$' } as const;
const rate = { type: ['integer', 'null'], minimum: 0, maximum: 65535 } as const;
const headerStyle = { type: 'string', enum: ['standard', 'svix', 'both'] } as const;
const eventTypeList = { type: ['array', 'null'], items: name256, maxItems: 1000 } as const;
const channelList = { type: ['array', 'null'], items: channel, maxItems: 10 } as const;

export const S = {
  uid,
  name256,
  metadata,
  dateTime,
  headerStyle,
};

export const applicationIn = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 256 },
    uid: { ...uid, type: ['string', 'null'] },
    throttleRate: rate,
    rateLimit: rate,
    metadata,
    headerStyle,
  },
} as const;

export const applicationPatch = { ...applicationIn, required: [] } as const;

export const applicationOut = {
  type: 'object',
  required: ['id', 'name', 'metadata', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string' },
    uid: { type: 'string' },
    name: { type: 'string' },
    throttleRate: { type: 'integer' },
    rateLimit: { type: 'integer' },
    metadata,
    headerStyle,
    createdAt: dateTime,
    updatedAt: dateTime,
  },
} as const;

export const eventTypeIn = {
  type: 'object',
  required: ['name', 'description'],
  properties: {
    name: name256,
    description: { type: 'string', maxLength: 65536 },
    archived: { type: 'boolean' },
    deprecated: { type: 'boolean' },
    featureFlag: { ...name256, type: ['string', 'null'] },
    schemas: { type: ['object', 'null'], additionalProperties: { type: 'object' } },
  },
} as const;

export const eventTypeUpdate = { ...eventTypeIn, required: ['description'] } as const;
export const eventTypePatch = { ...eventTypeIn, required: [] } as const;

export const eventTypeOut = {
  type: 'object',
  required: ['name', 'description', 'deprecated', 'createdAt', 'updatedAt'],
  properties: {
    name: { type: 'string' },
    description: { type: 'string' },
    archived: { type: 'boolean' },
    deprecated: { type: 'boolean' },
    featureFlag: { type: 'string' },
    schemas: { type: 'object', additionalProperties: true },
    createdAt: dateTime,
    updatedAt: dateTime,
  },
} as const;

const endpointProps = {
  url: { type: 'string', minLength: 1, maxLength: 65536 },
  uid: { ...uid, type: ['string', 'null'] },
  description: { type: 'string', maxLength: 65536 },
  disabled: { type: 'boolean' },
  version: { type: 'integer', minimum: 1 },
  filterTypes: eventTypeList,
  eventTypes: eventTypeList,
  channels: channelList,
  rateLimit: rate,
  throttleRate: rate,
  metadata,
  /** Switchboard extension: a content filter (docs/transformations.md). */
  filter: { type: ['object', 'null'], additionalProperties: true },
} as const;

export const endpointIn = {
  type: 'object',
  required: ['url'],
  properties: {
    ...endpointProps,
    secret: { ...secret, type: ['string', 'null'] },
    headers: { type: ['object', 'null'], additionalProperties: { type: 'string' } },
  },
} as const;

export const endpointUpdate = { type: 'object', required: ['url'], properties: endpointProps } as const;
export const endpointPatch = { type: 'object', properties: endpointProps } as const;

export const endpointOut = {
  type: 'object',
  required: ['id', 'url', 'description', 'metadata', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string' },
    uid: { type: 'string' },
    url: { type: 'string' },
    description: { type: 'string' },
    version: { type: 'integer' },
    disabled: { type: 'boolean' },
    filterTypes: { type: 'array', items: { type: 'string' } },
    eventTypes: { type: 'array', items: { type: 'string' } },
    channels: { type: 'array', items: { type: 'string' } },
    rateLimit: { type: 'integer' },
    throttleRate: { type: 'integer' },
    metadata,
    filter: { type: 'object', additionalProperties: true },
    createdAt: dateTime,
    updatedAt: dateTime,
  },
} as const;

export const headersIn = {
  type: 'object',
  required: ['headers'],
  properties: { headers: { type: 'object', additionalProperties: { type: 'string', maxLength: 8192 }, maxProperties: 100 } },
} as const;

export const headersPatchIn = {
  type: 'object',
  required: ['headers'],
  properties: {
    headers: { type: 'object', additionalProperties: { type: ['string', 'null'], maxLength: 8192 }, maxProperties: 100 },
    /** Names to remove (the svix SDK's way); a null value in `headers` does the same. */
    deleteHeaders: { type: 'array', items: { type: 'string', maxLength: 256 }, maxItems: 100 },
  },
} as const;

export const secretRotateIn = {
  type: ['object', 'null'],
  properties: {
    key: { ...secret, type: ['string', 'null'] },
    gracePeriodSeconds: { type: 'integer', minimum: 0, maximum: 604800 },
  },
} as const;

export const windowIn = {
  type: 'object',
  required: ['since'],
  properties: { since: dateTime, until: { ...dateTime, type: ['string', 'null'] } },
} as const;

export const eventExampleIn = {
  type: 'object',
  required: ['eventType'],
  properties: { eventType: name256 },
} as const;

export const messageIn = {
  type: 'object',
  required: ['eventType', 'payload'],
  properties: {
    eventType: name256,
    eventId: { ...uid, type: ['string', 'null'] },
    channels: { type: ['array', 'null'], items: channel, maxItems: 5 },
    tags: { type: ['array', 'null'], items: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[a-zA-Z0-9\\-_./\\\\#]+$' }, maxItems: 5 },
    payload: { type: 'object' },
    payloadRetentionPeriod: { type: ['integer', 'null'], minimum: 1, maximum: 90 },
    application: applicationIn,
    /** Switchboard extension: the message's ordering key for ordered endpoints (docs/ordering.md). */
    orderingKey: { type: ['string', 'null'], minLength: 1, maxLength: 256 },
  },
} as const;

export const messageOut = {
  type: 'object',
  required: ['id', 'eventType', 'payload', 'timestamp'],
  properties: {
    id: { type: 'string' },
    eventType: { type: 'string' },
    eventId: { type: 'string' },
    channels: { type: 'array', items: { type: 'string' } },
    tags: { type: 'array', items: { type: 'string' } },
    payload: { type: 'object', additionalProperties: true },
    timestamp: dateTime,
  },
} as const;

const status = { type: 'integer', enum: [0, 1, 2, 3] } as const;
const statusText = { type: 'string', enum: ['success', 'pending', 'fail', 'sending'] } as const;

export const attemptOut = {
  type: 'object',
  required: ['id', 'msgId', 'endpointId', 'url', 'status', 'statusText', 'response', 'responseStatusCode', 'responseDurationMs', 'triggerType', 'timestamp'],
  properties: {
    id: { type: 'string' },
    msgId: { type: 'string' },
    endpointId: { type: 'string' },
    url: { type: 'string' },
    status,
    statusText,
    response: { type: 'string' },
    responseStatusCode: { type: 'integer' },
    responseDurationMs: { type: 'integer' },
    triggerType: { type: 'integer', enum: [0, 1] },
    timestamp: dateTime,
  },
} as const;

export const endpointMessageOut = {
  type: 'object',
  required: [...messageOut.required, 'status', 'statusText'],
  properties: { ...messageOut.properties, status, statusText, nextAttempt: dateTime },
} as const;

export const messageEndpointOut = {
  type: 'object',
  required: [...endpointOut.required, 'status', 'statusText'],
  properties: { ...endpointOut.properties, status, statusText, nextAttempt: dateTime },
} as const;

export const statsOut = {
  type: 'object',
  required: ['success', 'pending', 'fail', 'sending', 'canceled'],
  properties: {
    success: { type: 'integer' },
    pending: { type: 'integer' },
    fail: { type: 'integer' },
    sending: { type: 'integer' },
    canceled: { type: 'integer' },
  },
} as const;

export const taskOut = {
  type: 'object',
  required: ['id', 'status', 'task', 'updatedAt'],
  properties: {
    id: { type: 'string' },
    status: { type: 'string', enum: ['running', 'finished', 'failed'] },
    task: { type: 'string' },
    updatedAt: dateTime,
  },
} as const;

/** A background task with its result (`data`): what `GET /api/v1/background-task/{task_id}` answers. */
export const backgroundTaskOut = {
  type: 'object',
  required: ['id', 'status', 'task', 'updatedAt', 'data'],
  properties: {
    ...taskOut.properties,
    data: { type: 'object', additionalProperties: true, description: 'The result of a finished task, or `{error}` of a failed one; while running, `{progress: {done, total}}` with the result\'s counters so far' },
  },
} as const;

/** The response of routes that answer 204 with no body. */
export const noContent = { description: 'No content', type: 'null' } as const;

/** An empty JSON object, the body of some 202 answers (as in the reference API). */
export const emptyOut = { type: 'object', additionalProperties: false, properties: {} } as const;

export const errorOut = {
  type: 'object',
  required: ['code', 'detail'],
  properties: { code: { type: 'string' }, detail: { type: 'string' } },
} as const;

/** A list response around `item`. */
export function listOf<const Item extends object>(item: Item) {
  return {
    type: 'object',
    required: ['data', 'done'],
    properties: {
      data: { type: 'array', items: item },
      iterator: { type: ['string', 'null'] },
      prevIterator: { type: ['string', 'null'] },
      done: { type: 'boolean' },
    },
  } as const;
}

/** Query parameters shared by list routes. */
export const pageQuery = {
  limit: { type: 'integer', minimum: 1, maximum: 250, default: 50 },
  iterator: { type: 'string', maxLength: 512 },
  order: { type: 'string', enum: ['ascending', 'descending'] },
} as const;

export const appParams = { type: 'object', required: ['app_id'], properties: { app_id: { type: 'string', minLength: 1, maxLength: 256 } } } as const;
