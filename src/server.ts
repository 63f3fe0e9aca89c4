/**
 * The composition root: picks concrete adapters from configuration and wires them.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { Clock } from './domain/clock.js';
import { Dispatcher } from './delivery/dispatcher.js';
import { HttpSender } from './delivery/http-sender.js';
import type { Sender } from './delivery/http-sender.js';
import { systemClock } from './delivery/system-clock.js';
import { buildApp } from './http/app.js';
import { Auth } from './http/auth.js';
import { ApplicationService } from './services/applications.js';
import { EndpointService } from './services/endpoints.js';
import { EventBus } from './services/event-bus.js';
import { EventTypeService } from './services/event-types.js';
import { MessageService } from './services/messages.js';
import { SqliteStore } from './storage/sqlite/sqlite-store.js';
import type { Store } from './storage/store.js';

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
  store: Store;
  dispatcher: Dispatcher;
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
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const token = 'sb_admin_' + randomBytes(32).toString('base64url');
  writeFileSync(file, token + '\n', { mode: 0o600 });
  logger.warn({ file }, 'generated an admin token; it is printed once here and kept in the data directory');
  process.stdout.write(`\nSwitchboard admin token (keep it safe): ${token}\n\n`);
  return token;
}

export async function createSwitchboard(config: Config, o: Overrides = {}): Promise<Switchboard> {
  const logger = o.logger ?? pino({ level: config.logLevel });
  const clock = o.clock ?? systemClock;
  mkdirSync(config.dataDir, { recursive: true });
  const store = o.store ?? new SqliteStore({ path: join(config.dataDir, 'switchboard.db'), durability: config.durability });
  await store.migrate();
  const adminToken = resolveAdminToken(config, logger);

  const sender =
    o.sender ??
    new HttpSender({ allowedNetworks: config.allowedNetworks, timeoutMs: config.requestTimeoutMs });
  const leaseMs = config.requestTimeoutMs + 30_000;
  const dispatcher = new Dispatcher({
    store,
    sender,
    clock,
    logger,
    retrySchedule: config.retrySchedule,
    endpointConcurrency: config.endpointConcurrency,
    maxInflight: config.maxInflight,
    leaseMs,
    disableAfterMs: config.disableAfterMs,
    sweepIntervalMs: o.sweepIntervalMs,
    random: o.random,
  });
  const applications = new ApplicationService(store, clock);
  const eventTypes = new EventTypeService(store, clock);
  const endpoints = new EndpointService(store, clock, config.allowedNetworks);
  dispatcher.onEndpointDisabled = (_id, appId) => endpoints.invalidate(appId);
  const bus = new EventBus();
  const messages = new MessageService(store, clock, endpoints, dispatcher, leaseMs, bus);

  const auth = new Auth(adminToken, applications);
  let ready = false;
  const app = await buildApp({
    store,
    clock,
    logger,
    auth,
    maxPayloadBytes: config.maxPayloadBytes,
    applications,
    eventTypes,
    endpoints,
    messages,
    bus,
    ready: () => ready,
  });
  // SQLite is one node: any lease in the file was left by a previous run of this process.
  await dispatcher.start({ releaseOrphanedLeases: true });
  ready = true;

  let closed = false;
  return {
    app,
    bus,
    auth,
    store,
    dispatcher,
    adminToken,
    async listen() {
      return app.listen({ port: config.port, host: config.host });
    },
    async close() {
      if (closed) return;
      closed = true;
      ready = false;
      await app.close();
      await dispatcher.stop(config.shutdownGraceMs);
      await sender.close();
      await store.close();
    },
  };
}
