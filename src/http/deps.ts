/**
 * What the HTTP layer is built from: the services its routes call, as the composition root
 * provides them. Routes import their dependencies from here, never from app.ts, so building
 * the app and defining a route do not depend on each other.
 */
import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import type { Store } from '../storage/contract/store.js';
import type { ApplicationService } from '../catalog/applications.js';
import type { EndpointService } from '../catalog/endpoints.js';
import type { EventTypeService } from '../catalog/event-types.js';
import type { TransformSettings } from '../catalog/transformations.js';
import type { StreamService } from '../bridges/streams/streams.js';
import type { IntegrationService } from '../catalog/integrations.js';
import type { ConnectorService } from '../catalog/connectors.js';
import type { EnvironmentService } from '../catalog/environment.js';
import type { ApiKeyService } from '../access/api-keys.js';
import type { AppPortalService } from '../access/app-portal.js';
import type { OAuthService } from '../access/oauth.js';
import type { MessageService } from '../bridges/push/messages.js';
import type { BackgroundTaskService } from '../bridges/push/background-tasks.js';
import type { PullService } from '../bridges/pull/pull.js';
import type { IngestService } from '../bridges/ingest/ingest.js';
import type { IngestSourceService } from '../bridges/ingest/ingest-sources.js';
import type { EventBus } from '../engine/event-bus.js';
import type { EndpointCircuits } from '../engine/dispatcher.js';
import type { Endpoint } from '../domain/model.js';
import type { Metrics } from '../operations/metrics.js';
import type { OperationalWebhookService } from '../operations/operational-webhooks.js';
import type { StorageHealth } from '../operations/storage-health.js';
import type { RateLimitSettings } from '../config-security.js';
import type { Auth } from './auth.js';
import type { HardeningSettings } from './hardening.js';

/** The credential services and request limits (built by the composition root). */
export interface Security {
  apiKeys: ApiKeyService;
  oauth: OAuthService;
  portal: AppPortalService;
  rateLimits: RateLimitSettings;
  hardening: HardeningSettings;
  /** Base URL users reach this server at (portal links, token issuer). */
  publicUrl: () => string;
}

/** What the ingest routes use. */
export interface IngestDeps {
  sources: IngestSourceService;
  ingest: IngestService;
  /** The public base URL (`SWITCHBOARD_PUBLIC_URL`), or null to use each request's origin. */
  publicUrl: string | null;
  /** Endpoint transformations; the ingest endpoints' transformation routes are absent without it. */
  transformations?: TransformSettings | undefined;
  /** Consumer-portal links; the source dashboard route is absent without it. */
  portal?: Pick<AppPortalService, 'access'> | undefined;
}

export interface AppDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Resolves tokens and guards routes; features add their token resolvers to it. */
  auth: Auth;
  /** Credential services (API keys, OAuth, portal tokens) and request limits. */
  security: Security;
  maxPayloadBytes: number;
  /** Whether a connecting address is a trusted reverse proxy, whose `X-Forwarded-For` names the client; none when absent. */
  trustedProxy?: (address: string) => boolean;
  applications: ApplicationService;
  eventTypes: EventTypeService;
  endpoints: EndpointService;
  /** Integrations of applications and their keys. */
  integrations: IntegrationService;
  /** Connectors: transformation templates. */
  connectors: ConnectorService;
  /** Environment export and import. */
  environment: EnvironmentService;
  messages: MessageService;
  /** Background tasks: recover, replay, bulk replay, purges, usage aggregations. */
  tasks: BackgroundTaskService;
  bus: EventBus;
  /** Pull: polling endpoints, consumers, long polls and SSE streams. */
  pull: PullService;
  /** The Stream API: streams, sinks, their event logs. */
  streams: StreamService;
  /** Readiness: false while starting or shutting down. */
  ready: () => boolean;
  /** Prometheus metrics; features count what they do through it. */
  metrics: Metrics;
  /** When set, `GET /metrics` needs this bearer token. */
  metricsToken?: string | undefined;
  /** Serve `/docs` and the OpenAPI document (default true). */
  docs?: boolean;
  operationalWebhooks: OperationalWebhookService;
  /**
   * Whether the database stores writes (health reports `storage_degraded` while it does not),
   * and whether requests are refused at once because it has been unreachable too long.
   */
  storageHealth?: Pick<StorageHealth, 'status' | 'refusal'>;
  /** Check every JSON response against its documented schema (tests). */
  validateResponses?: boolean;
  /** Endpoint transformations: settings, simulate (their routes are absent without it). */
  transformations?: TransformSettings;
  /** Ingest sources and the receiving URL (their routes are absent without it). */
  ingest?: IngestDeps;
  /** This node's circuit breakers (the endpoint circuit route is absent without them). */
  circuits?: { circuitsOf(endpoint: Pick<Endpoint, 'id' | 'url'>): EndpointCircuits };
}
