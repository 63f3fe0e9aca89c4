/* Generated from the server’s OpenAPI document by `npm run sdk:types`; do not edit. */

/** Response 200 of `GET /api/v1/app/{app_id}/msg`. */
export type MessagePage = ListResponseMessageOut;

/** Response 200 of `GET /api/v1/app/{app_id}/poller/{sink_id}`. */
export type PollPage = PollingEndpointOut;

/** Response 200 of `GET /api/v1/app/{app_id}/poller/{sink_id}/consumer/{consumer_id}`. */
export type ConsumerPage = PollingEndpointOut;

/** Request body of `POST /api/v1/app/{app_id}/poller/{sink_id}/consumer/{consumer_id}/seek`. */
export type ConsumerSeekIn = PollingEndpointConsumerSeekIn;

/** Response 200 of `POST /api/v1/app/{app_id}/poller/{sink_id}/consumer/{consumer_id}/seek`. */
export type ConsumerSeekOut = PollingEndpointConsumerSeekOut;

/** Request body of `POST /api/v1/app/{app_id}/polling-endpoint`. */
export type PollingEndpointCreate = PollingEndpointSettingsIn;

/** Request body of `PATCH /api/v1/app/{app_id}/polling-endpoint/{polling_endpoint_id}`. */
export type PollingEndpointUpdate = PollingEndpointSettingsIn;

/** Response 201 of `POST /api/v1/app/{app_id}/polling-endpoint`. */
export type PollingEndpoint = PollingEndpointSettingsOut;

/** Response 200 of `GET /api/v1/app/{app_id}/polling-endpoint`. */
export type PollingEndpointList = ListResponsePollingEndpointSettingsOut;

/** Response 200 of `GET /api/v1/auth/app/{app_id}/poller/{endpoint_id}/token`. */
export type PollerTokenOut = ApiTokenOut;

/** Response 201 of `POST /api/v1/auth/app/{app_id}/poller/{endpoint_id}/token/rotate`. */
export type PollerTokenRotated = ApiTokenOut;

/** Response 200 of `GET /ingest/api/v1/source`. */
export type IngestSourcePage = ListResponseIngestSourceOut;

/** Response 200 of `GET /ingest/api/v1/source/{source_id}/log`. */
export type IngestLogPage = ListResponseIngestLogOut;

/** Request body of `POST /api/v1/api-key`. */
export type ApiKeyIn = {
  name: string;
  scopes: ("admin" | "read" | "write" | "publish")[];
  appId?: string | null;
  expiresAt?: string | null;
};

/** Response 200 of `GET /api/v1/api-key/{key_id}`. */
export type ApiKeyOut = {
  id: string;
  name: string;
  scopes: string[];
  appId?: string;
  createdAt: string;
  revokedAt?: string;
  lastUsedAt?: string;
  prefix?: string;
  expiresAt?: string;
  key?: string;
};

/** Response 201 of `POST /api/v1/api-key`. */
export type ApiKeyCreated = ApiKeyOut;

/** Response 200 of `GET /api/v1/api-key`. */
export type ApiKeyPage = {
  data: ApiKeyOut[];
  iterator?: string | null;
  prevIterator?: string | null;
  done: boolean;
};

/** Request body of `POST /api/v1/oauth/client`. */
export type OAuthClientIn = {
  name: string;
  scopes: ("admin" | "read" | "write" | "publish")[];
  appId?: string | null;
};

/** Response 200 of `GET /api/v1/oauth/client/{client_id}`. */
export type OAuthClientOut = {
  id: string;
  name: string;
  scopes: string[];
  appId?: string;
  createdAt: string;
  revokedAt?: string;
  lastUsedAt?: string;
  clientSecret?: string;
};

/** Response 201 of `POST /api/v1/oauth/client`. */
export type OAuthClientCreated = OAuthClientOut;

/** Response 200 of `GET /api/v1/oauth/client`. */
export type OAuthClientPage = {
  data: OAuthClientOut[];
  iterator?: string | null;
  prevIterator?: string | null;
  done: boolean;
};

/** Response 200 of `POST /oauth/token`. */
export type OAuthTokenOut = {
  access_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
};

/** Response 200 of `GET /.well-known/jwks.json`. */
export type Jwks = {
  keys: {
    [key: string]: string;
  }[];
};

/** Response 200 of `GET /api/v1/operational-webhook/endpoint`. */
export type OperationalWebhookEndpointPage = ListResponseOperationalWebhookEndpointOut;

/** Request body of `POST /api/v1/operational-webhook/endpoint`. */
export type OperationalWebhookEndpointCreate = OperationalWebhookEndpointIn;

export type ApiTokenOut = {
  id: string;
  token: string;
  createdAt: string;
  expiresAt?: string | null;
};

export type IngestSourceIn = {
  name: string;
  uid?: string | null;
  /** A provider (`stripe`, `github`, `shopify`, `slack`, `twilio`, `svix`, ...), `generic-webhook`, `generic-hmac`, `basic-auth`, `bearer`, `poll`, `cron`, or a queue: `rabbitMq`, `redisStream`, `natsJetStream`. */
  type: string;
  /** Depends on `type`; see docs/ingest.md. */
  config?: {
    [key: string]: unknown;
  } | null;
  metadata?: {
    [key: string]: string;
  };
};

export type IngestSourceOut = {
  id: string;
  uid?: string;
  name: string;
  type: string;
  /** The config without its secrets. */
  config?: {
    [key: string]: unknown;
  };
  /** Where the provider sends its webhooks; null for poll, cron and queue sources. */
  ingestUrl?: string | null;
  metadata: {
    [key: string]: string;
  };
  createdAt: string;
  updatedAt: string;
  /** Switchboard: the schedule of a poll or cron source. */
  run?: {
    nextRunAt?: string;
    lastRunAt?: string | null;
    lastOutcome?: "emitted" | "unchanged" | "not-modified" | "primed" | "error" | null;
    lastError?: string | null;
    failures?: number;
    running?: boolean;
  };
  /** Switchboard: the consumer of a queue source (rabbitMq, redisStream, natsJetStream) on the node that answered. */
  consumer?: {
    connected?: boolean;
    lastError?: string | null;
    lastErrorAt?: string | null;
    lastMessageAt?: string | null;
    consumed?: number;
    deadLettered?: number;
  };
};

export type IngestSourcePatch = {
  name?: string;
  uid?: string | null;
  metadata?: {
    [key: string]: string;
  };
  /** Switchboard: a replacement config of the same type. */
  config?: {
    [key: string]: unknown;
  } | null;
};

export type ListResponseIngestLogOut = {
  data: IngestLogOut[];
  iterator?: string | null;
  prevIterator?: string | null;
  done: boolean;
};

export type ListResponseIngestSourceOut = {
  data: IngestSourceOut[];
  iterator?: string | null;
  prevIterator?: string | null;
  done: boolean;
};

export type ListResponseMessageOut = {
  data: MessageOut[];
  iterator?: string | null;
  prevIterator?: string | null;
  done: boolean;
};

export type ListResponseOperationalWebhookEndpointOut = {
  data: OperationalWebhookEndpointOut[];
  iterator?: string | null;
  prevIterator?: string | null;
  done: boolean;
};

export type ListResponsePollingEndpointSettingsOut = {
  data: PollingEndpointSettingsOut[];
  iterator?: string | null;
  prevIterator?: string | null;
  done: boolean;
};

export type OperationalWebhookEndpointIn = {
  url: string;
  uid?: string | null;
  description?: string;
  disabled?: boolean;
  filterTypes?: ("background_task.finished" | "endpoint.disabled" | "endpoint.enabled" | "message.attempt.exhausted" | "message.attempt.failing" | "message.attempt.recovered" | "ordering.key.paused" | "storage.degraded" | "storage.recovered")[] | null;
  rateLimit?: number | null;
  throttleRate?: number | null;
  metadata?: {
    [key: string]: string;
  };
  secret?: string | null;
};

export type PollingEndpointConsumerSeekIn = {
  after: string;
};

export type PollingEndpointConsumerSeekOut = {
  iterator: string;
};

export type PollingEndpointOut = {
  data: MessageOut[];
  iterator: string;
  done: boolean;
};

export type PollingEndpointSettingsIn = {
  uid?: string | null;
  description?: string;
  filterTypes?: string[] | null;
  channels?: string[] | null;
  metadata?: {
    [key: string]: string;
  };
};

export type PollingEndpointSettingsOut = {
  id: string;
  uid?: string;
  description: string;
  filterTypes?: string[];
  channels?: string[];
  metadata: {
    [key: string]: string;
  };
  createdAt: string;
  updatedAt: string;
};

export type IngestLogOut = {
  id: string;
  source_id: string;
  status_code: number;
  error_text: string;
  headers: {
    [key: string]: string;
  };
  payload: string;
  created_at: string;
  updated_at: string;
};

export type MessageOut = {
  id: string;
  eventType: string;
  eventId?: string;
  channels?: string[];
  tags?: string[];
  payload: {
    [key: string]: unknown;
  };
  timestamp: string;
};

export type OperationalWebhookEndpointOut = {
  id: string;
  uid?: string;
  url: string;
  description: string;
  disabled?: boolean;
  filterTypes?: string[];
  rateLimit?: number;
  throttleRate?: number;
  metadata: {
    [key: string]: string;
  };
  createdAt: string;
  updatedAt: string;
};
