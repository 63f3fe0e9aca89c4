/**
 * Builds the Fastify application from its dependencies, without listening, so tests
 * can use `inject()` or listen on a port of their own.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { applicationRoutes } from './routes/catalog/applications.js';
import { eventTypeRoutes } from './routes/catalog/event-types.js';
import { endpointRoutes } from './routes/catalog/endpoints.js';
import { messageRoutes } from './routes/push/messages.js';
import { attemptRoutes } from './routes/push/attempts.js';
import { circuitRoutes } from './routes/push/circuits.js';
import { backgroundTaskRoutes } from './routes/push/background-tasks.js';
import { bulkOperationRoutes } from './routes/push/bulk-operations.js';
import { healthPingRoutes } from './routes/operations/health-ping.js';
import { dashboardAccessRoutes } from './routes/access/dashboard-access.js';
import { usageStatsRoutes } from './routes/operations/usage-stats.js';
import { eventTypeImportRoutes } from './routes/catalog/event-type-import.js';
import { transformationRoutes } from './routes/catalog/transformations.js';
import { integrationRoutes } from './routes/catalog/integrations.js';
import { connectorRoutes } from './routes/catalog/connectors.js';
import { environmentRoutes } from './routes/catalog/environment.js';
import { ingestRoutes } from './routes/ingest/ingest-receive.js';
import { uiRoutes } from './routes/dashboard/ui.js';
import { healthRoutes } from './routes/operations/health.js';
import { operationalWebhookRoutes } from './routes/operations/operational-webhooks.js';
import { openApiRoutes, registerOpenApi } from './openapi.js';
import { ResponseValidator } from './openapi-validator.js';
import { shareCompiledValidators } from './shared-validators.js';
import { buildSharedSerializer } from './shared-serializers.js';
import { metricsRoutes, registerHttpMetrics } from '../operations/metrics-http.js';
import { Idempotency } from './idempotency.js';
import { registerEtags } from './etag.js';
import { withoutApiTrailingSlash } from './trailing-slash.js';
import { pollingRoutes } from './routes/pull/polling.js';
import { pollingReadRoutes } from './routes/pull/polling-reads.js';
import { streamRoutes } from './routes/pull/stream.js';
import { streamApiRoutes } from './routes/streams/stream-api.js';
import { registerHardening } from './hardening.js';
import { registerRateLimits, securityRoutes } from './security.js';
import { registerErrorHandlers } from './error-handler.js';
import { registerBodyLimit } from './body-limit.js';
import { registerInputLimits } from './input-limits.js';
import { registerStorageGate } from './storage-gate.js';
import { sendError } from './errors.js';
import { ConnectionGuard, answerAndClose } from './connection-guard.js';
import { registerConnectionMetrics } from '../operations/connection-metrics.js';
import type { AppDeps } from './deps.js';
import { VERSION } from '../platform/version.js';

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
    bodyLimit: deps.maxPayloadBytes,
    // req.ip is the client behind trusted proxies only; anyone else could claim any address.
    trustProxy: deps.trustedProxy ?? false,
    // A caller's `svix-req-id` is kept when it is a sane token; otherwise one is made up.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['svix-req-id'];
      return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
    // Ids, uids and event type names are up to 256 characters; longer ones get a 422 from the schemas.
    routerOptions: { maxParamLength: 1024 },
    rewriteUrl: (req) => withoutApiTrailingSlash(req.url ?? '/'),
    // Router errors (bad percent-encoding, absurdly long path segments) in the API's error shape.
    frameworkErrors: (err, _req, reply) => {
      void sendError(reply, err.statusCode === 414 ? 'uri_too_long' : 'bad_request', err.message);
    },
    ajv: {
      customOptions: { coerceTypes: 'array', removeAdditional: true, useDefaults: true, allErrors: true },
      // A server started again in the same process (tests) reuses the validators already compiled.
      onCreate: shareCompiledValidators,
    },
    schemaController: { compilersFactory: { buildSerializer: buildSharedSerializer } },
    // Requests Node's parser refuses (oversized headers, malformed HTTP) still get the error shape.
    clientErrorHandler: (err: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) return socket.destroy();
      const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
      const timedOut = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
      const body = JSON.stringify(
        tooLarge
          ? { code: 'headers_too_large', detail: 'request headers are too large' }
          : timedOut
            ? { code: 'request_timeout', detail: 'the request was not received in time' }
            : { code: 'bad_request', detail: 'malformed HTTP request' },
      );
      const statusLine = tooLarge ? '431 Request Header Fields Too Large' : timedOut ? '408 Request Timeout' : '400 Bad Request';
      // Destroyed shortly after, not only half-closed: a client that neither reads nor closes would hold it.
      answerAndClose(
        socket,
        `HTTP/1.1 ${statusLine}\r\ncontent-type: application/json\r\n` + `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    },
  });
  // Bodies are JSON only: anything else (text/plain included) is a 415.
  app.removeContentTypeParser('text/plain');

  registerErrorHandlers(app, deps.maxPayloadBytes, deps.store);

  // Before any route: the document and route table learn routes as they are added.
  await registerOpenApi(app, VERSION, { ui: deps.docs ?? true });
  registerHttpMetrics(app, deps.metrics);
  if (deps.validateResponses) new ResponseValidator().register(app);
  app.addHook('onRequest', async (req, reply) => {
    reply.header('svix-req-id', req.id);
  });
  app.addHook('onResponse', async (req, reply) => {
    req.log.info({ method: req.method, route: req.routeOptions.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  // An oversize body is refused before authentication or anything else that could wait on it.
  registerBodyLimit(app);
  registerHardening(app, deps.security.hardening);
  const limits = deps.security.hardening.connections;
  if (limits) {
    const guard: ConnectionGuard = new ConnectionGuard(limits, deps.logger, registerConnectionMetrics(deps.metrics.registry, () => guard.counts()));
    guard.register(app);
  }
  // Before authentication, which may read the database too.
  if (deps.storageHealth) registerStorageGate(app, deps.storageHealth);
  deps.auth.register(app);
  registerRateLimits(app, deps);

  // Before the idempotency hook, so a refused request stores nothing.
  registerInputLimits(app);

  const idempotency = new Idempotency(deps.store, deps.clock);
  idempotency.register(app);
  registerEtags(app);

  await app.register(healthRoutes(deps));
  await app.register(applicationRoutes(deps));
  await app.register(eventTypeRoutes(deps));
  await app.register(endpointRoutes(deps));
  await app.register(messageRoutes(deps));
  await app.register(attemptRoutes(deps));
  await app.register(circuitRoutes(deps));
  await app.register(backgroundTaskRoutes(deps.tasks));
  await app.register(bulkOperationRoutes(deps));
  await app.register(healthPingRoutes);
  await app.register(dashboardAccessRoutes(deps));
  await app.register(usageStatsRoutes(deps));
  await app.register(eventTypeImportRoutes(deps));
  await app.register(integrationRoutes(deps));
  await app.register(connectorRoutes(deps));
  await app.register(environmentRoutes(deps));
  if (deps.transformations) await app.register(transformationRoutes(deps, deps.transformations));
  if (deps.ingest) await app.register(ingestRoutes({ ...deps.ingest, transformations: deps.transformations, portal: deps.security.portal }));
  await app.register(pollingRoutes(deps));
  await app.register(pollingReadRoutes(deps));
  await app.register(streamRoutes(deps));
  await app.register(streamApiRoutes(deps));
  await app.register(securityRoutes(deps));
  await app.register(operationalWebhookRoutes(deps.operationalWebhooks));
  await app.register(metricsRoutes(deps.metrics, deps.metricsToken));
  if (deps.docs ?? true) await app.register(openApiRoutes);
  await app.register(uiRoutes(deps));
  return app;
}
