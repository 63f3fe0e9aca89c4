/** The request and response types the SDK takes from the OpenAPI document. */
import type { TypeSpec } from './openapi-to-ts.js';

const APP = '/api/v1/app/{app_id}';

export const SDK_TYPES: readonly TypeSpec[] = [
  { name: 'MessagePage', operation: `GET ${APP}/msg`, part: 'response' },
  { name: 'PollPage', operation: `GET ${APP}/poller/{sink_id}`, part: 'response' },
  { name: 'ConsumerPage', operation: `GET ${APP}/poller/{sink_id}/consumer/{consumer_id}`, part: 'response' },
  { name: 'ConsumerSeekIn', operation: `POST ${APP}/poller/{sink_id}/consumer/{consumer_id}/seek`, part: 'body' },
  { name: 'ConsumerSeekOut', operation: `POST ${APP}/poller/{sink_id}/consumer/{consumer_id}/seek`, part: 'response' },
  { name: 'PollingEndpointCreate', operation: `POST ${APP}/polling-endpoint`, part: 'body' },
  { name: 'PollingEndpointUpdate', operation: `PATCH ${APP}/polling-endpoint/{polling_endpoint_id}`, part: 'body' },
  { name: 'PollingEndpoint', operation: `POST ${APP}/polling-endpoint`, part: 'response', status: '201' },
  { name: 'PollingEndpointList', operation: `GET ${APP}/polling-endpoint`, part: 'response' },
  { name: 'PollerTokenOut', operation: 'GET /api/v1/auth/app/{app_id}/poller/{endpoint_id}/token', part: 'response' },
  { name: 'PollerTokenRotated', operation: 'POST /api/v1/auth/app/{app_id}/poller/{endpoint_id}/token/rotate', part: 'response', status: '201' },
  { name: 'IngestSourceIn', operation: 'POST /ingest/api/v1/source', part: 'body' },
  { name: 'IngestSourcePatch', operation: 'PATCH /ingest/api/v1/source/{source_id}', part: 'body' },
  { name: 'IngestSourceOut', operation: 'POST /ingest/api/v1/source', part: 'response', status: '201' },
  { name: 'IngestSourcePage', operation: 'GET /ingest/api/v1/source', part: 'response' },
  { name: 'IngestLogPage', operation: 'GET /ingest/api/v1/source/{source_id}/log', part: 'response' },
  { name: 'ApiKeyIn', operation: 'POST /api/v1/api-key', part: 'body' },
  { name: 'ApiKeyOut', operation: 'GET /api/v1/api-key/{key_id}', part: 'response' },
  { name: 'ApiKeyCreated', operation: 'POST /api/v1/api-key', part: 'response', status: '201' },
  { name: 'ApiKeyPage', operation: 'GET /api/v1/api-key', part: 'response' },
  { name: 'OAuthClientIn', operation: 'POST /api/v1/oauth/client', part: 'body' },
  { name: 'OAuthClientOut', operation: 'GET /api/v1/oauth/client/{client_id}', part: 'response' },
  { name: 'OAuthClientCreated', operation: 'POST /api/v1/oauth/client', part: 'response', status: '201' },
  { name: 'OAuthClientPage', operation: 'GET /api/v1/oauth/client', part: 'response' },
  { name: 'OAuthTokenOut', operation: 'POST /oauth/token', part: 'response' },
  { name: 'Jwks', operation: 'GET /.well-known/jwks.json', part: 'response' },
  { name: 'OperationalWebhookEndpointPage', operation: 'GET /api/v1/operational-webhook/endpoint', part: 'response' },
  { name: 'OperationalWebhookEndpointCreate', operation: 'POST /api/v1/operational-webhook/endpoint', part: 'body' },
];
