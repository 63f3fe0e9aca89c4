/**
 * The Store contract on PostgreSQL (the `postgres` driver), shared by any number of nodes:
 * opens the pool, runs the migrations, and composes one implementation per concern.
 * Deliveries are claimed with `FOR UPDATE SKIP LOCKED` leases fenced by a lease token;
 * writes that other nodes must react to queue a cluster notice (`pg_notify`) in their
 * transaction, so it is sent at commit and only then.
 */
import type { Sql } from 'postgres';
import type { SecretBox } from '../../security/crypto.js';
import type { ClusterNotice, ClusterStore } from '../contract/cluster.js';
import { ComposedStore } from '../shared/composed-store.js';
import { PgAttemptHistoryStore } from './attempts.js';
import { PgAuthStore } from './auth.js';
import { PgBackgroundTaskStore } from './background-tasks.js';
import { PgCatalogStore } from './catalog.js';
import { PgConnection } from './connection.js';
import type { PostgresOptions } from './connection.js';
import { PgIdempotencyStore } from './idempotency.js';
import { PgIngestStore } from './ingest.js';
import { PgMessageStore } from './messages.js';
import { runMigrations } from './migrator.js';
import { decodeNotices } from './notices.js';
import { PgOperationalWebhookStore } from './operational-webhooks.js';
import { PgPullStore } from './pull.js';
import { PgQueueStore } from './queue.js';
import { PgOrderingStore } from './ordered-claims.js';
import { PgRetentionStore } from './retention.js';
import { PgStatsStore } from './stats.js';
import { PgUsageStore } from './usage.js';
import { PgIntegrationStore } from './integrations.js';
import { PgConnectorStore } from './connectors.js';
import { PgEnvironmentSettingsStore } from './environment-settings.js';
import { PgStreamStore } from './streams.js';

export type { PostgresOptions } from './connection.js';

/** The Store on a PostgreSQL database shared by any number of nodes. */
export class PostgresStore extends ComposedStore {
  readonly sql: Sql;
  readonly cluster: ClusterStore;
  readonly nodeId: string;
  /** Seals secrets at rest; other tables holding secrets use it too. */
  readonly box: SecretBox;
  readonly operationalWebhooks: PgOperationalWebhookStore;
  readonly pull: PgPullStore;
  readonly auth: PgAuthStore;
  readonly ingest: PgIngestStore;
  readonly ordering: PgOrderingStore;
  readonly backgroundTasks: PgBackgroundTaskStore;
  readonly usage: PgUsageStore;
  readonly integrations: PgIntegrationStore;
  readonly connectors: PgConnectorStore;
  readonly environmentSettings: PgEnvironmentSettingsStore;
  readonly streams: PgStreamStore;
  private closed = false;
  private readonly connection: PgConnection;

  constructor(opts: PostgresOptions) {
    const c = new PgConnection(opts);
    const queue = new PgQueueStore(c);
    const messages = new PgMessageStore(c);
    super({
      catalog: new PgCatalogStore(c),
      messages,
      queue,
      attempts: new PgAttemptHistoryStore(c),
      idempotency: new PgIdempotencyStore(c),
      retention: new PgRetentionStore(c),
      stats: new PgStatsStore(c),
    });
    this.sql = c.sql;
    this.connection = c;
    this.nodeId = c.nodeId;
    this.box = c.box;
    this.cluster = {
      nodeId: c.nodeId,
      claimDueCapped: (endpointId, limit, nowMs, leaseUntil, concurrency) => queue.claimDueCapped(endpointId, limit, nowMs, leaseUntil, concurrency),
      countEndedRequests: (source) => {
        c.endedRequests = source;
      },
      listen: (onNotice, onConnected) => this.listen(onNotice, onConnected),
      getMessages: (ids) => messages.getMessages(ids),
    };
    this.operationalWebhooks = new PgOperationalWebhookStore(c.sql, c.box);
    this.pull = new PgPullStore(c);
    this.auth = new PgAuthStore(c.sql, c.box);
    this.ingest = new PgIngestStore(c);
    this.ordering = new PgOrderingStore(c);
    this.backgroundTasks = new PgBackgroundTaskStore(c.sql);
    this.usage = new PgUsageStore(c.sql);
    this.integrations = new PgIntegrationStore(c);
    this.connectors = new PgConnectorStore(c);
    this.environmentSettings = new PgEnvironmentSettingsStore(c);
    this.streams = new PgStreamStore(c);
  }

  override async migrate(onWait?: (waiting: string) => void): Promise<void> {
    await runMigrations(this.sql, undefined, { onWait });
    await this.connection.channel();
  }

  override async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.connection.end(5);
  }

  /** On a connection of its own (`PgConnection.ping`): never behind the pool's queue. */
  override async ping(): Promise<void> {
    await this.connection.ping();
  }

  override failWaiting(why: string): number {
    return this.connection.failWaiting(why);
  }

  override async advisories(): Promise<string[]> {
    const [s] = await this.sql<{ autovacuum: string; track_counts: string }[]>`
      SELECT current_setting('autovacuum') AS autovacuum, current_setting('track_counts') AS track_counts`;
    if (s?.autovacuum === 'on' && s.track_counts === 'on') return [];
    // Every delivery's row is written several times (published, leased, settled): without
    // autovacuum the dead versions stay in the tables and their indexes, and claims slow down.
    return [
      `PostgreSQL's autovacuum is not running (autovacuum = ${s?.autovacuum ?? '?'}, track_counts = ${s?.track_counts ?? '?'}): ` +
        "Switchboard's tables keep every dead row version until a VACUUM, so they grow and its queries slow down; " +
        'turn both settings on, or schedule VACUUM (ANALYZE) of the Switchboard schema',
    ];
  }

  private async listen(onNotice: (n: ClusterNotice) => void, onConnected?: () => void): Promise<void> {
    let first = true;
    await this.sql.listen(
      await this.connection.channel(),
      (payload) => {
        for (const n of decodeNotices(payload, this.nodeId) ?? []) onNotice(n);
      },
      () => {
        // The first call is the initial LISTEN; later ones are reconnections after missed notices.
        if (!first) onConnected?.();
        first = false;
      },
    );
  }
}
