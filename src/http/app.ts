/**
 * Builds the Fastify application from its dependencies, without listening, so tests
 * can use `inject()` or listen on a port of their own.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { AppError, ERRORS } from '../domain/errors.js';
import type { ValidationIssue } from '../domain/errors.js';
import type { Clock } from '../domain/clock.js';
import type { Store } from '../storage/contract/store.js';
import type { ApplicationService } from '../catalog/applications.js';
import type { EndpointService } from '../catalog/endpoints.js';
import type { EventTypeService } from '../catalog/event-types.js';
import type { MessageService } from '../bridges/push/messages.js';
import type { EventBus } from '../engine/event-bus.js';
import { applicationRoutes } from './routes/catalog/applications.js';
import { eventTypeRoutes } from './routes/catalog/event-types.js';
import { endpointRoutes } from './routes/catalog/endpoints.js';
import { messageRoutes } from './routes/push/messages.js';
import { attemptRoutes } from './routes/push/attempts.js';
import { transformationRoutes } from './routes/catalog/transformations.js';
import { ingestRoutes } from './routes/ingest/ingest-receive.js';
import type { IngestDeps } from './routes/ingest/ingest-receive.js';
import type { TransformSettings } from '../catalog/transformations.js';
import { uiRoutes } from './routes/dashboard/ui.js';
import { healthRoutes } from './routes/operations/health.js';
import { operationalWebhookRoutes } from './routes/operations/operational-webhooks.js';
import { openApiRoutes, registerOpenApi } from './openapi.js';
import { ResponseValidator } from './openapi-validator.js';
import { metricsRoutes, registerHttpMetrics } from '../operations/metrics-http.js';
import type { Metrics } from '../operations/metrics.js';
import type { OperationalWebhookService } from '../operations/operational-webhooks.js';
import { Idempotency } from './idempotency.js';
import { registerEtags } from './etag.js';
import type { PullService } from '../bridges/pull/pull.js';
import { pollingRoutes } from './routes/pull/polling.js';
import { pollingReadRoutes } from './routes/pull/polling-reads.js';
import { streamRoutes } from './routes/pull/stream.js';
import type { Auth } from './auth.js';
import { registerHardening } from './hardening.js';
import { registerRateLimits, securityRoutes } from './security.js';
import type { Security } from '../composition/credentials.js';

export interface AppDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** Resolves tokens and guards routes; features add their token resolvers to it. */
  auth: Auth;
  /** Credential services (API keys, OAuth, portal tokens) and request limits. */
  security: Security;
  maxPayloadBytes: number;
  applications: ApplicationService;
  eventTypes: EventTypeService;
  endpoints: EndpointService;
  messages: MessageService;
  bus: EventBus;
  /** Pull: polling endpoints, consumers, long polls and SSE streams. */
  pull: PullService;
  /** Readiness: false while starting or shutting down. */
  ready: () => boolean;
  /** Prometheus metrics; features count what they do through it. */
  metrics: Metrics;
  operationalWebhooks: OperationalWebhookService;
  /** Check every JSON response against its documented schema (tests). */
  validateResponses?: boolean;
  /** Endpoint transformations: settings, simulate (their routes are absent without it). */
  transformations?: TransformSettings;
  /** Ingest sources and the receiving URL (their routes are absent without it). */
  ingest?: IngestDeps;
}

declare module 'fastify' {
  interface FastifySchema {
    tags?: readonly string[];
    summary?: string;
    description?: string;
  }
}


/** Sends an error in the API's shape. */
export function sendError(reply: FastifyReply, status: number, code: string, detail: string | ValidationIssue[]): FastifyReply {
  return reply.code(status).type('application/json').send(status === 422 && Array.isArray(detail) ? { detail } : { code, detail });
}

/** Turns Ajv errors into `{loc, msg, type}` issues. */
function validationIssues(err: FastifyError): ValidationIssue[] {
  const ctx = err.validationContext;
  const where = ctx === 'querystring' ? 'query' : ctx === 'params' ? 'path' : ctx === 'headers' ? 'header' : (ctx ?? 'body');
  return (err.validation ?? []).map((v) => {
    const path = v.instancePath.split('/').filter(Boolean);
    const missing = (v.params as { missingProperty?: string }).missingProperty;
    if (missing) path.push(missing);
    return { loc: [where, ...path.map((p) => (/^\d+$/.test(p) ? Number(p) : p))], msg: v.message ?? 'invalid value', type: `value_error.${v.keyword}` };
  });
}

/** Deepest JSON nesting accepted in a request body (serde_json, behind the reference API, stops at 128). */
export const MAX_JSON_DEPTH = 128;

/**
 * Finds input the schemas let through but the handlers cannot take: nesting deeper than
 * MAX_JSON_DEPTH (JSON.stringify would overflow the stack) and numbers that overflowed to
 * ±Infinity (`1e400` passes Ajv's integer, minimum and maximum checks). Iterative, so a
 * hostile body cannot overflow the stack here either.
 */
export function unacceptableInput(value: unknown, where: string): ValidationIssue | null {
  interface Item {
    v: unknown;
    depth: number;
    key: string | number;
    parent: Item | null;
  }
  const locOf = (i: Item): (string | number)[] => {
    const loc: (string | number)[] = [];
    for (let at: Item | null = i; at; at = at.parent) loc.unshift(at.key);
    return loc;
  };
  const stack: Item[] = [{ v: value, depth: 0, key: where, parent: null }];
  while (stack.length > 0) {
    const item = stack.pop()!;
    const v = item.v;
    if (typeof v === 'number' && !Number.isFinite(v)) return { loc: locOf(item), msg: 'number out of range', type: 'value_error.number' };
    if (v === null || typeof v !== 'object') continue;
    if (item.depth >= MAX_JSON_DEPTH) return { loc: locOf(item), msg: `nested deeper than ${MAX_JSON_DEPTH} levels`, type: 'value_error.depth' };
    const depth = item.depth + 1;
    if (Array.isArray(v)) v.forEach((x, i) => stack.push({ v: x, depth, key: i, parent: item }));
    else for (const [k, x] of Object.entries(v)) stack.push({ v: x, depth, key: k, parent: item });
  }
  return null;
}

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'reqId' }),
    bodyLimit: deps.maxPayloadBytes,
    // A caller's `svix-req-id` is kept when it is a sane token; otherwise one is made up.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['svix-req-id'];
      return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
    // Ids, uids and event type names are up to 256 characters; longer ones get a 422 from the schemas.
    routerOptions: { maxParamLength: 1024 },
    // Router errors (bad percent-encoding, absurdly long path segments) in the API's error shape.
    frameworkErrors: (err, _req, reply) => {
      const status = err.statusCode === 414 ? 414 : 400;
      void sendError(reply, status, status === 414 ? 'uri_too_long' : 'bad_request', err.message);
    },
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: true, useDefaults: true, allErrors: true } },
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
      socket.end(
        `HTTP/1.1 ${statusLine}\r\ncontent-type: application/json\r\n` +
          `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    },
  });
  // Bodies are JSON only: anything else (text/plain included) is a 415.
  app.removeContentTypeParser('text/plain');


  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof AppError) {
      return sendError(reply, err.status, err.code, err.status === 422 && err.issues ? err.issues : err.message);
    }
    if (err.validation) return sendError(reply, 422, 'validation', validationIssues(err));
    const status = err.statusCode ?? 500;
    if (status === 413) return sendError(reply, 413, 'payload_too_large', `request body is larger than ${deps.maxPayloadBytes} bytes`);
    if (status === 415) return sendError(reply, 415, 'unsupported_media_type', 'send JSON with content-type: application/json');
    if (status === 400 && err.code?.startsWith('FST_ERR_CTP')) return sendError(reply, 400, 'invalid_json', `request body is not valid JSON: ${err.message}`);
    if (status === 400 && err instanceof SyntaxError) return sendError(reply, 400, 'invalid_json', `request body is not valid JSON: ${err.message}`);
    if (status >= 400 && status < 500) return sendError(reply, status, status === 404 ? 'not_found' : 'bad_request', err.message);
    req.log.error({ err }, 'request failed');
    return sendError(reply, 500, 'internal', 'internal error; the request id is ' + req.id);
  });

  app.setNotFoundHandler((req, reply) => sendError(reply, 404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`));

  // Before any route: the document and route table learn routes as they are added.
  await registerOpenApi(app, '0.1.0');
  registerHttpMetrics(app, deps.metrics);
  if (deps.validateResponses) new ResponseValidator().register(app);
  app.addHook('onRequest', async (req, reply) => {
    reply.header('svix-req-id', req.id);
  });
  app.addHook('onResponse', async (req, reply) => {
    req.log.info({ method: req.method, route: req.routeOptions.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  registerHardening(app, deps.security.hardening);
  deps.auth.register(app);
  registerRateLimits(app, deps);

  // Runs after schema validation and before the idempotency hook, so a refused request stores nothing.
  app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    const issue = unacceptableInput(req.body, 'body') ?? unacceptableInput(req.query, 'query');
    if (issue) return sendError(reply, 422, 'validation', [issue]);
  });

  const idempotency = new Idempotency(deps.store, deps.clock);
  idempotency.register(app);
  registerEtags(app);

  await app.register(healthRoutes(deps));
  await app.register(applicationRoutes(deps));
  await app.register(eventTypeRoutes(deps));
  await app.register(endpointRoutes(deps));
  await app.register(messageRoutes(deps));
  await app.register(attemptRoutes(deps));
  if (deps.transformations) await app.register(transformationRoutes(deps, deps.transformations));
  if (deps.ingest) await app.register(ingestRoutes({ ...deps.ingest, transformations: deps.transformations, portal: deps.security.portal }));
  await app.register(pollingRoutes(deps));
  await app.register(pollingReadRoutes(deps));
  await app.register(streamRoutes(deps));
  await app.register(securityRoutes(deps));
  await app.register(operationalWebhookRoutes(deps.operationalWebhooks));
  await app.register(metricsRoutes(deps.metrics));
  await app.register(openApiRoutes);
  await app.register(uiRoutes(deps));
  return app;
}

export { ERRORS };
