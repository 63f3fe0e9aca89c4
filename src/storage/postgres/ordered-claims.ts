/**
 * Ordered delivery on PostgreSQL (docs/ordering.md): per endpoint and ordering key, a claim
 * leases only the oldest unfinished delivery, and only while no other delivery of the key is
 * in flight on any node and (policy `pause`) no failed one holds the key. Ordered claims of
 * one endpoint take a transaction-scoped advisory lock, so across nodes they run one at a
 * time and each sees every lease the previous one committed. The keys with unfinished
 * deliveries are found by a skip scan of a partial index holding keyed rows only.
 */
import type { PendingQuery, TransactionSql } from 'postgres';
import { DeliveryStatus } from '../../domain/model.js';
import type { HeaderStyle } from '../../domain/model.js';
import { orderingOf } from '../../domain/ordering.js';
import type { OrderingConfig } from '../../domain/ordering.js';
import type { CappedClaim } from '../contract/cluster.js';
import type { OrderingStore, PausedKey } from '../contract/ordering.js';
import { keyOfRow } from '../shared/ordering-keys.js';
import type { PgConnection } from './connection.js';
import { appOfEndpoint } from './app-keys.js';
import { liveLeases } from './claims.js';
import { claimedDelivery, toEndpoint } from './rows.js';
import type { Row } from './rows.js';
import { jsonParam } from './text.js';

/**
 * For this long after an endpoint's settings change, every claim first gives keys to its
 * deliveries that have none (published before, or by a node whose endpoint cache was stale).
 */
export const ASSIGN_WINDOW_MS = 5000;
/** How soon a claim held back by the cross-node concurrency cap tries again (completions also retry). */
const CAPPED_RETRY_MS = 500;

/** Ordered delivery on PostgreSQL. */
export class PgOrderingStore implements OrderingStore {
  /** Ordered endpoints whose unkeyed deliveries this node has keyed once. */
  private readonly keyed = new Set<string>();

  constructor(private readonly c: PgConnection) {}

  async claimDue(endpointId: string, limit: number, nowMs: number, leaseUntil: number, concurrency: number | null): Promise<CappedClaim | null> {
    return this.c.sql.begin((tx) => this.claimIn(tx, endpointId, limit, nowMs, leaseUntil, concurrency));
  }

  private async claimIn(tx: TransactionSql, endpointId: string, limit: number, nowMs: number, leaseUntil: number, concurrency: number | null): Promise<CappedClaim | null> {
    // Sent at once and run in order: the lock first, then reads that see what it waited for.
    const [, [epRow], [live]] = await Promise.all([
      tx`SELECT pg_advisory_xact_lock(hashtextextended(${'switchboard.ordered:' + endpointId}, 0))`,
      tx`SELECT e.*, a.header_style AS a_header_style FROM endpoints e LEFT JOIN applications a ON a.id = e.app_id WHERE e.id = ${endpointId}`,
      concurrency !== null
        ? tx`SELECT ${liveLeases(tx, appOfEndpoint(tx, endpointId), endpointId, nowMs, this.c.endedRequests())}::int AS n`
        : [{ n: 0 }],
    ]);
    if (!epRow) return null;
    const endpoint = toEndpoint(epRow, this.c.box);
    const app = endpoint.appId;
    const config = orderingOf(endpoint.metadata);
    if (!config) return null;
    if (endpoint.disabled) {
      await tx`UPDATE deliveries SET status = ${DeliveryStatus.Fail}, next_attempt_at = NULL, updated_at = ${nowMs}
               WHERE app_id = ${app} AND endpoint_id = ${endpointId} AND status IN (1, 3) AND next_attempt_at <= ${nowMs}`;
      return { claims: [], retryInMs: null };
    }
    if (!this.keyed.has(endpointId) || nowMs - endpoint.updatedAt < ASSIGN_WINDOW_MS) {
      await keyUnkeyed(tx, app, endpointId, config);
      this.keyed.add(endpointId);
    }
    const allowed = concurrency === null ? limit : Math.max(0, Math.min(limit, concurrency - Number(live?.n ?? 0)));
    if (allowed === 0) return { claims: [], retryInMs: CAPPED_RETRY_MS };
    const pause = config.policy === 'pause';
    const rows = await tx`
      WITH RECURSIVE k(key) AS (
        (SELECT ordering_key FROM deliveries WHERE app_id = ${app} AND endpoint_id = ${endpointId} AND ordering_key IS NOT NULL AND status IN (1, 3) ORDER BY ordering_key LIMIT 1)
        UNION ALL
        SELECT (SELECT d.ordering_key FROM deliveries d WHERE d.app_id = ${app} AND d.endpoint_id = ${endpointId} AND d.ordering_key IS NOT NULL AND d.status IN (1, 3)
                AND d.ordering_key > k.key ORDER BY d.ordering_key LIMIT 1)
        FROM k WHERE k.key IS NOT NULL),
      heads AS (
        SELECT k.key, (SELECT id FROM deliveries WHERE app_id = ${app} AND endpoint_id = ${endpointId} AND ordering_key = k.key AND status IN (1, 3)
                       ORDER BY ordering_seq LIMIT 1) AS id
        FROM k WHERE k.key IS NOT NULL),
      pick AS (
        SELECT d.id FROM heads h JOIN deliveries d ON d.app_id = ${app} AND d.id = h.id
        WHERE d.next_attempt_at <= ${nowMs}
          AND NOT EXISTS (SELECT 1 FROM deliveries s WHERE s.app_id = ${app} AND s.endpoint_id = ${endpointId} AND s.ordering_key = h.key AND s.status = 3
                          AND s.id <> d.id AND s.next_attempt_at > ${nowMs})
          AND (NOT ${pause}::boolean OR NOT EXISTS (
                SELECT 1 FROM deliveries f WHERE f.app_id = ${app} AND f.endpoint_id = ${endpointId} AND f.ordering_key = h.key AND f.status = 2
                AND NOT f.ordering_released AND f.ordering_seq < d.ordering_seq))
        ORDER BY d.next_attempt_at LIMIT ${allowed}),
      c AS (
        UPDATE deliveries SET status = ${DeliveryStatus.Sending}, next_attempt_at = ${leaseUntil}, lease_token = lease_token + 1,
          updated_at = ${nowMs}, ordering_released = FALSE
        FROM pick WHERE deliveries.app_id = ${app} AND deliveries.id = pick.id
        RETURNING deliveries.id AS d_id, lease_token AS d_lease_token, attempts AS d_attempts, trigger AS d_trigger,
                  message_id AS d_message_id, deliveries.app_id AS d_app_id, deliveries.ordering_key AS d_ordering_key, next_attempt_at AS d_at)
      SELECT c.*, m.* FROM c JOIN messages m ON m.app_id = c.d_app_id AND m.id = c.d_message_id ORDER BY c.d_id`;
    const headerStyle = (epRow.a_header_style as HeaderStyle | null) ?? 'standard';
    const claims = rows.map((r) => claimedDelivery(r, endpoint, headerStyle));
    const capped = concurrency !== null && allowed < limit && rows.length === allowed;
    return { claims, retryInMs: capped ? CAPPED_RETRY_MS : null };
  }

  async assignKeys(endpointId: string, config: OrderingConfig): Promise<void> {
    await this.c.sql.begin((tx) => keyUnkeyed(tx, appOfEndpoint(tx, endpointId), endpointId, config));
  }

  async pausedKeys(endpointId: string, limit: number): Promise<PausedKey[]> {
    const app = appOfEndpoint(this.c.sql, endpointId);
    const rows = await this.c.sql`
      SELECT DISTINCT ON (ordering_key) ordering_key, message_id, updated_at FROM deliveries
      WHERE app_id = ${app} AND endpoint_id = ${endpointId} AND ordering_key IS NOT NULL AND status = 2 AND NOT ordering_released
      ORDER BY ordering_key, ordering_seq LIMIT ${limit}`;
    return rows.map((r) => ({ key: r.ordering_key as string, messageId: r.message_id as string, pausedAt: r.updated_at as number }));
  }

  async resume(endpointId: string, key: string): Promise<number> {
    const app = appOfEndpoint(this.c.sql, endpointId);
    const r = await this.c.sql`
      UPDATE deliveries SET ordering_released = TRUE
      WHERE app_id = ${app} AND endpoint_id = ${endpointId} AND ordering_key = ${key} AND status = 2 AND NOT ordering_released`;
    return r.count;
  }

  async addDeliveries(endpointId: string, appId: string, config: OrderingConfig, messageIds: string[], nowMs: number): Promise<number> {
    if (messageIds.length === 0) return 0;
    return this.c.sql.begin(async (tx) => {
      const msgs = await tx`SELECT id, seq, payload, tags, ordering_key FROM messages WHERE id = ANY(${messageIds}::text[]) AND app_id = ${appId}`;
      const rows = msgs.map((m) => ({ message_id: m.id as string, key: keyOfRow(config, m), seq: m.seq as number }));
      if (rows.length === 0) return 0;
      const r = await tx`
        INSERT INTO deliveries (message_id, endpoint_id, app_id, status, attempts, next_attempt_at, lease_token, trigger, created_at, updated_at, ordering_key, ordering_seq)
        SELECT x.message_id, ${endpointId}, ${appId}, ${DeliveryStatus.Pending}, 0, ${nowMs}, 0, 1, ${nowMs}, ${nowMs}, x.key, x.seq
        FROM json_to_recordset(${jsonParam(rows)}::text::json) AS x(message_id text, key text, seq bigint)
        ORDER BY x.seq
        ON CONFLICT DO NOTHING`;
      if (r.count > 0) await this.c.notify(tx, [{ kind: 'due', endpointIds: [endpointId] }]);
      return r.count;
    });
  }
}

/** Gives the endpoint's unfinished deliveries without a key their key and position. */
async function keyUnkeyed(tx: TransactionSql, app: string | PendingQuery<Row[]>, endpointId: string, config: OrderingConfig): Promise<void> {
  const rows = await tx`
    SELECT d.id, d.app_id, m.seq, m.payload, m.tags, m.ordering_key FROM deliveries d JOIN messages m ON m.app_id = d.app_id AND m.id = d.message_id
    WHERE d.app_id = ${app} AND d.endpoint_id = ${endpointId} AND d.status IN (1, 3) AND d.ordering_key IS NULL`;
  if (rows.length === 0) return;
  const keys = rows.map((r) => ({ id: r.id as number, key: keyOfRow(config, r), seq: r.seq as number }));
  await tx`UPDATE deliveries d SET ordering_key = x.key, ordering_seq = x.seq
           FROM json_to_recordset(${jsonParam(keys)}::text::json) AS x(id bigint, key text, seq bigint) WHERE d.app_id = ${rows[0]!.app_id as string} AND d.id = x.id`;
}

