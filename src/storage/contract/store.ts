/**
 * The storage contract. Services talk to storage only through this interface; SQLite and
 * PostgreSQL implement it and pass the same contract suites. `Store` is the composition of
 * one contract per concern; the types of those contracts are re-exported here so that
 * callers import from one place.
 */
import type { AttemptHistoryStore } from './attempts.js';
import type { AuthStore } from './auth.js';
import type { BackgroundTaskStore } from './background-tasks.js';
import type { CatalogStore } from './catalog.js';
import type { ClusterStore } from './cluster.js';
import type { IdempotencyStore } from './idempotency.js';
import type { IngestStore } from './ingest.js';
import type { MessageStore } from './messages.js';
import type { OperationalWebhookStore } from './operational-webhooks.js';
import type { OrderingStore } from './ordering.js';
import type { PullStore } from './pull.js';
import type { QueueStore } from './queue.js';
import type { RetentionStore } from './retention.js';
import type { StatsStore } from './stats.js';
import type { StreamStore } from './streams.js';
import type { UsageStore } from './usage.js';
import type { IntegrationStore } from './integrations.js';
import type { ConnectorStore } from './connectors.js';
import type { EnvironmentSettingsStore } from './environment-settings.js';

export type { Order, Page, PageQuery } from './paging.js';
export type { CatalogStore } from './catalog.js';
export type { MessageQuery, MessageStore, NewDelivery, PublishItem, PublishResult } from './messages.js';
export type { AttemptRecord, ClaimedDelivery, LeaseRef, QueueStore, RecordedAttempts } from './queue.js';
export type { AttemptHistoryStore, AttemptQuery } from './attempts.js';
export type { IdempotencyStore, IdempotentEntry, IdempotentResponse } from './idempotency.js';
export type { PartitionUpkeep, RetentionStore } from './retention.js';
export type { EndpointStats, QueueStats, StatsStore } from './stats.js';
export type { OrderingStore, PausedKey } from './ordering.js';

/** Opening, closing and checking the database. */
export interface StoreLifecycle {
  /**
   * Applies pending migrations. `onWait` is told, in words, each time a migration gave up
   * waiting for a table lock held by another session's long transaction (PostgreSQL: it tries
   * again until it gets it, rather than queue every other statement on the table behind it).
   */
  migrate(onWait?: (waiting: string) => void): Promise<void>;
  close(): Promise<void>;
  /** Checks the database answers. */
  ping(): Promise<void>;
  /**
   * Fails at once every query still waiting for a connection to the database (none of them
   * was sent) with a storage fault `unavailable` (`WAITED_UNREACHABLE`), whose message says
   * `why`; how many. Called once the database has been unreachable for a while: the pool
   * would otherwise fail them one per failed reconnection. SQLite has no such queue: 0.
   */
  failWaiting(why: string): number;
  /**
   * Settings of the database server that will slow Switchboard down or let its tables grow
   * without bound, each a sentence for the operator; none when all is well (always, on SQLite).
   */
  advisories(): Promise<string[]>;
}

/** Everything Switchboard keeps: one contract per concern, and the sub-stores of the bridges. */
export interface Store
  extends StoreLifecycle, CatalogStore, MessageStore, QueueStore, AttemptHistoryStore, IdempotencyStore, RetentionStore, StatsStore {
  /** Present on a store several nodes share (PostgreSQL): cross-node claim caps and notices. */
  readonly cluster?: ClusterStore | undefined;
  /** Operational webhook endpoints. */
  readonly operationalWebhooks: OperationalWebhookStore;
  /** The pull side: the message log by position, polling endpoints, consumers, poller tokens. */
  readonly pull: PullStore;
  /** API keys, OAuth clients and signing keys, app-portal tokens. */
  readonly auth: AuthStore;
  /** Ingest sources, their tokens and logs, schedules of poll and cron sources. */
  readonly ingest: IngestStore;
  /** Ordered delivery: ordered claims, paused keys (docs/ordering.md). */
  readonly ordering: OrderingStore;
  /** Background tasks: recover, replay, bulk replay, purges, usage aggregations. */
  readonly backgroundTasks: BackgroundTaskStore;
  /** Organisation-wide usage figures. */
  readonly usage: UsageStore;
  /** Integrations: named API credentials of one application. */
  readonly integrations: IntegrationStore;
  /** Connectors: transformation templates; environment imports. */
  readonly connectors: ConnectorStore;
  /** The environment's settings (written by environment imports). */
  readonly environmentSettings: EnvironmentSettingsStore;
  /** Streams: their event logs, sinks, sink delivery state and stream tokens. */
  readonly streams: StreamStore;
}
