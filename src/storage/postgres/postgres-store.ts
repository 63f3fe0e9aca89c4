/**
 * The Store contract on PostgreSQL (the `postgres` driver), shared by any number of
 * nodes. Deliveries are claimed with `FOR UPDATE SKIP LOCKED` leases fenced by a lease
 * token; writes that other nodes must react to queue a cluster notice (`pg_notify`) in
 * their transaction, so it is sent at commit and only then.
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import type { Sql, TransactionSql } from 'postgres';
import { conflict } from '../../domain/errors.js';
import { idBoundary } from '../../domain/ids.js';
import { SecretBox } from '../../security/crypto.js';
import type { AppAttemptStats } from '../contract/app-stats.js';
import { DeliveryStatus } from '../../domain/model.js';
import type { Application, Attempt, Endpoint, EventType, Message, TriggerType } from '../../domain/model.js';
import type { CappedClaim, ClusterNotice, ClusterStore } from '../contract/cluster.js';
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
import { pgAppAttemptStats } from './app-stats.js';
import { PgAuthStore } from './auth.js';
import { PgIngestStore } from './ingest.js';
import { PgOperationalWebhookStore } from './operational-webhooks.js';
import { PgPullStore } from './pull.js';
import { claimIn, refill } from './claims.js';
import { runMigrations } from './migrator.js';
import { CHANNEL, decodeNotices, encodeNotices } from './notices.js';
import { decodeText, encodeText, jsonParam } from './text.js';
import { endpointValues, json, toApp, toAttempt, toEndpoint, toEventType, toMessage } from './rows.js';
import type { Row } from './rows.js';

export interface PostgresOptions {
  /** `postgres://user:password@host:port/database`; query parameters such as `search_path` are passed to the server. */
  url: string;
  /** Schema holding the tables (sets `search_path`); by default the URL's or the server's. */
  schema?: string | undefined;
  /** Most connections in the pool (one more is opened for notices). */
  max?: number | undefined;
  /** Seals endpoint secrets and headers at rest; plaintext without one. */
  box?: SecretBox | undefined;
  /** Most deliveries of one endpoint in flight at once, over all nodes, when leased at publish time. */
  endpointConcurrency?: number | undefined;
}

/** Collects positional parameters for dynamic SQL. */
class Params {
  readonly values: unknown[] = [];
  /** Adds a value; returns its placeholder. */
  add(v: unknown): string {
    this.values.push(v);
    return '$' + this.values.length;
  }
}

const MAX_TIME = Number.MAX_SAFE_INTEGER;

export class PostgresStore implements Store {
  readonly sql: Sql;
  readonly cluster: ClusterStore;
  readonly nodeId = randomBytes(9).toString('base64url');
  private readonly endpointConcurrency: number;
  /** Seals secrets at rest; other tables holding secrets use it too. */
  readonly box: SecretBox;
  readonly operationalWebhooks: PgOperationalWebhookStore;
  readonly pull: PgPullStore;
  readonly auth: PgAuthStore;
  readonly ingest: PgIngestStore;
  private closed = false;

  constructor(opts: PostgresOptions) {
    this.sql = postgres(opts.url, {
      max: opts.max ?? 10,
      onnotice: () => {},
      // BIGINT columns hold milliseconds and counters, all below 2^53.
      types: {
        int8: { to: 20, from: [20], serialize: (v: number) => String(v), parse: (v: string) => Number(v) },
        text: { to: 25, from: [25], serialize: encodeText, parse: decodeText },
      },
      connection: { application_name: 'switchboard', ...(opts.schema ? { search_path: opts.schema } : {}) },
    });
    this.cluster = {
      nodeId: this.nodeId,
      claimDueCapped: (endpointId, limit, nowMs, leaseUntil, concurrency) => this.claimDueCapped(endpointId, limit, nowMs, leaseUntil, concurrency),
      listen: (onNotice, onConnected) => this.listen(onNotice, onConnected),
      getMessages: (ids) => this.getMessages(ids),
    };
    this.box = opts.box ?? SecretBox.plaintext();
    this.endpointConcurrency = opts.endpointConcurrency ?? 20;
    this.operationalWebhooks = new PgOperationalWebhookStore(this.sql, this.box);
    this.pull = new PgPullStore(this.sql, this.box);
    this.auth = new PgAuthStore(this.sql, this.box);
    this.ingest = new PgIngestStore(this.sql, this.box);
  }

  async migrate(): Promise<void> {
    await runMigrations(this.sql);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.sql.end({ timeout: 5 });
  }

  async ping(): Promise<void> {
    await this.sql`SELECT 1`;
  }

  /** Queues notices to be sent when `tx` commits. */
  private async notify(tx: TransactionSql, notices: ClusterNotice[]): Promise<void> {
    for (const p of encodeNotices(this.nodeId, notices)) await tx`SELECT pg_notify(${CHANNEL}, ${p})`;
  }

  private async listen(onNotice: (n: ClusterNotice) => void, onConnected?: () => void): Promise<void> {
    let first = true;
    await this.sql.listen(
      CHANNEL,
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

  // ---- applications

  async createApplication(a: Application): Promise<void> {
    await unique('an application with this uid already exists', () => this.sql`
      INSERT INTO applications (id, uid, name, throttle_rate, metadata, header_style, created_at, updated_at)
      VALUES (${a.id}, ${a.uid}, ${a.name}, ${a.throttleRate}, ${JSON.stringify(a.metadata)}, ${a.headerStyle}, ${a.createdAt}, ${a.updatedAt})`);
  }

  async getApplication(idOrUid: string): Promise<Application | null> {
    const [r] = await this.sql`SELECT * FROM applications WHERE id = ${idOrUid} UNION ALL SELECT * FROM applications WHERE uid = ${idOrUid} LIMIT 1`;
    return r ? toApp(r) : null;
  }

  async listApplications(q: PageQuery): Promise<Page<Application>> {
    return this.page('applications', 'id', () => [], q, 'ascending', toApp);
  }

  async updateApplication(a: Application): Promise<void> {
    await unique('an application with this uid already exists', () => this.sql`
      UPDATE applications SET uid = ${a.uid}, name = ${a.name}, throttle_rate = ${a.throttleRate}, metadata = ${JSON.stringify(a.metadata)},
        header_style = ${a.headerStyle}, updated_at = ${a.updatedAt} WHERE id = ${a.id}`);
  }

  async deleteApplication(id: string): Promise<void> {
    await this.sql.begin(async (tx) => {
      await tx`DELETE FROM endpoint_limits WHERE endpoint_id IN (SELECT id FROM endpoints WHERE app_id = ${id})`;
      for (const t of ['attempts', 'deliveries', 'messages', 'endpoints']) await tx`DELETE FROM ${tx(t)} WHERE app_id = ${id}`;
      await tx`DELETE FROM applications WHERE id = ${id}`;
      await this.notify(tx, [{ kind: 'endpoints-changed', appId: id }]);
    });
  }

  // ---- event types

  async createEventType(e: EventType): Promise<void> {
    await unique('an event type with this name already exists', () => this.sql`
      INSERT INTO event_types (name, description, archived, deprecated, feature_flag, schemas, created_at, updated_at)
      VALUES (${e.name}, ${e.description}, ${e.archived}, ${e.deprecated}, ${e.featureFlag}, ${json(e.schemas)}, ${e.createdAt}, ${e.updatedAt})`);
  }

  async getEventType(name: string): Promise<EventType | null> {
    const [r] = await this.sql`SELECT * FROM event_types WHERE name = ${name}`;
    return r ? toEventType(r) : null;
  }

  async listEventTypes(q: PageQuery & { includeArchived: boolean }): Promise<Page<EventType>> {
    return this.page('event_types', 'name', () => (q.includeArchived ? [] : ['NOT archived']), q, 'ascending', toEventType);
  }

  async updateEventType(e: EventType): Promise<void> {
    await this.sql`UPDATE event_types SET description = ${e.description}, archived = ${e.archived}, deprecated = ${e.deprecated},
      feature_flag = ${e.featureFlag}, schemas = ${json(e.schemas)}, updated_at = ${e.updatedAt} WHERE name = ${e.name}`;
  }

  async deleteEventType(name: string): Promise<void> {
    await this.sql`DELETE FROM event_types WHERE name = ${name}`;
  }

  // ---- endpoints

  async createEndpoint(e: Endpoint): Promise<void> {
    await unique('an endpoint with this uid already exists', () =>
      this.sql.begin(async (tx) => {
        await tx`INSERT INTO endpoints ${tx(endpointValues(e, this.box))}`;
        await tx`INSERT INTO endpoint_limits (endpoint_id, tokens, updated_at) VALUES (${e.id}, -1, ${e.createdAt}) ON CONFLICT DO NOTHING`;
        await this.notify(tx, [{ kind: 'endpoints-changed', appId: e.appId }]);
      }),
    );
  }

  async getEndpoint(appId: string, idOrUid: string): Promise<Endpoint | null> {
    const [r] = await this.sql`SELECT * FROM endpoints WHERE id = ${idOrUid} AND app_id = ${appId}
      UNION ALL SELECT * FROM endpoints WHERE app_id = ${appId} AND uid = ${idOrUid} LIMIT 1`;
    return r ? toEndpoint(r, this.box) : null;
  }

  async listEndpoints(appId: string, q: PageQuery): Promise<Page<Endpoint>> {
    return this.page('endpoints', 'id', (p) => [`app_id = ${p.add(appId)}`], q, 'ascending', (r) => toEndpoint(r, this.box));
  }

  async allEndpoints(appId: string): Promise<Endpoint[]> {
    return (await this.sql`SELECT * FROM endpoints WHERE app_id = ${appId} ORDER BY id`).map((r) => toEndpoint(r, this.box));
  }

  async updateEndpoint(e: Endpoint): Promise<void> {
    const v = endpointValues(e, this.box);
    await unique('an endpoint with this uid already exists', () =>
      this.sql.begin(async (tx) => {
        await tx`UPDATE endpoints SET ${tx(v, 'uid', 'url', 'description', 'disabled', 'event_types', 'channels', 'throttle_rate', 'metadata', 'headers', 'secrets', 'failing_since', 'updated_at', 'filter', 'transformation')}
                 WHERE id = ${e.id} AND app_id = ${e.appId}`;
        if (e.disabled) await failWaiting(tx, e.id, e.updatedAt);
        await this.notify(tx, [{ kind: 'endpoints-changed', appId: e.appId }]);
      }),
    );
  }

  async deleteEndpoint(appId: string, id: string): Promise<void> {
    await this.sql.begin(async (tx) => {
      await tx`DELETE FROM attempts WHERE endpoint_id = ${id} AND app_id = ${appId}`;
      await tx`DELETE FROM deliveries WHERE endpoint_id = ${id} AND app_id = ${appId}`;
      const gone = await tx`DELETE FROM endpoints WHERE id = ${id} AND app_id = ${appId}`;
      if (gone.count > 0) await tx`DELETE FROM endpoint_limits WHERE endpoint_id = ${id}`;
      await this.notify(tx, [{ kind: 'endpoints-changed', appId }]);
    });
  }

  // ---- messages

  async publish(items: PublishItem[]): Promise<PublishResult[]> {
    if (items.length === 0) return [];
    const msgRows = items.map(({ message: m }, i) => ({
      i,
      id: m.id,
      app_id: m.appId,
      event_type: m.eventType,
      event_id: m.eventId,
      channels: m.channels,
      tags: m.tags,
      payload: m.payload,
      created_at: m.createdAt,
    }));
    const { wanted, now } = leaseRequests(items);
    const leaseIds = [...wanted.keys()].sort();
    return this.sql.begin(async (tx) => {
      // Sent at once and run in order: the endpoints' limit rows are locked (every publisher and
      // claimer locks them in id order, so they queue and never deadlock), their live leases are
      // counted after the locks in a new snapshot, then the position counter is locked.
      const [, live, [ctr]] = await Promise.all([
        leaseIds.length > 0 ? tx`SELECT endpoint_id FROM endpoint_limits WHERE endpoint_id = ANY(${leaseIds}::text[]) ORDER BY endpoint_id FOR UPDATE` : null,
        leaseIds.length > 0
          ? tx`SELECT e.id, e.disabled, e.throttle_rate, l.tokens, l.updated_at,
                 (SELECT count(*) FROM deliveries d WHERE d.endpoint_id = e.id AND d.status = 3 AND d.next_attempt_at > ${now}) AS live
               FROM endpoints e JOIN endpoint_limits l ON l.endpoint_id = e.id WHERE e.id = ANY(${leaseIds}::text[])`
          : [],
        // Positions are numbered under this lock, held until commit: they become visible in
        // commit order on every node.
        tx`SELECT last FROM pull_sequence WHERE id = 1 FOR UPDATE`,
      ]);
      const { granted, buckets } = this.grant(items, wanted, live, now);
      const delRows: Row[] = [];
      items.forEach(({ message: m, deliveries }, i) => {
        deliveries.forEach((d, j) => {
          const leased = granted.has(`${i} ${j}`);
          delRows.push({
            message_id: m.id,
            endpoint_id: d.endpointId,
            app_id: m.appId,
            status: leased ? DeliveryStatus.Sending : DeliveryStatus.Pending,
            next_attempt_at: leased ? d.leaseUntil : m.createdAt,
            lease_token: leased ? 1 : 0,
            created_at: m.createdAt,
          });
        });
      });
      // Sent for every item: a notice of an item refused as a duplicate names a message that does
      // not exist, which receivers skip, and sending them with the insert saves a round trip.
      const notices: ClusterNotice[] = items.map(({ message: m, deliveries }, i) => ({
        kind: 'published',
        appId: m.appId,
        messageId: m.id,
        endpointIds: deliveries.filter((_d, j) => !granted.has(`${i} ${j}`)).map((d) => d.endpointId),
      }));
      const base = (ctr?.last as number | undefined) ?? 0;
      // This statement's snapshot, taken under the counter lock, sees every earlier publish.
      const [rows] = await Promise.all([
        tx`
        WITH x AS (
          SELECT * FROM json_to_recordset(${jsonParam(msgRows)}::text::json)
            AS x(i int, id text, app_id text, event_type text, event_id text, channels jsonb, tags jsonb, payload text, created_at bigint)),
        fresh AS (
          -- Of items sharing an eventId, in the batch or already stored, only the first is new.
          SELECT DISTINCT ON (x.app_id, COALESCE(x.event_id, x.id)) x.* FROM x
          WHERE x.event_id IS NULL OR NOT EXISTS (SELECT 1 FROM messages m WHERE m.app_id = x.app_id AND m.event_id = x.event_id)
          ORDER BY x.app_id, COALESCE(x.event_id, x.id), x.i),
        numbered AS (SELECT f.*, ${base}::bigint + row_number() OVER (ORDER BY f.i) AS seq FROM fresh f),
        ins AS (
          INSERT INTO messages (id, app_id, event_type, event_id, channels, tags, payload, created_at, seq)
          SELECT id, app_id, event_type, event_id, channels, tags, payload, created_at, seq FROM numbered ORDER BY seq
          ON CONFLICT DO NOTHING RETURNING id, seq),
        d AS (
          INSERT INTO deliveries (message_id, endpoint_id, app_id, status, attempts, next_attempt_at, lease_token, trigger, created_at, updated_at)
          SELECT y.message_id, y.endpoint_id, y.app_id, y.status, 0, y.next_attempt_at, y.lease_token, 0, y.created_at, y.created_at
          FROM json_to_recordset(${jsonParam(delRows)}::text::json)
            AS y(message_id text, endpoint_id text, app_id text, status smallint, next_attempt_at bigint, lease_token bigint, created_at bigint)
          JOIN ins ON ins.id = y.message_id
          RETURNING id, message_id, endpoint_id),
        c AS (UPDATE pull_sequence SET last = GREATEST(last, (SELECT MAX(seq) FROM ins)) WHERE id = 1 AND EXISTS (SELECT 1 FROM ins))
        SELECT 'm' AS k, id AS message_id, NULL::bigint AS delivery_id, NULL::text AS endpoint_id FROM ins
        UNION ALL SELECT 'd', message_id, id, endpoint_id FROM d`,
        this.notify(tx, notices),
        buckets.length > 0
          ? tx`UPDATE endpoint_limits l SET tokens = b.tokens, updated_at = GREATEST(l.updated_at, b.at)
               FROM json_to_recordset(${jsonParam(buckets)}::text::json) AS b(endpoint_id text, tokens float8, at bigint)
               WHERE l.endpoint_id = b.endpoint_id`
          : null,
      ]);
      const created = new Set<string>();
      const ids = new Map<string, number>();
      for (const r of rows) {
        if (r.k === 'm') created.add(r.message_id as string);
        else ids.set(`${r.message_id as string} ${r.endpoint_id as string}`, r.delivery_id as number);
      }
      const results: PublishResult[] = [];
      for (const [i, { message: m, deliveries }] of items.entries()) {
        if (!created.has(m.id)) {
          const [existing] = await tx`SELECT id FROM messages WHERE app_id = ${m.appId} AND event_id = ${m.eventId}`;
          results.push({ kind: 'duplicate-event-id', existingId: (existing?.id as string | undefined) ?? '' });
          continue;
        }
        results.push({
          kind: 'created',
          deliveries: deliveries.map((d, j) => ({
            endpointId: d.endpointId,
            deliveryId: ids.get(`${m.id} ${d.endpointId}`) ?? 0,
            leaseToken: granted.has(`${i} ${j}`) ? 1 : 0,
          })),
        });
      }
      return results;
    });
  }

  /**
   * Grants the leases a publish asks for (the publishing node sends those deliveries at once,
   * without a claim) within each endpoint's concurrency cap and rate limit, counted across all
   * nodes from `rows` read under the limit rows' locks. Returns the "item delivery" index
   * pairs granted and the buckets' new states.
   */
  private grant(items: PublishItem[], wanted: Map<string, number>, rows: readonly Row[], now: number): { granted: Set<string>; buckets: Row[] } {
    const allowance = new Map<string, number>();
    const buckets: Row[] = [];
    for (const r of rows) {
      if (r.disabled === true) continue;
      const id = r.id as string;
      let n = Math.min(wanted.get(id) ?? 0, this.endpointConcurrency - (r.live as number));
      const rate = (r.throttle_rate as number | null) ?? 0;
      if (rate > 0) {
        const tokens = refill(r.tokens as number, r.updated_at as number, now, rate);
        n = Math.min(n, Math.floor(tokens));
        if (n > 0) buckets.push({ endpoint_id: id, tokens: tokens - n, at: now });
      }
      allowance.set(id, Math.max(0, n));
    }
    const granted = new Set<string>();
    items.forEach(({ deliveries }, i) =>
      deliveries.forEach((d, j) => {
        const left = allowance.get(d.endpointId) ?? 0;
        if (d.leaseUntil === null || left < 1) return;
        allowance.set(d.endpointId, left - 1);
        granted.add(`${i} ${j}`);
      }),
    );
    return { granted, buckets };
  }

  async getMessage(appId: string, idOrEventId: string): Promise<Message | null> {
    const [r] = await this.sql`SELECT * FROM messages WHERE id = ${idOrEventId} AND app_id = ${appId}
      UNION ALL SELECT * FROM messages WHERE app_id = ${appId} AND event_id = ${idOrEventId} LIMIT 1`;
    return r ? toMessage(r) : null;
  }

  /** Messages by id, in id order (for notices from other nodes). */
  async getMessages(ids: string[]): Promise<Message[]> {
    if (ids.length === 0) return [];
    return (await this.sql`SELECT * FROM messages WHERE id = ANY(${ids}::text[]) ORDER BY id`).map(toMessage);
  }

  async listMessages(appId: string, q: MessageQuery): Promise<Page<Message>> {
    return this.page('messages', 'id', (p) => [`app_id = ${p.add(appId)}`, ...messageFilters(p, q)], q, 'descending', toMessage);
  }

  async expungeMessageContent(appId: string, id: string): Promise<void> {
    await this.sql`UPDATE messages SET payload = NULL WHERE app_id = ${appId} AND id = ${id}`;
  }

  // ---- the delivery queue

  async claimDue(endpointId: string, limit: number, nowMs: number, leaseUntil: number): Promise<ClaimedDelivery[]> {
    const r = await this.sql.begin((tx) => claimIn(tx, endpointId, limit, nowMs, leaseUntil, null, this.box));
    return r.claims;
  }

  /** A claim within the endpoint's concurrency cap and rate limit, both counted across nodes. */
  async claimDueCapped(endpointId: string, limit: number, nowMs: number, leaseUntil: number, concurrency: number): Promise<CappedClaim> {
    return this.sql.begin((tx) => claimIn(tx, endpointId, limit, nowMs, leaseUntil, { concurrency }, this.box));
  }

  async loadClaimed(refs: { deliveryId: number; leaseToken: number }[]): Promise<ClaimedDelivery[]> {
    if (refs.length === 0) return [];
    const rows = await this.sql`
      SELECT d.id AS d_id, d.lease_token AS d_lease_token, d.attempts AS d_attempts, d.trigger AS d_trigger, d.endpoint_id AS d_endpoint_id, m.*
      FROM json_to_recordset(${jsonParam(refs)}::text::json) AS r("deliveryId" bigint, "leaseToken" bigint)
      JOIN deliveries d ON d.id = r."deliveryId" AND d.lease_token = r."leaseToken"
      JOIN messages m ON m.id = d.message_id
      ORDER BY d.id`;
    if (rows.length === 0) return [];
    const epIds = [...new Set(rows.map((r) => r.d_endpoint_id as string))];
    const eps = await this.sql`SELECT e.*, a.header_style AS a_header_style FROM endpoints e LEFT JOIN applications a ON a.id = e.app_id WHERE e.id = ANY(${epIds}::text[])`;
    const byId = new Map(eps.map((r) => [r.id as string, r]));
    const out: ClaimedDelivery[] = [];
    for (const r of rows) {
      const ep = byId.get(r.d_endpoint_id as string);
      if (!ep) continue;
      const endpoint = toEndpoint(ep, this.box);
      out.push({
        deliveryId: r.d_id as number,
        leaseToken: r.d_lease_token as number,
        attempts: r.d_attempts as number,
        trigger: r.d_trigger as TriggerType,
        message: toMessage(r),
        endpoint,
        app: { id: endpoint.appId, headerStyle: (ep.a_header_style as Application['headerStyle'] | null) ?? 'standard' },
      });
    }
    return out;
  }

  async dueEndpoints(nowMs: number, limit: number): Promise<string[]> {
    // A skip scan over the endpoints that have open deliveries (one index probe each), then
    // one probe per endpoint for a due one: never a walk over a long backlog.
    const rows = await this.sql`
      WITH RECURSIVE open(endpoint_id) AS (
        (SELECT endpoint_id FROM deliveries WHERE status IN (1, 3) ORDER BY endpoint_id LIMIT 1)
        UNION ALL
        SELECT (SELECT d.endpoint_id FROM deliveries d WHERE d.status IN (1, 3) AND d.endpoint_id > open.endpoint_id ORDER BY d.endpoint_id LIMIT 1)
        FROM open WHERE open.endpoint_id IS NOT NULL)
      SELECT endpoint_id FROM open
      WHERE endpoint_id IS NOT NULL
        AND EXISTS (SELECT 1 FROM deliveries d WHERE d.endpoint_id = open.endpoint_id AND d.status IN (1, 3) AND d.next_attempt_at <= ${nowMs})
      LIMIT ${limit}`;
    return rows.map((r) => r.endpoint_id as string);
  }

  async nextDueAt(): Promise<number | null> {
    const [r] = await this.sql`SELECT MIN(next_attempt_at) AS t FROM deliveries WHERE status IN (1, 3)`;
    return (r?.t as number | null | undefined) ?? null;
  }

  async recordAttempts(records: AttemptRecord[]): Promise<void> {
    if (records.length === 0) return;
    const attempts = records.map(({ attempt: a }) => ({
      id: a.id,
      message_id: a.messageId,
      endpoint_id: a.endpointId,
      app_id: a.appId,
      url: a.url,
      status: a.status,
      response_status_code: a.responseStatusCode,
      response: a.response,
      duration_ms: a.responseDurationMs,
      trigger: a.triggerType,
      created_at: a.createdAt,
    }));
    const updates = records.map((r, i) => ({
      i,
      id: r.deliveryId,
      token: r.leaseToken,
      status: r.next.status,
      next: r.next.status === DeliveryStatus.Pending ? r.next.at : null,
      at: r.attempt.createdAt,
    }));
    await this.sql.begin(async (tx) => {
      // Both statements are sent at once.
      const [, fresh] = await Promise.all([
        tx`
        INSERT INTO attempts (id, message_id, endpoint_id, app_id, url, status, response_status_code, response, duration_ms, trigger, created_at)
        SELECT * FROM json_to_recordset(${jsonParam(attempts)}::text::json)
          AS x(id text, message_id text, endpoint_id text, app_id text, url text, status smallint, response_status_code int, response text,
               duration_ms int, trigger smallint, created_at bigint)`,
        // Fencing: only the lease that is current changes the delivery; a stale one's attempt stays on record.
        tx`
        UPDATE deliveries d SET status = u.status, next_attempt_at = u.next, attempts = d.attempts + 1, updated_at = u.at
        FROM json_to_recordset(${jsonParam(updates)}::text::json) AS u(i int, id bigint, token bigint, status smallint, next bigint, at bigint)
        WHERE d.id = u.id AND d.lease_token = u.token
        RETURNING u.i`,
      ]);
      const freshIdx = new Set(fresh.map((r) => r.i as number));
      await this.applyEndpointOutcomes(
        tx,
        records.filter((_, i) => freshIdx.has(i)),
      );
    });
  }

  /** Updates `failing_since` and disables endpoints, as recording the attempts one by one would. */
  private async applyEndpointOutcomes(tx: TransactionSql, records: AttemptRecord[]): Promise<void> {
    // Per endpoint: success clears failing_since; a failure sets it if unset. In order, that is:
    // after the last success, the first failure (or null); with no success, keep or set the first failure.
    const byEndpoint = new Map<string, { sawOk: boolean; firstFailAfter: number | null }>();
    const disable = new Map<string, number>();
    for (const rec of records) {
      const a = rec.attempt;
      let s = byEndpoint.get(a.endpointId);
      if (!s) byEndpoint.set(a.endpointId, (s = { sawOk: false, firstFailAfter: null }));
      if (a.status === DeliveryStatus.Success) {
        s.sawOk = true;
        s.firstFailAfter = null;
      } else if (s.firstFailAfter === null) s.firstFailAfter = a.createdAt;
      if (rec.disableEndpoint && !disable.has(a.endpointId)) disable.set(a.endpointId, a.createdAt);
    }
    // Sent at once; they run in the order issued.
    const writes: Promise<unknown>[] = [];
    for (const [id, s] of byEndpoint) {
      if (s.sawOk) {
        writes.push(tx`UPDATE endpoints SET failing_since = ${s.firstFailAfter} WHERE id = ${id} AND failing_since IS DISTINCT FROM ${s.firstFailAfter}::bigint`);
      } else if (s.firstFailAfter !== null) {
        writes.push(tx`UPDATE endpoints SET failing_since = ${s.firstFailAfter} WHERE id = ${id} AND failing_since IS NULL`);
      }
    }
    for (const [id, at] of disable) {
      writes.push(tx`UPDATE endpoints SET disabled = TRUE, updated_at = ${at} WHERE id = ${id}`);
      writes.push(failWaiting(tx, id, at));
    }
    await Promise.all(writes);
  }

  async releaseAllLeases(nowMs: number): Promise<number> {
    const r = await this.sql`UPDATE deliveries SET status = ${DeliveryStatus.Pending}, next_attempt_at = ${nowMs} WHERE status = ${DeliveryStatus.Sending}`;
    return r.count;
  }

  async releaseLeases(refs: { deliveryId: number; leaseToken: number }[], nowMs: number): Promise<void> {
    if (refs.length === 0) return;
    await this.sql.begin(async (tx) => {
      const released = await tx`
        UPDATE deliveries d SET status = ${DeliveryStatus.Pending}, next_attempt_at = ${nowMs}
        FROM json_to_recordset(${jsonParam(refs)}::text::json) AS r("deliveryId" bigint, "leaseToken" bigint)
        WHERE d.id = r."deliveryId" AND d.lease_token = r."leaseToken" AND d.status = ${DeliveryStatus.Sending}
        RETURNING d.endpoint_id`;
      await this.notifyDue(tx, released.map((r) => r.endpoint_id as string));
    });
  }

  private async notifyDue(tx: TransactionSql, endpointIds: string[]): Promise<void> {
    const ids = [...new Set(endpointIds)];
    if (ids.length > 0) await this.notify(tx, [{ kind: 'due', endpointIds: ids }]);
  }

  // ---- manual triggers

  async resend(messageId: string, endpointId: string, appId: string, nowMs: number): Promise<void> {
    await this.sql.begin(async (tx) => {
      await tx`
        INSERT INTO deliveries (message_id, endpoint_id, app_id, status, attempts, next_attempt_at, lease_token, trigger, created_at, updated_at)
        VALUES (${messageId}, ${endpointId}, ${appId}, ${DeliveryStatus.Pending}, 0, ${nowMs}, 0, 1, ${nowMs}, ${nowMs})
        ON CONFLICT (message_id, endpoint_id) DO UPDATE SET status = ${DeliveryStatus.Pending}, next_attempt_at = EXCLUDED.next_attempt_at,
          trigger = 1, updated_at = EXCLUDED.updated_at
        WHERE deliveries.status <> ${DeliveryStatus.Sending}`;
      await this.notifyDue(tx, [endpointId]);
    });
  }

  async recoverFailed(endpointId: string, since: number, until: number | null, nowMs: number): Promise<number> {
    return this.sql.begin(async (tx) => {
      const r = await tx`
        UPDATE deliveries SET status = ${DeliveryStatus.Pending}, next_attempt_at = ${nowMs}, trigger = 1, updated_at = ${nowMs}
        WHERE endpoint_id = ${endpointId} AND status = ${DeliveryStatus.Fail} AND created_at >= ${since} AND created_at < ${until ?? MAX_TIME}`;
      if (r.count > 0) await this.notifyDue(tx, [endpointId]);
      return r.count;
    });
  }

  async messagesWithoutDelivery(appId: string, endpointId: string, since: number, until: number | null): Promise<Message[]> {
    const rows = await this.sql`
      SELECT m.* FROM messages m WHERE m.app_id = ${appId} AND m.created_at >= ${since} AND m.created_at < ${until ?? MAX_TIME}
        AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND d.endpoint_id = ${endpointId})
      ORDER BY m.id`;
    return rows.map(toMessage);
  }

  async addDeliveries(endpointId: string, appId: string, messageIds: string[], nowMs: number): Promise<number> {
    if (messageIds.length === 0) return 0;
    return this.sql.begin(async (tx) => {
      const r = await tx`
        INSERT INTO deliveries (message_id, endpoint_id, app_id, status, attempts, next_attempt_at, lease_token, trigger, created_at, updated_at)
        SELECT id, ${endpointId}, ${appId}, ${DeliveryStatus.Pending}, 0, ${nowMs}, 0, 1, ${nowMs}, ${nowMs} FROM unnest(${messageIds}::text[]) AS id
        ON CONFLICT DO NOTHING`;
      if (r.count > 0) await this.notifyDue(tx, [endpointId]);
      return r.count;
    });
  }

  // ---- attempts and views

  async listAttemptsByMessage(appId: string, messageId: string, q: AttemptQuery): Promise<Page<Attempt>> {
    return this.page('attempts', 'id', (p) => [`app_id = ${p.add(appId)}`, `message_id = ${p.add(messageId)}`, ...attemptFilters(p, q)], q, 'descending', toAttempt);
  }

  async listAttemptsByEndpoint(appId: string, endpointId: string, q: AttemptQuery): Promise<Page<Attempt>> {
    return this.page('attempts', 'id', (p) => [`app_id = ${p.add(appId)}`, `endpoint_id = ${p.add(endpointId)}`, ...attemptFilters(p, q)], q, 'descending', toAttempt);
  }

  async getAttempt(appId: string, messageId: string, attemptId: string): Promise<Attempt | null> {
    const [r] = await this.sql`SELECT * FROM attempts WHERE app_id = ${appId} AND message_id = ${messageId} AND id = ${attemptId}`;
    return r ? toAttempt(r) : null;
  }

  async expungeAttemptContent(appId: string, messageId: string, attemptId: string): Promise<void> {
    await this.sql`UPDATE attempts SET response = '' WHERE app_id = ${appId} AND message_id = ${messageId} AND id = ${attemptId}`;
  }

  async listMessageDestinations(
    appId: string,
    messageId: string,
    q: PageQuery,
  ): Promise<Page<{ endpoint: Endpoint; status: DeliveryStatus; nextAttemptAt: number | null }>> {
    return this.page(
      (p) => `(SELECT e.*, d.status AS d_status, d.next_attempt_at AS d_next FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id
               WHERE d.app_id = ${p.add(appId)} AND d.message_id = ${p.add(messageId)})`,
      'id',
      () => [],
      q,
      'ascending',
      (r) => ({
        endpoint: toEndpoint(r, this.box),
        status: r.d_status as DeliveryStatus,
        nextAttemptAt: r.d_status === DeliveryStatus.Pending ? ((r.d_next as number | null) ?? null) : null,
      }),
    );
  }

  async listEndpointMessages(
    appId: string,
    endpointId: string,
    q: MessageQuery & { status?: DeliveryStatus | undefined },
  ): Promise<Page<{ message: Message; status: DeliveryStatus; nextAttemptAt: number | null }>> {
    return this.page(
      (p) => `(SELECT m.*, d.status AS d_status, d.next_attempt_at AS d_next FROM deliveries d JOIN messages m ON m.id = d.message_id
               WHERE d.app_id = ${p.add(appId)} AND d.endpoint_id = ${p.add(endpointId)})`,
      'id',
      (p) => [...messageFilters(p, q), ...(q.status !== undefined ? [`d_status = ${p.add(q.status)}`] : [])],
      q,
      'descending',
      (r) => ({
        message: toMessage(r),
        status: r.d_status as DeliveryStatus,
        nextAttemptAt: r.d_status === DeliveryStatus.Pending ? ((r.d_next as number | null) ?? null) : null,
      }),
    );
  }

  async endpointStats(endpointId: string, since: number | null, until: number | null): Promise<EndpointStats> {
    const rows = await this.sql`SELECT status, COUNT(*) AS n FROM deliveries
      WHERE endpoint_id = ${endpointId} AND created_at >= ${since ?? 0} AND created_at < ${until ?? MAX_TIME} GROUP BY status`;
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

  // ---- idempotency

  async getIdempotent(key: string, nowMs: number): Promise<IdempotentResponse | null> {
    const [r] = await this.sql`SELECT status, body, content_type FROM idempotency_keys WHERE key = ${key} AND expires_at > ${nowMs}`;
    return r ? { status: r.status as number, body: r.body as string, contentType: r.content_type as string } : null;
  }

  async putIdempotent(key: string, res: IdempotentResponse, expiresAt: number, nowMs: number): Promise<void> {
    await this.sql`
      INSERT INTO idempotency_keys (key, status, body, content_type, expires_at) VALUES (${key}, ${res.status}, ${res.body}, ${res.contentType}, ${expiresAt})
      ON CONFLICT (key) DO UPDATE SET status = EXCLUDED.status, body = EXCLUDED.body, content_type = EXCLUDED.content_type, expires_at = EXCLUDED.expires_at`;
    await this.sql`DELETE FROM idempotency_keys WHERE expires_at <= ${nowMs}`;
  }

  async appAttemptStats(appId: string, since: number, until: number, bucketMs: number): Promise<AppAttemptStats> {
    return pgAppAttemptStats(this.sql, appId, since, until, bucketMs);
  }

  // ---- operability

  async queueStats(nowMs: number): Promise<QueueStats> {
    const [r] = await this.sql`
      SELECT COUNT(*) FILTER (WHERE next_attempt_at <= ${nowMs}) AS due,
             COUNT(*) FILTER (WHERE status = ${DeliveryStatus.Pending} AND next_attempt_at > ${nowMs}) AS scheduled,
             COUNT(*) FILTER (WHERE status = ${DeliveryStatus.Sending} AND next_attempt_at > ${nowMs}) AS sending,
             MIN(next_attempt_at) FILTER (WHERE next_attempt_at <= ${nowMs}) AS oldest
      FROM deliveries WHERE status IN (1, 3)`;
    return { due: (r?.due as number) ?? 0, scheduled: (r?.scheduled as number) ?? 0, sending: (r?.sending as number) ?? 0, oldestDueAt: (r?.oldest as number | null) ?? null };
  }

  async purgeMessagesBefore(cutoffMs: number, limit: number): Promise<number> {
    // Message ids begin with their creation time: the oldest are a primary-key range scan.
    // Rows of a concurrent purge on another node are skipped, never waited for.
    const bound = idBoundary('message', cutoffMs);
    return this.sql.begin(async (tx) => {
      const picked = await tx`
        SELECT m.id FROM messages m WHERE m.id < ${bound} AND m.created_at < ${cutoffMs}
          AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND d.status IN (1, 3))
        ORDER BY m.id LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
      const ids = picked.map((r) => r.id as string);
      if (ids.length === 0) return 0;
      await tx`DELETE FROM attempts WHERE message_id = ANY(${ids}::text[])`;
      await tx`DELETE FROM deliveries WHERE message_id = ANY(${ids}::text[])`;
      await tx`DELETE FROM messages WHERE id = ANY(${ids}::text[])`;
      return ids.length;
    });
  }

  // ---- paging

  /** One page of `from` (a table, or a parenthesised select built with the same parameters) ordered by `key`. */
  private async page<T>(
    from: string | ((p: Params) => string),
    key: string,
    where: (p: Params) => string[],
    q: PageQuery,
    defaultOrder: 'ascending' | 'descending',
    map: (r: Row) => T,
  ): Promise<Page<T>> {
    const b = pageBounds(q, defaultOrder);
    const p = new Params();
    const source = typeof from === 'string' ? from : from(p);
    const conds = where(p);
    if (b.after !== undefined) conds.push(`t.${key} ${b.cmp} ${p.add(b.after)}`);
    const text = `SELECT * FROM ${source} AS t ${conds.length ? 'WHERE ' + conds.join(' AND ') : ''} ORDER BY t.${key} ${b.sqlOrder} LIMIT ${p.add(q.limit + 1)}`;
    const rows = (await this.sql.unsafe(text, p.values as never[], { prepare: true })) as Row[];
    return finishPage(rows, q.limit, b, (r) => r[key] as string, map);
  }
}

/** Leases asked for at publish time, per endpoint, and the publish time. */
function leaseRequests(items: PublishItem[]): { wanted: Map<string, number>; now: number } {
  const wanted = new Map<string, number>();
  let now = 0;
  for (const { message: m, deliveries } of items) {
    now = Math.max(now, m.createdAt);
    for (const d of deliveries) if (d.leaseUntil !== null) wanted.set(d.endpointId, (wanted.get(d.endpointId) ?? 0) + 1);
  }
  return { wanted, now };
}

/** Fails the endpoint's deliveries that are waiting (not in flight): it is disabled. */
async function failWaiting(tx: TransactionSql, endpointId: string, nowMs: number): Promise<void> {
  await tx`UPDATE deliveries SET status = ${DeliveryStatus.Fail}, next_attempt_at = NULL, updated_at = ${nowMs}
           WHERE endpoint_id = ${endpointId} AND status = ${DeliveryStatus.Pending}`;
}

/** Runs a write, turning a uniqueness violation into a 409. */
async function unique<T>(detail: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e: unknown) {
    if ((e as { code?: string }).code === '23505') throw conflict(detail);
    throw e;
  }
}

function messageFilters(p: Params, q: MessageQuery): string[] {
  const where: string[] = [];
  if (q.before !== undefined) where.push(`created_at < ${p.add(q.before)}`);
  if (q.after !== undefined) where.push(`created_at > ${p.add(q.after)}`);
  if (q.eventTypes && q.eventTypes.length > 0) where.push(`event_type = ANY(${p.add(q.eventTypes)}::text[])`);
  if (q.channel !== undefined) where.push(`channels @> jsonb_build_array(${p.add(q.channel)}::text)`);
  if (q.tag !== undefined) where.push(`tags @> jsonb_build_array(${p.add(q.tag)}::text)`);
  return where;
}

function attemptFilters(p: Params, q: AttemptQuery): string[] {
  const where: string[] = [];
  if (q.status !== undefined) where.push(`status = ${p.add(q.status)}`);
  if (q.statusCodeClass !== undefined) {
    if (q.statusCodeClass === 0) where.push('response_status_code = 0');
    else where.push(`response_status_code >= ${p.add(q.statusCodeClass)} AND response_status_code < ${p.add(q.statusCodeClass + 100)}`);
  }
  if (q.endpointId !== undefined) where.push(`endpoint_id = ${p.add(q.endpointId)}`);
  if (q.before !== undefined) where.push(`created_at < ${p.add(q.before)}`);
  if (q.after !== undefined) where.push(`created_at > ${p.add(q.after)}`);
  if (q.eventTypes && q.eventTypes.length > 0) {
    where.push(`EXISTS (SELECT 1 FROM messages m WHERE m.id = t.message_id AND m.event_type = ANY(${p.add(q.eventTypes)}::text[]))`);
  }
  if (q.channel !== undefined) {
    where.push(`EXISTS (SELECT 1 FROM messages m WHERE m.id = t.message_id AND m.channels @> jsonb_build_array(${p.add(q.channel)}::text))`);
  }
  return where;
}
