/**
 * The composition root: picks concrete adapters from configuration and wires them.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { BlockList } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Clock } from '../domain/clock.js';
import { Dispatcher } from '../engine/dispatcher.js';
import { SinkDispatcher } from '../bridges/streams/sink-dispatcher.js';
import { StreamService } from '../bridges/streams/streams.js';
import { HttpSender } from '../engine/http-sender.js';
import type { Sender } from '../engine/http-sender.js';
import { SendWorkerPool } from '../engine/send-workers/pool.js';
import { monotonicClock } from '../platform/monotonic-clock.js';
import { systemClock } from '../platform/system-clock.js';
import { buildApp } from '../http/app.js';
import { Auth } from '../http/auth.js';
import { createLogger } from '../platform/logger.js';
import { SecretBox, resolveKeyRing } from '../security/crypto.js';
import { adminTokenWeakness } from '../security/token-strength.js';
import { AuthThrottle, DEFAULT_AUTH_BACKOFF } from '../access/auth-throttle.js';
import { PRIVATE_FILE_MODE, keepPrivate, makePrivateDir } from '../security/private-files.js';
import { createSecurity } from './credentials.js';
import type { Security } from '../http/deps.js';
import { ApplicationService } from '../catalog/applications.js';
import { EndpointService } from '../catalog/endpoints.js';
import { EventBus } from '../engine/event-bus.js';
import { EventTypeService } from '../catalog/event-types.js';
import { MessageService } from '../bridges/push/messages.js';
import { BackgroundTaskService } from '../bridges/push/background-tasks.js';
import { definePushTasks } from '../bridges/push/push-tasks.js';
import { defineUsageTasks } from '../bridges/push/usage-tasks.js';
import { TransformService } from '../engine/transformations/transformer.js';
import { TransformSettings } from '../catalog/transformations.js';
import { IntegrationService } from '../catalog/integrations.js';
import { ConnectorService } from '../catalog/connectors.js';
import { EnvironmentService } from '../catalog/environment.js';
import { integrationKeyResolver } from '../access/integration-keys.js';
import { createIngest } from './ingest-and-sources.js';
import { PullService } from '../bridges/pull/pull.js';
import { SSE_RETRY_MS } from '../bridges/pull/pull-stream.js';
import { Metrics } from '../operations/metrics.js';
import { OperationalWebhookService } from '../operations/operational-webhooks.js';
import { OperationalWebhookSender } from '../operations/operational-webhooks-sender.js';
import { RetentionService } from '../operations/retention.js';
import { openStore } from './open-store.js';
import { joinCluster } from '../engine/cluster-bridge.js';
import { serveHealthOnly } from '../http/role.js';
import type { Store } from '../storage/contract/store.js';
import { asUnwritableDataDir, assertWritableDir } from './data-dir.js';
import { StorageHealth } from '../operations/storage-health.js';
import { fdSoftLimit } from '../operations/fd-usage.js';
import { resolveConnectionLimits } from '../http/connection-guard.js';

export interface Overrides {
  clock?: Clock;
  logger?: Logger;
  sender?: Sender;
  /** Use this store instead of the data directory's SQLite file. */
  store?: Store;
  random?: () => number;
  sweepIntervalMs?: number;
}

export interface Switchboard {
  app: FastifyInstance;
  bus: EventBus;
  auth: Auth;
  /** API keys, OAuth clients and tokens, app-portal tokens, request limits. */
  security: Security;
  store: Store;
  dispatcher: Dispatcher;
  /** Delivers stream events to sinks (batched HTTP, brokers). */
  sinks: SinkDispatcher;
  /** Prometheus metrics of this instance; features count what they do through it. */
  metrics: Metrics;
  operationalWebhooks: OperationalWebhookSender;
  /** Whether the database stores writes (degraded while it refuses them: disk full, read-only). */
  storageHealth: StorageHealth;
  retention: RetentionService;
  /** Pull reads: polling endpoints, long polls, SSE streams. */
  pull: PullService;
  adminToken: string;
  /** Listens on the configured host and port; returns the base URL. */
  listen(): Promise<string>;
  /** Graceful stop: no new requests, in-flight deliveries finish or are released, database closed. */
  close(): Promise<void>;
}

/** The admin token: configured, or generated once and kept in the data directory. */
export function resolveAdminToken(config: Config, logger: Logger): string {
  if (config.adminToken) return config.adminToken;
  const file = join(config.dataDir, 'admin-token');
  if (existsSync(file)) {
    keepPrivate(file);
    return readFileSync(file, 'utf8').trim();
  }
  const token = 'sb_admin_' + randomBytes(32).toString('base64url');
  writeFileSync(file, token + '\n', { mode: PRIVATE_FILE_MODE });
  keepPrivate(file);
  logger.warn({ file }, 'generated an admin token; it is printed once here and kept in the data directory');
  process.stdout.write(`\nSwitchboard admin token (keep it safe): ${token}\n\n`);
  return token;
}

/** Whether an address is in the list of trusted proxies. */
const trustedBy =
  (proxies: BlockList) =>
  (address: string): boolean => {
    const family = isIP(address);
    return family !== 0 && proxies.check(address, family === 4 ? 'ipv4' : 'ipv6');
  };

/** Refuses a weak admin token in production (before anything is opened); warns about it otherwise. */
export function checkAdminToken(token: string, config: Config, logger: Logger): void {
  const weakness = adminTokenWeakness(token);
  if (weakness === null) return;
  if (config.environment === 'production') {
    throw new Error(
      `the admin token is too weak for SWITCHBOARD_ENV=production: ${weakness}. ` +
        'Set SWITCHBOARD_ADMIN_TOKEN to a random value (e.g. `openssl rand -base64 32`), or unset it to have one generated.',
    );
  }
  logger.warn({ weakness }, 'the admin token is weak; SWITCHBOARD_ENV=production would refuse to start with it');
}

export async function createSwitchboard(config: Config, o: Overrides = {}): Promise<Switchboard> {
  const logger = o.logger ?? createLogger(config.logLevel, undefined, config.logFormat);
  const clock = o.clock ?? systemClock;
  // A data directory that cannot be written stops the start with a clear reason (UnwritableDataDirError).
  try {
    makePrivateDir(config.dataDir);
    assertWritableDir(config.dataDir);
  } catch (e: unknown) {
    throw asUnwritableDataDir(config.dataDir, e);
  }
  const adminToken = resolveAdminToken(config, logger);
  checkAdminToken(adminToken, config, logger);
  const box = new SecretBox(
    resolveKeyRing(config.security.encryptionKeys, config.dataDir, (file) =>
      logger.warn({ file }, 'generated the key that encrypts secrets at rest; keep a copy apart from the data directory and its backups (a backup stored with its key is not protected), or set SWITCHBOARD_ENCRYPTION_KEY'),
    ),
  );
  let store: Store;
  try {
    store = o.store ?? openStore(config, { box });
    await store.migrate((waiting) => logger.warn(waiting));
  } catch (e: unknown) {
    throw config.databaseUrl || o.store ? e : asUnwritableDataDir(config.dataDir, e);
  }
  // Told, never refused: the server works, only slower as its tables grow.
  for (const advice of await store.advisories().catch(() => [])) logger.warn(advice);

  const sender =
    o.sender ??
    (config.sendWorkers > 0
      ? new SendWorkerPool({
          workers: config.sendWorkers,
          allowedNetworks: config.allowedNetworksText,
          timeoutMs: config.requestTimeoutMs,
          heap: { maxInflight: config.maxInflight, maxPayloadBytes: config.maxPayloadBytes },
          logger,
        })
      : new HttpSender({ allowedNetworks: config.allowedNetworks, timeoutMs: config.requestTimeoutMs }));
  const leaseMs = config.requestTimeoutMs + config.leaseGraceMs;
  const transforms = new TransformService(
    { timeoutMs: config.transformationTimeoutMs, memoryBytes: config.transformationMemoryBytes, cacheSize: config.transformationCacheSize, maxPayloadBytes: config.maxPayloadBytes },
    clock,
  );
  const dispatcher = new Dispatcher({
    store,
    sender,
    clock,
    logger,
    retrySchedule: config.retrySchedule,
    endpointConcurrency: config.endpointConcurrency,
    maxInflight: config.maxInflight,
    appMaxInflight: config.appMaxInflight,
    circuit: { threshold: config.circuitFailures, cooldownMs: config.circuitCooldownMs, maxCooldownMs: Math.max(config.circuitCooldownMs, config.circuitMaxCooldownMs) },
    leaseMs,
    disableAfterMs: config.disableAfterMs,
    sweepIntervalMs: o.sweepIntervalMs,
    random: o.random,
    transformer: transforms,
  });
  const applications = new ApplicationService(store, clock);
  const eventTypes = new EventTypeService(store, clock);
  const endpoints = new EndpointService(store, clock, config.allowedNetworks);
  const integrations = new IntegrationService(store, clock, applications);
  const connectors = new ConnectorService(store, clock, (code, loc) => transforms.checkCode(code, loc));
  dispatcher.onEndpointDisabled = (_id, appId) => endpoints.invalidate(appId);
  const bus = new EventBus();
  const messages = new MessageService(store, clock, endpoints, dispatcher, bus, config.publishCommitIntervalMs);
  // Tasks are leased as deliveries are: a dead node's tasks are taken over once the grace has run out.
  const tasks = new BackgroundTaskService(store.backgroundTasks, clock, logger, {
    owner: store.cluster?.nodeId ?? randomBytes(9).toString('base64url'),
    leaseMs: config.leaseGraceMs,
    shared: Boolean(store.cluster),
  });
  definePushTasks(tasks, { store, clock, endpoints, messages });
  defineUsageTasks(tasks, store.usage);
  // A sink URI's host goes through the endpoint URL guard (same networks refused, same setting named).
  const streams = new StreamService(
    store,
    clock,
    bus,
    (host, loc) => endpoints.checkUrl(`http://${host}/`, loc),
    (code) => transforms.checkCode(code),
  );
  const ingestModule = createIngest({
    store,
    clock,
    logger,
    applications,
    endpoints,
    messages,
    allowedNetworks: config.allowedNetworks,
    requestTimeoutMs: config.requestTimeoutMs,
    pollMaxResponseBytes: config.pollMaxResponseBytes,
    dedupeWindowMs: config.ingestDedupeWindowMs,
    leaseMs,
    maxPayloadBytes: config.maxPayloadBytes,
    appendStreamEvents: (streamId, events) => streams.appendEvents(streamId, events, null),
  });
  const pull = new PullService(store.pull, clock, monotonicClock, bus, {
    pollIntervalSeconds: config.pollIntervalSeconds,
    heartbeatMs: config.sseHeartbeatMs,
    bufferBytes: config.sseBufferBytes,
    stallMs: config.sseStallMs,
    retryMs: SSE_RETRY_MS,
    maxStreams: config.maxStreams,
  }, (kind) => metrics.connectionOpened(kind));

  const metrics = new Metrics({ store, clock, bus, inflight: () => dispatcher.inflightCount, circuits: () => dispatcher.circuitCounts() });
  metrics.start();
  const sinks = new SinkDispatcher({
    streams: store.streams,
    bus,
    clock,
    logger,
    transformer: transforms,
    observer: metrics,
    stopGraceMs: config.shutdownGraceMs,
    transportOptions: { allowedNetworks: config.allowedNetworks, httpTimeoutMs: config.requestTimeoutMs },
  });
  const operationalWebhooks = new OperationalWebhookSender({ store, clock, sender, logger, metrics });
  operationalWebhooks.start();
  const storageHealth = new StorageHealth({
    store,
    clock,
    logger,
    bus,
    registry: metrics.registry,
    emit: (type, data) => operationalWebhooks.emit(type, data),
    probeIntervalMs: config.storageProbeMs,
    probeBytes: config.maxPayloadBytes,
    refuseAfterMs: config.storageWaitMs,
  });
  storageHealth.start();
  tasks.onFinished = (t) =>
    void operationalWebhooks
      .emit('background_task.finished', { taskId: t.id, task: t.task, status: t.status, data: t.data })
      .catch((err: unknown) => logger.error({ err }, 'operational webhook event failed'));
  const retention = new RetentionService({ store, clock, logger, retentionDays: config.retentionDays, metrics });

  const throttle = new AuthThrottle({ ...DEFAULT_AUTH_BACKOFF, freeFailures: config.security.authFreeFailures }, clock, (scope, blockMs, address) =>
    // Once per block, not per refused request; never the token.
    logger.warn({ scope, address, blockSeconds: Math.ceil(blockMs / 1000) }, 'failed authentications throttled'),
  );
  const auth = new Auth(adminToken, applications, {
    throttle,
    onFailure: (reason) => metrics.authFailure(reason),
    onThrottled: (scope) => metrics.authThrottle(scope),
  });
  auth.addResolver((token) => pull.endpoints.resolveToken(token));
  auth.addResolver(integrationKeyResolver(integrations));
  const sec = config.security;
  const security = createSecurity({
    store,
    clock,
    applications,
    auth,
    publicUrl: () => sec.publicUrl ?? `http://localhost:${(app.server.address() as { port?: number } | null)?.port ?? config.port}`,
    oauthTokenTtlSeconds: sec.oauthTokenTtlSeconds,
    rateLimits: sec.rateLimits,
    hardening: {
      maxHeaderCount: sec.maxHeaderCount,
      maxHeaderBytes: sec.maxHeaderBytes,
      headersTimeoutMs: sec.clientHeadersTimeoutMs,
      requestTimeoutMs: sec.clientRequestTimeoutMs,
      https: sec.publicUrl?.startsWith('https:') ?? false,
      keepAliveTimeoutMs: config.connections.keepAliveTimeoutMs,
      connections: resolveConnectionLimits(config.connections, {
        fdLimit: fdSoftLimit(),
        maxInflight: config.maxInflight,
        maxStreams: config.maxStreams,
        ...(sec.trustedProxies ? { exempt: trustedBy(sec.trustedProxies) } : {}),
      }),
    },
  });
  let ready = false;
  const app = await buildApp({
    store,
    clock,
    logger,
    auth,
    security,
    maxPayloadBytes: config.maxPayloadBytes,
    metricsToken: config.metricsToken,
    docs: config.docs,
    ...(sec.trustedProxies ? { trustedProxy: trustedBy(sec.trustedProxies) } : {}),
    applications,
    eventTypes,
    endpoints,
    integrations,
    connectors,
    environment: new EnvironmentService(store, clock, connectors),
    messages,
    tasks,
    bus,
    pull,
    streams,
    ready: () => ready,
    metrics,
    operationalWebhooks: new OperationalWebhookService(store, clock, endpoints),
    storageHealth,
    validateResponses: config.validateResponses,
    transformations: new TransformSettings(store, clock, endpoints, transforms),
    ingest: { sources: ingestModule.sources, ingest: ingestModule.ingest, publicUrl: sec.publicUrl ?? null },
    circuits: dispatcher,
  });
  // SQLite is one node: any lease in the file was left by a previous run of this process.
  // On a shared store leases may be other nodes' live ones; expired ones are claimed as due.
  if (config.role !== 'api') await dispatcher.start({ releaseOrphanedLeases: !store.cluster });
  if (config.role !== 'api') sinks.start();
  if (config.role !== 'api') await ingestModule.scheduler.start({ releaseOrphanedLeases: !store.cluster });
  if (config.role !== 'api') await ingestModule.queues.start();
  if (store.cluster) {
    await joinCluster({
      cluster: store.cluster,
      bus,
      logger,
      sending: config.role !== 'api',
      backlogged: (id) => dispatcher.backlogged(id),
      wake: () => dispatcher.wake(),
      invalidateEndpoints: (appId) => endpoints.invalidate(appId),
      invalidatePollers: (appId) => pull.endpoints.invalidate(appId),
      readsApp: (appId) => pull.readsApp(appId),
      committedElsewhere: (appId) => pull.committedElsewhere(appId),
    });
  }
  // Tasks left running by a previous run (or, on a shared store, by a node whose lease ran out)
  // are taken over and resumed as each kind allows (see bridges/push/push-tasks.ts), or failed visibly.
  await tasks.resumeInterrupted();
  if (config.role === 'worker') serveHealthOnly(app);
  retention.start();
  ready = true;

  let closed = false;
  return {
    app,
    bus,
    auth,
    security,
    store,
    dispatcher,
    sinks,
    metrics,
    operationalWebhooks,
    storageHealth,
    retention,
    pull,
    adminToken,
    async listen() {
      return app.listen({ port: config.port, host: config.host });
    },
    async close() {
      if (closed) return;
      closed = true;
      ready = false;
      await app.close();
      await tasks.stop();
      await ingestModule.close(config.shutdownGraceMs);
      await retention.stop();
      await dispatcher.stop(config.shutdownGraceMs);
      await sinks.stop();
      await operationalWebhooks.stop();
      await storageHealth.stop();
      metrics.stop();
      await sender.close();
      await transforms.close();
      await store.close();
    },
  };
}
