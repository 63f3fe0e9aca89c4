/**
 * A Store made of one part per concern. Each database implements the parts; this class
 * forwards the flat `Store` methods to them, once for both databases, so callers keep
 * calling `store.publish(...)` while every concern lives in its own file.
 */
import type { Application, Attempt, DeliveryStatus, Endpoint, EventType, Message } from '../../domain/model.js';
import type { AppAttemptStats } from '../contract/app-stats.js';
import type { AttemptHistoryStore, AttemptQuery } from '../contract/attempts.js';
import type { AuthStore } from '../contract/auth.js';
import type { BackgroundTaskStore } from '../contract/background-tasks.js';
import type { UsageStore } from '../contract/usage.js';
import type { IntegrationStore } from '../contract/integrations.js';
import type { ConnectorStore } from '../contract/connectors.js';
import type { EnvironmentSettingsStore } from '../contract/environment-settings.js';
import type { CatalogStore } from '../contract/catalog.js';
import type { IdempotencyStorePart, IdempotentEntry, IdempotentResponse, LockWaitOptions } from '../contract/idempotency.js';
import type { IngestStore } from '../contract/ingest.js';
import type { MessageQuery, MessageStore, PublishItem, PublishResult } from '../contract/messages.js';
import type { OperationalWebhookStore } from '../contract/operational-webhooks.js';
import type { OrderingStore } from '../contract/ordering.js';
import type { Page, PageQuery } from '../contract/paging.js';
import type { PullStore } from '../contract/pull.js';
import type { AttemptRecord, ClaimedDelivery, LeaseRef, QueueStore, RecordedAttempts } from '../contract/queue.js';
import type { PartitionUpkeep, RetentionStore } from '../contract/retention.js';
import type { EndpointStats, QueueStats, StatsStore } from '../contract/stats.js';
import type { Store } from '../contract/store.js';
import type { StreamStore } from '../contract/streams.js';

/** The per-concern implementations a store is made of. */
export interface StoreParts {
  catalog: CatalogStore;
  messages: MessageStore;
  queue: QueueStore;
  attempts: AttemptHistoryStore;
  idempotency: IdempotencyStorePart;
  retention: RetentionStore;
  stats: StatsStore;
}

/** A Store forwarding each concern's methods to its part; subclasses open the database. */
export abstract class ComposedStore implements Store {
  abstract readonly operationalWebhooks: OperationalWebhookStore;
  abstract readonly pull: PullStore;
  abstract readonly auth: AuthStore;
  abstract readonly ingest: IngestStore;
  abstract readonly ordering: OrderingStore;
  abstract readonly backgroundTasks: BackgroundTaskStore;
  abstract readonly usage: UsageStore;
  abstract readonly integrations: IntegrationStore;
  abstract readonly connectors: ConnectorStore;
  abstract readonly environmentSettings: EnvironmentSettingsStore;
  abstract readonly streams: StreamStore;

  constructor(protected readonly parts: StoreParts) {}

  abstract migrate(onWait?: (waiting: string) => void): Promise<void>;
  abstract close(): Promise<void>;
  abstract ping(): Promise<void>;
  abstract failWaiting(why: string): number;
  abstract advisories(): Promise<string[]>;

  // ---- catalog

  createApplication(app: Application): Promise<void> {
    return this.parts.catalog.createApplication(app);
  }
  getApplication(idOrUid: string): Promise<Application | null> {
    return this.parts.catalog.getApplication(idOrUid);
  }
  listApplications(q: PageQuery): Promise<Page<Application>> {
    return this.parts.catalog.listApplications(q);
  }
  updateApplication(app: Application): Promise<void> {
    return this.parts.catalog.updateApplication(app);
  }
  deleteApplication(id: string): Promise<void> {
    return this.parts.catalog.deleteApplication(id);
  }
  createEventType(et: EventType): Promise<void> {
    return this.parts.catalog.createEventType(et);
  }
  getEventType(name: string): Promise<EventType | null> {
    return this.parts.catalog.getEventType(name);
  }
  listEventTypes(q: PageQuery & { includeArchived: boolean }): Promise<Page<EventType>> {
    return this.parts.catalog.listEventTypes(q);
  }
  updateEventType(et: EventType): Promise<void> {
    return this.parts.catalog.updateEventType(et);
  }
  deleteEventType(name: string): Promise<void> {
    return this.parts.catalog.deleteEventType(name);
  }
  createEndpoint(ep: Endpoint): Promise<void> {
    return this.parts.catalog.createEndpoint(ep);
  }
  getEndpoint(appId: string, idOrUid: string): Promise<Endpoint | null> {
    return this.parts.catalog.getEndpoint(appId, idOrUid);
  }
  listEndpoints(appId: string, q: PageQuery): Promise<Page<Endpoint>> {
    return this.parts.catalog.listEndpoints(appId, q);
  }
  allEndpoints(appId: string): Promise<Endpoint[]> {
    return this.parts.catalog.allEndpoints(appId);
  }
  updateEndpoint(ep: Endpoint): Promise<void> {
    return this.parts.catalog.updateEndpoint(ep);
  }
  deleteEndpoint(appId: string, id: string): Promise<void> {
    return this.parts.catalog.deleteEndpoint(appId, id);
  }

  // ---- messages

  publish(items: PublishItem[]): Promise<PublishResult[]> {
    return this.parts.messages.publish(items);
  }
  getMessage(appId: string, idOrEventId: string): Promise<Message | null> {
    return this.parts.messages.getMessage(appId, idOrEventId);
  }
  listMessages(appId: string, q: MessageQuery): Promise<Page<Message>> {
    return this.parts.messages.listMessages(appId, q);
  }
  expungeMessageContent(appId: string, id: string): Promise<void> {
    return this.parts.messages.expungeMessageContent(appId, id);
  }

  // ---- the delivery queue

  claimDue(endpointId: string, limit: number, nowMs: number, leaseUntil: number): Promise<ClaimedDelivery[]> {
    return this.parts.queue.claimDue(endpointId, limit, nowMs, leaseUntil);
  }
  loadClaimed(refs: LeaseRef[]): Promise<ClaimedDelivery[]> {
    return this.parts.queue.loadClaimed(refs);
  }
  dueEndpoints(nowMs: number, limit: number, afterEndpointId?: string): Promise<string[]> {
    return this.parts.queue.dueEndpoints(nowMs, limit, afterEndpointId);
  }
  nextDueAt(afterMs: number): Promise<number | null> {
    return this.parts.queue.nextDueAt(afterMs);
  }
  recordAttempts(records: AttemptRecord[]): Promise<RecordedAttempts> {
    return this.parts.queue.recordAttempts(records);
  }
  releaseAllLeases(nowMs: number): Promise<number> {
    return this.parts.queue.releaseAllLeases(nowMs);
  }
  releaseLeases(refs: LeaseRef[], nowMs: number): Promise<void> {
    return this.parts.queue.releaseLeases(refs, nowMs);
  }
  resend(messageId: string, endpointId: string, appId: string, nowMs: number): Promise<void> {
    return this.parts.queue.resend(messageId, endpointId, appId, nowMs);
  }
  recoverFailed(endpointId: string, since: number, until: number | null, nowMs: number): Promise<number> {
    return this.parts.queue.recoverFailed(endpointId, since, until, nowMs);
  }
  messagesWithoutDelivery(appId: string, endpointId: string, since: number, until: number | null): Promise<Message[]> {
    return this.parts.queue.messagesWithoutDelivery(appId, endpointId, since, until);
  }
  addDeliveries(endpointId: string, appId: string, messageIds: string[], nowMs: number): Promise<number> {
    return this.parts.queue.addDeliveries(endpointId, appId, messageIds, nowMs);
  }

  // ---- attempt history

  listAttemptsByMessage(appId: string, messageId: string, q: AttemptQuery): Promise<Page<Attempt>> {
    return this.parts.attempts.listAttemptsByMessage(appId, messageId, q);
  }
  listAttemptsByEndpoint(appId: string, endpointId: string, q: AttemptQuery): Promise<Page<Attempt>> {
    return this.parts.attempts.listAttemptsByEndpoint(appId, endpointId, q);
  }
  getAttempt(appId: string, messageId: string, attemptId: string): Promise<Attempt | null> {
    return this.parts.attempts.getAttempt(appId, messageId, attemptId);
  }
  expungeAttemptContent(appId: string, messageId: string, attemptId: string): Promise<void> {
    return this.parts.attempts.expungeAttemptContent(appId, messageId, attemptId);
  }
  listMessageDestinations(
    appId: string,
    messageId: string,
    q: PageQuery,
  ): Promise<Page<{ endpoint: Endpoint; status: DeliveryStatus; nextAttemptAt: number | null }>> {
    return this.parts.attempts.listMessageDestinations(appId, messageId, q);
  }
  listEndpointMessages(
    appId: string,
    endpointId: string,
    q: MessageQuery & { status?: DeliveryStatus | undefined },
  ): Promise<Page<{ message: Message; status: DeliveryStatus; nextAttemptAt: number | null }>> {
    return this.parts.attempts.listEndpointMessages(appId, endpointId, q);
  }

  // ---- idempotency

  async getIdempotent(key: string, nowMs: number): Promise<IdempotentResponse | null> {
    return (await this.parts.idempotency.getIdempotentBatch([key], nowMs))[0] ?? null;
  }
  getIdempotentBatch(keys: readonly string[], nowMs: number): Promise<(IdempotentResponse | null)[]> {
    return this.parts.idempotency.getIdempotentBatch(keys, nowMs);
  }
  putIdempotent(key: string, res: IdempotentResponse, expiresAt: number, nowMs: number, options?: LockWaitOptions): Promise<void> {
    return this.parts.idempotency.putIdempotent(key, res, expiresAt, nowMs, options);
  }
  putIdempotentBatch(entries: IdempotentEntry[]): Promise<void> {
    return this.parts.idempotency.putIdempotentBatch(entries);
  }
  dropExpiredIdempotent(nowMs: number, limit: number): Promise<number> {
    return this.parts.idempotency.dropExpiredIdempotent(nowMs, limit);
  }

  // ---- retention

  purgeMessagesBefore(cutoffMs: number, limit: number): Promise<number> {
    return this.parts.retention.purgeMessagesBefore(cutoffMs, limit);
  }
  maintainPartitions(nowMs: number, cutoffMs: number | null): Promise<PartitionUpkeep> {
    return this.parts.retention.maintainPartitions(nowMs, cutoffMs);
  }

  // ---- statistics

  endpointStats(endpointId: string, since: number | null, until: number | null): Promise<EndpointStats> {
    return this.parts.stats.endpointStats(endpointId, since, until);
  }
  appAttemptStats(appId: string, since: number, until: number, bucketMs: number): Promise<AppAttemptStats> {
    return this.parts.stats.appAttemptStats(appId, since, until, bucketMs);
  }
  queueStats(nowMs: number): Promise<QueueStats> {
    return this.parts.stats.queueStats(nowMs);
  }
}
