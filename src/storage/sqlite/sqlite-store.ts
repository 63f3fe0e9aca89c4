/**
 * The Store contract on embedded SQLite (better-sqlite3, WAL). Calls are synchronous
 * underneath; the async contract lets PostgreSQL implement the same interface.
 */
import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { conflict } from '../../domain/errors.js';
import { DeliveryStatus } from '../../domain/model.js';
import type { Application, Attempt, Endpoint, EventType, HeaderStyle, Message, TriggerType } from '../../domain/model.js';
import { finishPage, pageBounds } from '../shared/paging.js';
import type {
  AttemptQuery,
  AttemptRecord,
  ClaimedDelivery,
  EndpointStats,
  IdempotentResponse,
  MessageQuery,
  Page,
  PageQuery,
  PublishItem,
  PublishResult,
  QueueStats,
  Store,
} from '../contract/store.js';
import { idBoundary } from '../../domain/ids.js';
import { SqliteOperationalWebhookStore } from './operational-webhooks.js';
import { SqlitePullStore } from './pull.js';
import { SecretBox } from '../../security/crypto.js';
import { SqliteAuthStore } from './auth.js';
import { SqliteIngestStore } from './ingest.js';
import { WalSync } from './wal-sync.js';
import { json, toApp, toAttempt, toEndpoint, toEventType, toMessage } from '../shared/rows.js';
import type { Row } from '../shared/rows.js';
import { sqliteAppAttemptStats } from './app-stats.js';
import type { AppAttemptStats } from '../contract/app-stats.js';

export interface SqliteOptions {
  /** File path, or ':memory:'. */
  path: string;
  /** 'full' survives power loss (synchronous=FULL); 'normal' survives a process crash. */
  durability: 'full' | 'normal';
  /** Seals endpoint secrets and headers at rest; plaintext without one. */
  box?: SecretBox;
}

/** Directory holding this dialect's NNNN_description.sql files. */
const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

export class SqliteStore implements Store {
  readonly db: Db;
  private readonly stmts = new Map<string, Statement>();
  readonly operationalWebhooks: SqliteOperationalWebhookStore;
  readonly pull: SqlitePullStore;
  /** Seals secrets at rest; other tables holding secrets use it too. */
  readonly box: SecretBox;
  readonly auth: SqliteAuthStore;
  readonly ingest: SqliteIngestStore;

  private readonly durability: 'full' | 'normal';
  /** fsyncs the WAL off the event loop for publishes under full durability. */
  private readonly walSync: WalSync | null;

  constructor(opts: SqliteOptions) {
    this.durability = opts.durability;
    this.db = new Database(opts.path);
    this.walSync = opts.durability === 'full' && opts.path !== ':memory:' && opts.path !== '' ? new WalSync(`${opts.path}-wal`) : null;
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${opts.durability === 'full' ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = OFF');
    this.box = opts.box ?? SecretBox.plaintext();
    this.operationalWebhooks = new SqliteOperationalWebhookStore(this.db, this.box);
    this.pull = new SqlitePullStore(this.db, this.box);
    this.auth = new SqliteAuthStore(this.db, this.box);
    this.ingest = new SqliteIngestStore(this.db, this.box);
  }

  /** A cached prepared statement. */
  private q(sql: string): Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  async migrate(): Promise<void> {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    const applied = new Set((this.db.prepare('SELECT version FROM schema_migrations').all() as Row[]).map((r) => r.version as number));
    const files = readdirSync(MIGRATIONS_DIR).filter((f) => /^\d{4}_.+\.sql$/.test(f)).sort();
    for (const file of files) {
      const version = Number(file.slice(0, 4));
      if (applied.has(version)) continue;
      const sql = readFileSync(MIGRATIONS_DIR + file, 'utf8');
      this.db.transaction(() => {
        this.db.exec(sql);
        this.db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(version, file, Date.now());
      }).immediate();
    }
  }

  async close(): Promise<void> {
    await this.walSync?.close();
    this.db.close();
  }

  async ping(): Promise<void> {
    this.q('SELECT 1').get();
  }

  // ---- applications

  async createApplication(a: Application): Promise<void> {
    unique('an application with this uid already exists', () => this.q(
      `INSERT INTO applications (id, uid, name, throttle_rate, metadata, header_style, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(a.id, a.uid, a.name, a.throttleRate, JSON.stringify(a.metadata), a.headerStyle, a.createdAt, a.updatedAt));
  }

  async getApplication(idOrUid: string): Promise<Application | null> {
    const r = (this.q('SELECT * FROM applications WHERE id = ?').get(idOrUid) ?? this.q('SELECT * FROM applications WHERE uid = ?').get(idOrUid)) as Row | undefined;
    return r ? toApp(r) : null;
  }

  async listApplications(q: PageQuery): Promise<Page<Application>> {
    return this.page('applications', 'id', '', [], q, 'ascending', toApp);
  }

  async updateApplication(a: Application): Promise<void> {
    unique('an application with this uid already exists', () => this.q('UPDATE applications SET uid = ?, name = ?, throttle_rate = ?, metadata = ?, header_style = ?, updated_at = ? WHERE id = ?').run(
      a.uid,
      a.name,
      a.throttleRate,
      JSON.stringify(a.metadata),
      a.headerStyle,
      a.updatedAt,
      a.id,
    ));
  }

  async deleteApplication(id: string): Promise<void> {
    this.db.transaction(() => {
      for (const t of ['attempts', 'deliveries', 'messages', 'endpoints']) this.q(`DELETE FROM ${t} WHERE app_id = ?`).run(id);
      this.q('DELETE FROM applications WHERE id = ?').run(id);
    })();
  }

  // ---- event types

  async createEventType(e: EventType): Promise<void> {
    unique('an event type with this name already exists', () => this.q(
      `INSERT INTO event_types (name, description, archived, deprecated, feature_flag, schemas, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(e.name, e.description, e.archived ? 1 : 0, e.deprecated ? 1 : 0, e.featureFlag, json(e.schemas), e.createdAt, e.updatedAt));
  }

  async getEventType(name: string): Promise<EventType | null> {
    const r = this.q('SELECT * FROM event_types WHERE name = ?').get(name) as Row | undefined;
    return r ? toEventType(r) : null;
  }

  async listEventTypes(q: PageQuery & { includeArchived: boolean }): Promise<Page<EventType>> {
    return this.page('event_types', 'name', q.includeArchived ? '' : 'archived = 0', [], q, 'ascending', toEventType);
  }

  async updateEventType(e: EventType): Promise<void> {
    this.q('UPDATE event_types SET description = ?, archived = ?, deprecated = ?, feature_flag = ?, schemas = ?, updated_at = ? WHERE name = ?').run(
      e.description,
      e.archived ? 1 : 0,
      e.deprecated ? 1 : 0,
      e.featureFlag,
      json(e.schemas),
      e.updatedAt,
      e.name,
    );
  }

  async deleteEventType(name: string): Promise<void> {
    this.q('DELETE FROM event_types WHERE name = ?').run(name);
  }

  // ---- endpoints

  async createEndpoint(e: Endpoint): Promise<void> {
    unique('an endpoint with this uid already exists', () => this.q(
      `INSERT INTO endpoints (id, app_id, uid, url, description, disabled, event_types, channels, throttle_rate, metadata, headers, secrets, failing_since, created_at, updated_at, filter, transformation)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      e.id,
      e.appId,
      e.uid,
      e.url,
      e.description,
      e.disabled ? 1 : 0,
      json(e.eventTypes),
      json(e.channels),
      e.throttleRate,
      JSON.stringify(e.metadata),
      this.box.seal(JSON.stringify(e.headers)),
      this.box.seal(JSON.stringify(e.secrets)),
      e.failingSince,
      e.createdAt,
      e.updatedAt,
      json(e.filter),
      e.transformation ? this.box.seal(JSON.stringify(e.transformation)) : null,
    ));
  }

  async getEndpoint(appId: string, idOrUid: string): Promise<Endpoint | null> {
    const r = (this.q('SELECT * FROM endpoints WHERE id = ? AND app_id = ?').get(idOrUid, appId) ??
      this.q('SELECT * FROM endpoints WHERE app_id = ? AND uid = ?').get(appId, idOrUid)) as Row | undefined;
    return r ? toEndpoint(r, this.box) : null;
  }

  async listEndpoints(appId: string, q: PageQuery): Promise<Page<Endpoint>> {
    return this.page('endpoints', 'id', 'app_id = ?', [appId], q, 'ascending', (r) => toEndpoint(r, this.box));
  }

  async allEndpoints(appId: string): Promise<Endpoint[]> {
    return (this.q('SELECT * FROM endpoints WHERE app_id = ? ORDER BY id').all(appId) as Row[]).map((r) => toEndpoint(r, this.box));
  }

  async updateEndpoint(e: Endpoint): Promise<void> {
    unique('an endpoint with this uid already exists', () => this.db.transaction(() => {
      this.q(
        `UPDATE endpoints SET uid = ?, url = ?, description = ?, disabled = ?, event_types = ?, channels = ?, throttle_rate = ?,
           metadata = ?, headers = ?, secrets = ?, failing_since = ?, updated_at = ?, filter = ?, transformation = ? WHERE id = ? AND app_id = ?`,
      ).run(
        e.uid,
        e.url,
        e.description,
        e.disabled ? 1 : 0,
        json(e.eventTypes),
        json(e.channels),
        e.throttleRate,
        JSON.stringify(e.metadata),
        this.box.seal(JSON.stringify(e.headers)),
        this.box.seal(JSON.stringify(e.secrets)),
        e.failingSince,
        e.updatedAt,
        json(e.filter),
        e.transformation ? this.box.seal(JSON.stringify(e.transformation)) : null,
        e.id,
        e.appId,
      );
      if (e.disabled) this.failWaiting(e.id, e.updatedAt);
    })());
  }

  /** Fails the endpoint's deliveries that are waiting (not in flight): it is disabled. */
  private failWaiting(endpointId: string, nowMs: number): void {
    this.q(`UPDATE deliveries SET status = ${DeliveryStatus.Fail}, next_attempt_at = NULL, updated_at = ? WHERE endpoint_id = ? AND status = ${DeliveryStatus.Pending}`).run(
      nowMs,
      endpointId,
    );
  }

  async deleteEndpoint(appId: string, id: string): Promise<void> {
    this.db.transaction(() => {
      this.q('DELETE FROM attempts WHERE endpoint_id = ? AND app_id = ?').run(id, appId);
      this.q('DELETE FROM deliveries WHERE endpoint_id = ? AND app_id = ?').run(id, appId);
      this.q('DELETE FROM endpoints WHERE id = ? AND app_id = ?').run(id, appId);
    })();
  }

  // ---- messages

  async publish(items: PublishItem[]): Promise<PublishResult[]> {
    const insertMsg = this.q(
      `INSERT INTO messages (id, app_id, event_type, event_id, channels, tags, payload, created_at, seq)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    const lastSeq = this.q('SELECT last FROM pull_sequence WHERE id = 1');
    const saveSeq = this.q('UPDATE pull_sequence SET last = ? WHERE id = 1');
    const findByEventId = this.q('SELECT id FROM messages WHERE app_id = ? AND event_id = ?');
    const insertDelivery = this.q(
      `INSERT INTO deliveries (message_id, endpoint_id, app_id, status, attempts, next_attempt_at, lease_token, trigger, created_at, updated_at)
       VALUES (?, ?, ?, ?, 0, ?, ?, 0, ?, ?)`,
    );
    // The commit itself skips the fsync; the WAL is synced off the event loop before answering.
    const results = this.relaxed(() => this.db.transaction((): PublishResult[] => {
      const results: PublishResult[] = [];
      // Positions for pull readers: gap-free, in commit order (one writer at a time).
      const first = (lastSeq.get() as Row).last as number;
      let seq = first;
      for (const { message: m, deliveries } of items) {
        const info = insertMsg.run(m.id, m.appId, m.eventType, m.eventId, json(m.channels), json(m.tags), m.payload, m.createdAt, seq + 1);
        if (info.changes > 0) seq++;
        if (info.changes === 0) {
          const existing = findByEventId.get(m.appId, m.eventId) as Row | undefined;
          results.push({ kind: 'duplicate-event-id', existingId: (existing?.id as string) ?? '' });
          continue;
        }
        const out: { endpointId: string; deliveryId: number; leaseToken: number }[] = [];
        for (const d of deliveries) {
          const leased = d.leaseUntil !== null;
          const token = leased ? 1 : 0;
          const r = insertDelivery.run(
            m.id,
            d.endpointId,
            m.appId,
            leased ? DeliveryStatus.Sending : DeliveryStatus.Pending,
            d.leaseUntil ?? m.createdAt,
            token,
            m.createdAt,
            m.createdAt,
          );
          out.push({ endpointId: d.endpointId, deliveryId: Number(r.lastInsertRowid), leaseToken: token });
        }
        results.push({ kind: 'created', deliveries: out });
      }
      if (seq !== first) saveSeq.run(seq);
      return results;
    })());
    await this.walSync?.sync();
    return results;
  }

  async getMessage(appId: string, idOrEventId: string): Promise<Message | null> {
    const r = (this.q('SELECT * FROM messages WHERE id = ? AND app_id = ?').get(idOrEventId, appId) ??
      this.q('SELECT * FROM messages WHERE app_id = ? AND event_id = ?').get(appId, idOrEventId)) as Row | undefined;
    return r ? toMessage(r) : null;
  }

  async listMessages(appId: string, q: MessageQuery): Promise<Page<Message>> {
    const { where, args } = messageFilters('', q);
    return this.page('messages', 'id', ['app_id = ?', ...where].join(' AND '), [appId, ...args], q, 'descending', toMessage);
  }

  async expungeMessageContent(appId: string, id: string): Promise<void> {
    this.q('UPDATE messages SET payload = NULL WHERE app_id = ? AND id = ?').run(appId, id);
  }

  // ---- the delivery queue

  async claimDue(endpointId: string, limit: number, nowMs: number, leaseUntil: number): Promise<ClaimedDelivery[]> {
    return this.relaxed(() => this.claimDueTx(endpointId, limit, nowMs, leaseUntil));
  }

  private claimDueTx(endpointId: string, limit: number, nowMs: number, leaseUntil: number): ClaimedDelivery[] {
    return this.db.transaction((): ClaimedDelivery[] => {
      const epRow = this.q('SELECT * FROM endpoints WHERE id = ?').get(endpointId) as Row | undefined;
      if (!epRow) return [];
      const endpoint = toEndpoint(epRow, this.box);
      if (endpoint.disabled) {
        this.q(
          `UPDATE deliveries SET status = ${DeliveryStatus.Fail}, next_attempt_at = NULL, updated_at = ?
           WHERE endpoint_id = ? AND status IN (1, 3) AND next_attempt_at <= ?`,
        ).run(nowMs, endpointId, nowMs);
        return [];
      }
      const rows = this.q(
        `UPDATE deliveries SET status = ${DeliveryStatus.Sending}, next_attempt_at = ?, lease_token = lease_token + 1, updated_at = ?
         WHERE id IN (SELECT id FROM deliveries WHERE endpoint_id = ? AND status IN (1, 3) AND next_attempt_at <= ?
                      ORDER BY next_attempt_at LIMIT ?)
         RETURNING id, lease_token, attempts, trigger, message_id`,
      ).all(leaseUntil, nowMs, endpointId, nowMs, limit) as Row[];
      return this.hydrate(rows, endpoint);
    })();
  }

  async loadClaimed(refs: { deliveryId: number; leaseToken: number }[]): Promise<ClaimedDelivery[]> {
    const out: ClaimedDelivery[] = [];
    const byEndpoint = new Map<string, Row[]>();
    const get = this.q('SELECT id, lease_token, attempts, trigger, message_id, endpoint_id FROM deliveries WHERE id = ? AND lease_token = ?');
    for (const ref of refs) {
      const r = get.get(ref.deliveryId, ref.leaseToken) as Row | undefined;
      if (!r) continue;
      const list = byEndpoint.get(r.endpoint_id as string) ?? [];
      list.push(r);
      byEndpoint.set(r.endpoint_id as string, list);
    }
    for (const [endpointId, rows] of byEndpoint) {
      const epRow = this.q('SELECT * FROM endpoints WHERE id = ?').get(endpointId) as Row | undefined;
      if (epRow) out.push(...this.hydrate(rows, toEndpoint(epRow, this.box)));
    }
    return out;
  }

  /** Joins claimed delivery rows with their messages and application. */
  private hydrate(rows: Row[], endpoint: Endpoint): ClaimedDelivery[] {
    if (rows.length === 0) return [];
    const app = this.q('SELECT id, header_style FROM applications WHERE id = ?').get(endpoint.appId) as Row | undefined;
    const getMsg = this.q('SELECT * FROM messages WHERE id = ?');
    rows.sort((a, b) => (a.id as number) - (b.id as number));
    const out: ClaimedDelivery[] = [];
    for (const r of rows) {
      const m = getMsg.get(r.message_id) as Row | undefined;
      if (!m) continue;
      out.push({
        deliveryId: r.id as number,
        leaseToken: r.lease_token as number,
        attempts: r.attempts as number,
        trigger: r.trigger as TriggerType,
        message: toMessage(m),
        endpoint,
        app: { id: endpoint.appId, headerStyle: ((app?.header_style as HeaderStyle | undefined) ?? 'standard') },
      });
    }
    return out;
  }

  async dueEndpoints(nowMs: number, limit: number): Promise<string[]> {
    const rows = this.q(
      `SELECT e.id FROM endpoints e WHERE EXISTS (
         SELECT 1 FROM deliveries d WHERE d.endpoint_id = e.id AND d.status IN (1, 3) AND d.next_attempt_at <= ?)
       LIMIT ?`,
    ).all(nowMs, limit) as Row[];
    return rows.map((r) => r.id as string);
  }

  async nextDueAt(): Promise<number | null> {
    const r = this.q('SELECT MIN(next_attempt_at) AS t FROM deliveries WHERE status IN (1, 3)').get() as Row;
    return (r.t as number | null) ?? null;
  }

  async recordAttempts(records: AttemptRecord[]): Promise<void> {
    const insert = this.q(
      `INSERT INTO attempts (id, message_id, endpoint_id, app_id, url, status, response_status_code, response, duration_ms, trigger, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const update = this.q('UPDATE deliveries SET status = ?, next_attempt_at = ?, attempts = attempts + 1, updated_at = ? WHERE id = ? AND lease_token = ?');
    const ok = this.q('UPDATE endpoints SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL');
    const failing = this.q('UPDATE endpoints SET failing_since = ? WHERE id = ? AND failing_since IS NULL');
    const disable = this.q('UPDATE endpoints SET disabled = 1, updated_at = ? WHERE id = ?');
    this.relaxed(() => this.recordAttemptsTx(records, insert, update, ok, failing, disable));
  }

  /**
   * Runs a write that need not survive power loss without an fsync: losing a claim or an
   * attempt record only means a redelivery. The next full-durability commit or WAL sync (every
   * publish) makes it durable too, since WAL frames are written in commit order.
   */
  private relaxed<T>(fn: () => T): T {
    if (this.durability !== 'full') return fn();
    this.db.pragma('synchronous = NORMAL');
    try {
      return fn();
    } finally {
      this.db.pragma('synchronous = FULL');
    }
  }

  private recordAttemptsTx(records: AttemptRecord[], insert: Statement, update: Statement, ok: Statement, failing: Statement, disable: Statement): void {
    this.db.transaction(() => {
      for (const rec of records) {
        const a = rec.attempt;
        insert.run(a.id, a.messageId, a.endpointId, a.appId, a.url, a.status, a.responseStatusCode, a.response, a.responseDurationMs, a.triggerType, a.createdAt);
        const next = rec.next.status === DeliveryStatus.Pending ? rec.next.at : null;
        const fresh = update.run(rec.next.status, next, a.createdAt, rec.deliveryId, rec.leaseToken).changes > 0;
        if (!fresh) continue; // a newer lease owns this delivery now
        if (a.status === DeliveryStatus.Success) ok.run(a.endpointId);
        else failing.run(a.createdAt, a.endpointId);
        if (rec.disableEndpoint) {
          disable.run(a.createdAt, a.endpointId);
          this.failWaiting(a.endpointId, a.createdAt);
        }
      }
    })();
  }

  async releaseAllLeases(nowMs: number): Promise<number> {
    return this.q(`UPDATE deliveries SET status = ${DeliveryStatus.Pending}, next_attempt_at = ? WHERE status = ${DeliveryStatus.Sending}`).run(nowMs).changes;
  }

  async releaseLeases(refs: { deliveryId: number; leaseToken: number }[], nowMs: number): Promise<void> {
    const stmt = this.q(`UPDATE deliveries SET status = ${DeliveryStatus.Pending}, next_attempt_at = ? WHERE id = ? AND lease_token = ? AND status = ${DeliveryStatus.Sending}`);
    this.db.transaction(() => {
      for (const r of refs) stmt.run(nowMs, r.deliveryId, r.leaseToken);
    })();
  }

  // ---- manual triggers

  async resend(messageId: string, endpointId: string, appId: string, nowMs: number): Promise<void> {
    this.q(
      `INSERT INTO deliveries (message_id, endpoint_id, app_id, status, attempts, next_attempt_at, lease_token, trigger, created_at, updated_at)
       VALUES (?, ?, ?, ${DeliveryStatus.Pending}, 0, ?, 0, 1, ?, ?)
       ON CONFLICT (message_id, endpoint_id) DO UPDATE SET status = ${DeliveryStatus.Pending}, next_attempt_at = excluded.next_attempt_at,
         trigger = 1, updated_at = excluded.updated_at
       WHERE deliveries.status <> ${DeliveryStatus.Sending}`,
    ).run(messageId, endpointId, appId, nowMs, nowMs, nowMs);
  }

  async recoverFailed(endpointId: string, since: number, until: number | null, nowMs: number): Promise<number> {
    return this.q(
      `UPDATE deliveries SET status = ${DeliveryStatus.Pending}, next_attempt_at = ?, trigger = 1, updated_at = ?
       WHERE endpoint_id = ? AND status = ${DeliveryStatus.Fail} AND created_at >= ? AND created_at < ?`,
    ).run(nowMs, nowMs, endpointId, since, until ?? Number.MAX_SAFE_INTEGER).changes;
  }

  async messagesWithoutDelivery(appId: string, endpointId: string, since: number, until: number | null): Promise<Message[]> {
    const rows = this.q(
      `SELECT m.* FROM messages m WHERE m.app_id = ? AND m.created_at >= ? AND m.created_at < ?
         AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND d.endpoint_id = ?)
       ORDER BY m.id`,
    ).all(appId, since, until ?? Number.MAX_SAFE_INTEGER, endpointId) as Row[];
    return rows.map(toMessage);
  }

  async addDeliveries(endpointId: string, appId: string, messageIds: string[], nowMs: number): Promise<number> {
    const stmt = this.q(
      `INSERT INTO deliveries (message_id, endpoint_id, app_id, status, attempts, next_attempt_at, lease_token, trigger, created_at, updated_at)
       VALUES (?, ?, ?, ${DeliveryStatus.Pending}, 0, ?, 0, 1, ?, ?) ON CONFLICT DO NOTHING`,
    );
    return this.db.transaction(() => {
      let n = 0;
      for (const id of messageIds) n += stmt.run(id, endpointId, appId, nowMs, nowMs, nowMs).changes;
      return n;
    })();
  }

  // ---- attempts and views

  async listAttemptsByMessage(appId: string, messageId: string, q: AttemptQuery): Promise<Page<Attempt>> {
    const { where, args } = attemptFilters(q);
    return this.page('attempts', 'id', ['app_id = ?', 'message_id = ?', ...where].join(' AND '), [appId, messageId, ...args], q, 'descending', toAttempt);
  }

  async listAttemptsByEndpoint(appId: string, endpointId: string, q: AttemptQuery): Promise<Page<Attempt>> {
    const { where, args } = attemptFilters(q);
    return this.page('attempts', 'id', ['app_id = ?', 'endpoint_id = ?', ...where].join(' AND '), [appId, endpointId, ...args], q, 'descending', toAttempt);
  }

  async getAttempt(appId: string, messageId: string, attemptId: string): Promise<Attempt | null> {
    const r = this.q('SELECT * FROM attempts WHERE app_id = ? AND message_id = ? AND id = ?').get(appId, messageId, attemptId) as Row | undefined;
    return r ? toAttempt(r) : null;
  }

  async expungeAttemptContent(appId: string, messageId: string, attemptId: string): Promise<void> {
    this.q(`UPDATE attempts SET response = '' WHERE app_id = ? AND message_id = ? AND id = ?`).run(appId, messageId, attemptId);
  }

  async listMessageDestinations(
    appId: string,
    messageId: string,
    q: PageQuery,
  ): Promise<Page<{ endpoint: Endpoint; status: DeliveryStatus; nextAttemptAt: number | null }>> {
    const sql = `(SELECT e.*, d.status AS d_status, d.next_attempt_at AS d_next FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id
                  WHERE d.app_id = ? AND d.message_id = ?)`;
    return this.page(sql, 'id', '', [appId, messageId], q, 'ascending', (r) => ({
      endpoint: toEndpoint(r, this.box),
      status: r.d_status as DeliveryStatus,
      nextAttemptAt: r.d_status === DeliveryStatus.Pending ? ((r.d_next as number | null) ?? null) : null,
    }));
  }

  async listEndpointMessages(
    appId: string,
    endpointId: string,
    q: MessageQuery & { status?: DeliveryStatus | undefined },
  ): Promise<Page<{ message: Message; status: DeliveryStatus; nextAttemptAt: number | null }>> {
    const { where, args } = messageFilters('', q);
    if (q.status !== undefined) {
      where.push('d_status = ?');
      args.push(q.status);
    }
    const sql = `(SELECT m.*, d.status AS d_status, d.next_attempt_at AS d_next FROM deliveries d JOIN messages m ON m.id = d.message_id
                  WHERE d.app_id = ? AND d.endpoint_id = ?)`;
    return this.page(sql, 'id', where.join(' AND '), [appId, endpointId, ...args], q, 'descending', (r) => ({
      message: toMessage(r),
      status: r.d_status as DeliveryStatus,
      nextAttemptAt: r.d_status === DeliveryStatus.Pending ? ((r.d_next as number | null) ?? null) : null,
    }));
  }

  async endpointStats(endpointId: string, since: number | null, until: number | null): Promise<EndpointStats> {
    const rows = this.q('SELECT status, COUNT(*) AS n FROM deliveries WHERE endpoint_id = ? AND created_at >= ? AND created_at < ? GROUP BY status').all(
      endpointId,
      since ?? 0,
      until ?? Number.MAX_SAFE_INTEGER,
    ) as Row[];
    const stats: EndpointStats = { success: 0, pending: 0, fail: 0, sending: 0 };
    for (const r of rows) {
      const n = r.n as number;
      if (r.status === DeliveryStatus.Success) stats.success = n;
      else if (r.status === DeliveryStatus.Pending) stats.pending = n;
      else if (r.status === DeliveryStatus.Fail) stats.fail = n;
      else stats.sending = n;
    }
    return stats;
  }

  async appAttemptStats(appId: string, since: number, until: number, bucketMs: number): Promise<AppAttemptStats> {
    return sqliteAppAttemptStats(this.db, appId, since, until, bucketMs);
  }

  // ---- idempotency

  async getIdempotent(key: string, nowMs: number): Promise<IdempotentResponse | null> {
    const r = this.q('SELECT status, body, content_type FROM idempotency_keys WHERE key = ? AND expires_at > ?').get(key, nowMs) as Row | undefined;
    return r ? { status: r.status as number, body: r.body as string, contentType: r.content_type as string } : null;
  }

  async putIdempotent(key: string, res: IdempotentResponse, expiresAt: number, nowMs: number): Promise<void> {
    this.q('INSERT OR REPLACE INTO idempotency_keys (key, status, body, content_type, expires_at) VALUES (?, ?, ?, ?, ?)').run(
      key,
      res.status,
      res.body,
      res.contentType,
      expiresAt,
    );
    this.q('DELETE FROM idempotency_keys WHERE expires_at <= ?').run(nowMs);
  }

  // ---- operability

  async queueStats(nowMs: number): Promise<QueueStats> {
    const r = this.q(
      `SELECT COALESCE(SUM(next_attempt_at <= @now), 0) AS due,
              COALESCE(SUM(status = ${DeliveryStatus.Pending} AND next_attempt_at > @now), 0) AS scheduled,
              COALESCE(SUM(status = ${DeliveryStatus.Sending} AND next_attempt_at > @now), 0) AS sending,
              MIN(CASE WHEN next_attempt_at <= @now THEN next_attempt_at END) AS oldest
       FROM deliveries WHERE status IN (1, 3)`,
    ).get({ now: nowMs }) as Row;
    return { due: r.due as number, scheduled: r.scheduled as number, sending: r.sending as number, oldestDueAt: (r.oldest as number | null) ?? null };
  }

  async purgeMessagesBefore(cutoffMs: number, limit: number): Promise<number> {
    const bound = idBoundary('message', cutoffMs);
    const pick = this.q(
      `SELECT m.id FROM messages m WHERE m.id < ? AND m.created_at < ?
         AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND d.status IN (1, 3))
       ORDER BY m.id LIMIT ?`,
    );
    const delAttempts = this.q('DELETE FROM attempts WHERE message_id = ?');
    const delDeliveries = this.q('DELETE FROM deliveries WHERE message_id = ?');
    const delMessage = this.q('DELETE FROM messages WHERE id = ?');
    return this.db.transaction((): number => {
      const ids = (pick.all(bound, cutoffMs, limit) as Row[]).map((r) => r.id as string);
      for (const id of ids) {
        delAttempts.run(id);
        delDeliveries.run(id);
        delMessage.run(id);
      }
      return ids.length;
    })();
  }

  // ---- paging

  /** One page of `from` (a table or a parenthesised select) ordered by `key`. */
  private page<T>(from: string, key: string, where: string, args: unknown[], q: PageQuery, defaultOrder: 'ascending' | 'descending', map: (r: Row) => T): Page<T> {
    const b = pageBounds(q, defaultOrder);
    const conds = where ? [where] : [];
    const allArgs = [...args];
    if (b.after !== undefined) {
      conds.push(`${key} ${b.cmp} ?`);
      allArgs.push(b.after);
    }
    const sql = `SELECT * FROM ${from} AS t ${conds.length ? 'WHERE ' + conds.join(' AND ') : ''} ORDER BY ${key} ${b.sqlOrder} LIMIT ?`;
    allArgs.push(q.limit + 1);
    const rows = this.db.prepare(sql).all(...allArgs) as Row[];
    return finishPage(rows, q.limit, b, (r) => r[key] as string, map);
  }
}

/** Runs a write, turning a uniqueness violation into a 409. */
function unique<T>(detail: string, fn: () => T): T {
  try {
    return fn();
  } catch (e: unknown) {
    if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw conflict(detail);
    throw e;
  }
}

function messageFilters(prefix: string, q: MessageQuery): { where: string[]; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  if (q.before !== undefined) {
    where.push(`${prefix}created_at < ?`);
    args.push(q.before);
  }
  if (q.after !== undefined) {
    where.push(`${prefix}created_at > ?`);
    args.push(q.after);
  }
  if (q.eventTypes && q.eventTypes.length > 0) {
    where.push(`${prefix}event_type IN (${q.eventTypes.map(() => '?').join(', ')})`);
    args.push(...q.eventTypes);
  }
  if (q.channel !== undefined) {
    where.push(`EXISTS (SELECT 1 FROM json_each(${prefix}channels) WHERE value = ?)`);
    args.push(q.channel);
  }
  if (q.tag !== undefined) {
    where.push(`EXISTS (SELECT 1 FROM json_each(${prefix}tags) WHERE value = ?)`);
    args.push(q.tag);
  }
  return { where, args };
}

function attemptFilters(q: AttemptQuery): { where: string[]; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  if (q.status !== undefined) {
    where.push('status = ?');
    args.push(q.status);
  }
  if (q.statusCodeClass !== undefined) {
    if (q.statusCodeClass === 0) where.push('response_status_code = 0');
    else {
      where.push('response_status_code >= ? AND response_status_code < ?');
      args.push(q.statusCodeClass, q.statusCodeClass + 100);
    }
  }
  if (q.endpointId !== undefined) {
    where.push('endpoint_id = ?');
    args.push(q.endpointId);
  }
  if (q.before !== undefined) {
    where.push('created_at < ?');
    args.push(q.before);
  }
  if (q.after !== undefined) {
    where.push('created_at > ?');
    args.push(q.after);
  }
  if (q.eventTypes && q.eventTypes.length > 0) {
    where.push(`message_id IN (SELECT id FROM messages WHERE event_type IN (${q.eventTypes.map(() => '?').join(', ')}))`);
    args.push(...q.eventTypes);
  }
  if (q.channel !== undefined) {
    where.push('message_id IN (SELECT m.id FROM messages m, json_each(m.channels) c WHERE c.value = ?)');
    args.push(q.channel);
  }
  return { where, args };
}
