/**
 * The Store contract on embedded SQLite (better-sqlite3, WAL): opens the database, runs the
 * migrations, and composes one implementation per concern. Calls are synchronous underneath;
 * the async contract lets PostgreSQL implement the same interface.
 */
import type { Database as Db } from 'better-sqlite3';
import type { SecretBox } from '../../security/crypto.js';
import { ComposedStore } from '../shared/composed-store.js';
import { SqliteAttemptHistoryStore } from './attempts.js';
import { SqliteAuthStore } from './auth.js';
import { SqliteBackgroundTaskStore } from './background-tasks.js';
import { SqliteCatalogStore } from './catalog.js';
import { SqliteConnection } from './connection.js';
import type { SqliteOptions } from './connection.js';
import { SqliteIdempotencyStore } from './idempotency.js';
import { SqliteIngestStore } from './ingest.js';
import { SqliteMessageStore } from './messages.js';
import { runSqliteMigrations } from './migrator.js';
import { SqliteOperationalWebhookStore } from './operational-webhooks.js';
import { SqlitePullStore } from './pull.js';
import { SqliteQueueStore } from './queue.js';
import { SqliteOrderingStore } from './ordered-claims.js';
import { SqliteRetentionStore } from './retention.js';
import { SqliteStatsStore } from './stats.js';
import { SqliteUsageStore } from './usage.js';
import { SqliteIntegrationStore } from './integrations.js';
import { SqliteConnectorStore } from './connectors.js';
import { SqliteEnvironmentSettingsStore } from './environment-settings.js';
import { SqliteStreamStore } from './streams.js';

export type { SqliteOptions } from './connection.js';

/** The Store on one SQLite database file. */
export class SqliteStore extends ComposedStore {
  readonly db: Db;
  /** Seals secrets at rest; other tables holding secrets use it too. */
  readonly box: SecretBox;
  readonly operationalWebhooks: SqliteOperationalWebhookStore;
  readonly pull: SqlitePullStore;
  readonly auth: SqliteAuthStore;
  readonly ingest: SqliteIngestStore;
  readonly ordering: SqliteOrderingStore;
  readonly backgroundTasks: SqliteBackgroundTaskStore;
  readonly usage: SqliteUsageStore;
  readonly integrations: SqliteIntegrationStore;
  readonly connectors: SqliteConnectorStore;
  readonly environmentSettings: SqliteEnvironmentSettingsStore;
  readonly streams: SqliteStreamStore;
  private readonly connection: SqliteConnection;

  constructor(opts: SqliteOptions) {
    const c = new SqliteConnection(opts);
    super({
      catalog: new SqliteCatalogStore(c),
      messages: new SqliteMessageStore(c),
      queue: new SqliteQueueStore(c),
      attempts: new SqliteAttemptHistoryStore(c),
      idempotency: new SqliteIdempotencyStore(c),
      retention: new SqliteRetentionStore(c),
      stats: new SqliteStatsStore(c),
    });
    this.connection = c;
    this.db = c.db;
    this.box = c.box;
    this.operationalWebhooks = new SqliteOperationalWebhookStore(c);
    this.pull = new SqlitePullStore(c);
    this.auth = new SqliteAuthStore(c.db, c.box, c.statements);
    this.ingest = new SqliteIngestStore(c);
    this.ordering = new SqliteOrderingStore(c);
    this.backgroundTasks = new SqliteBackgroundTaskStore(c);
    this.usage = new SqliteUsageStore(c.db);
    this.integrations = new SqliteIntegrationStore(c);
    this.connectors = new SqliteConnectorStore(c);
    this.environmentSettings = new SqliteEnvironmentSettingsStore(c);
    this.streams = new SqliteStreamStore(c);
  }

  override async migrate(): Promise<void> {
    runSqliteMigrations(this.db);
  }

  override async close(): Promise<void> {
    await this.connection.close();
  }

  override async ping(): Promise<void> {
    this.connection.q('SELECT 1').get();
  }

  /** Queries run at once on SQLite: none ever waits for a connection. */
  override failWaiting(): number {
    return 0;
  }

  /** SQLite has no server settings to get wrong: the connection sets its own pragmas. */
  override async advisories(): Promise<string[]> {
    return [];
  }
}
