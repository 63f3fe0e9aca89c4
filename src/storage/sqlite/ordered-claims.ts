/**
 * Ordered delivery on SQLite (docs/ordering.md): per endpoint and ordering key, a claim leases
 * only the oldest unfinished delivery, and only while no other delivery of the key is in
 * flight and (policy `pause`) no failed one holds the key. The keys with unfinished
 * deliveries are found by a skip scan of a partial index holding keyed rows only, so claims
 * cost one probe per key and unordered endpoints pay nothing. One writer at a time: a claim
 * never races another.
 */
import { DeliveryStatus } from '../../domain/model.js';
import { orderingOf } from '../../domain/ordering.js';
import type { OrderingConfig } from '../../domain/ordering.js';
import type { CappedClaim } from '../contract/cluster.js';
import type { OrderingStore, PausedKey } from '../contract/ordering.js';
import { keyOfRow } from '../shared/ordering-keys.js';
import { toEndpoint } from '../shared/rows.js';
import type { Row } from '../shared/rows.js';
import { claimedDeliveries } from './claimed-deliveries.js';
import type { SqliteConnection } from './connection.js';
import { BOUND_LIMIT } from './statements.js';

/**
 * For this long after an endpoint's settings change, every claim first gives keys to its
 * deliveries that have none (published before, or by a stale endpoint cache).
 */
export const ASSIGN_WINDOW_MS = 5000;
/** How soon a claim held back by the concurrency cap tries again (completions also retry). */
const CAPPED_RETRY_MS = 500;

/** Ordered delivery on SQLite. */
export class SqliteOrderingStore implements OrderingStore {
  /**
   * Per ordered endpoint: the settings (`updatedAt`) under which this process last gave its
   * deliveries keys, and the highest delivery id there was then.
   */
  private readonly keyed = new Map<string, { updatedAt: number; upTo: number }>();

  constructor(private readonly c: SqliteConnection) {}

  async claimDue(endpointId: string, limit: number, nowMs: number, leaseUntil: number, concurrency: number | null): Promise<CappedClaim | null> {
    return this.c.relaxed(() => this.claimTx(endpointId, limit, nowMs, leaseUntil, concurrency));
  }

  private claimTx(endpointId: string, limit: number, nowMs: number, leaseUntil: number, concurrency: number | null): CappedClaim | null {
    return this.c.db.transaction((): CappedClaim | null => {
      const epRow = this.c.q('SELECT * FROM endpoints WHERE id = ?').get(endpointId) as Row | undefined;
      if (!epRow) return null;
      const endpoint = toEndpoint(epRow, this.c.box);
      const config = orderingOf(endpoint.metadata);
      if (!config) return null;
      if (endpoint.disabled) {
        this.c.q(
          `UPDATE deliveries SET status = ${DeliveryStatus.Fail}, next_attempt_at = NULL, updated_at = ?
           WHERE endpoint_id = ? AND status IN (1, 3) AND next_attempt_at <= ?`,
        ).run(nowMs, endpointId, nowMs);
        return { claims: [], retryInMs: null };
      }
      this.keyNewlyUnkeyed(endpointId, endpoint.updatedAt, config, nowMs);
      let allowed = limit;
      if (concurrency !== null) {
        const live = this.c.q('SELECT count(*) AS n FROM deliveries WHERE endpoint_id = ? AND status = 3 AND next_attempt_at > ?').get(endpointId, nowMs) as Row;
        allowed = Math.max(0, Math.min(limit, concurrency - (live.n as number)));
        if (allowed === 0) return { claims: [], retryInMs: CAPPED_RETRY_MS };
      }
      const heads = this.c.q(
        `WITH RECURSIVE k(key) AS (
           SELECT (SELECT ordering_key FROM deliveries WHERE endpoint_id = :ep AND ordering_key IS NOT NULL AND status IN (1, 3) ORDER BY ordering_key LIMIT 1)
           UNION ALL
           SELECT (SELECT ordering_key FROM deliveries WHERE endpoint_id = :ep AND ordering_key IS NOT NULL AND status IN (1, 3) AND ordering_key > k.key
                   ORDER BY ordering_key LIMIT 1)
           FROM k WHERE k.key IS NOT NULL),
         heads AS (
           SELECT k.key, (SELECT id FROM deliveries WHERE endpoint_id = :ep AND ordering_key = k.key AND ordering_key IS NOT NULL AND status IN (1, 3)
                          ORDER BY ordering_seq LIMIT 1) AS id
           FROM k WHERE k.key IS NOT NULL)
         SELECT d.id FROM heads h JOIN deliveries d ON d.id = h.id
         WHERE d.next_attempt_at <= :now
           AND NOT EXISTS (SELECT 1 FROM deliveries s WHERE s.endpoint_id = :ep AND s.ordering_key = h.key AND s.ordering_key IS NOT NULL
                           AND s.status = 3 AND s.id <> d.id AND s.next_attempt_at > :now)
           AND (:pause = 0 OR NOT EXISTS (
                 SELECT 1 FROM deliveries f WHERE f.endpoint_id = :ep AND f.ordering_key = h.key AND f.ordering_key IS NOT NULL
                 AND f.status = 2 AND f.ordering_released = 0 AND f.ordering_seq < d.ordering_seq))
         ORDER BY d.next_attempt_at LIMIT :limit`,
      ).all({ ep: endpointId, now: nowMs, pause: config.policy === 'pause' ? 1 : 0, limit: allowed }) as Row[];
      const lease = this.c.q(
        `UPDATE deliveries SET status = ${DeliveryStatus.Sending}, next_attempt_at = ?, lease_token = lease_token + 1, updated_at = ?, ordering_released = 0
         WHERE id = ? RETURNING id, lease_token, attempts, trigger, message_id, ordering_key`,
      );
      const rows = heads.map((h) => lease.get(leaseUntil, nowMs, h.id) as Row);
      const capped = allowed < limit && rows.length === allowed;
      return { claims: claimedDeliveries(this.c, rows, endpoint), retryInMs: capped ? CAPPED_RETRY_MS : null };
    })();
  }

  async assignKeys(endpointId: string, config: OrderingConfig): Promise<void> {
    this.c.db.transaction(() => this.keyUnkeyed(endpointId, config))();
  }

  /**
   * Before a claim: gives keys to the deliveries that may lack one. All of the endpoint's the
   * first time and after its settings change; then, while the change is recent (a publish by
   * a stale endpoint cache), only deliveries inserted since the last pass. SQLite has one
   * writer and gives a new row the highest id yet plus one, so those are the rows above the
   * highest id of the last pass, read by a range of the table's own key instead of every
   * unfinished delivery of the endpoint. Resend and recovery key what they reopen themselves
   * (`assignKeys`).
   */
  private keyNewlyUnkeyed(endpointId: string, updatedAt: number, config: OrderingConfig, nowMs: number): void {
    const last = this.keyed.get(endpointId);
    if (last && last.updatedAt === updatedAt && nowMs - updatedAt >= ASSIGN_WINDOW_MS) return;
    const upTo = (this.c.q('SELECT max(id) AS id FROM deliveries').get() as Row).id as number | null;
    this.keyUnkeyed(endpointId, config, last && last.updatedAt === updatedAt ? last.upTo : null);
    this.keyed.set(endpointId, { updatedAt, upTo: upTo ?? 0 });
  }

  /** Gives the endpoint's unfinished deliveries without a key (above id `after`, if given) their key and position. */
  private keyUnkeyed(endpointId: string, config: OrderingConfig, after: number | null = null): void {
    const rows = (
      after === null
        ? this.c.q(
            `SELECT d.id, m.seq, m.payload, m.tags, m.ordering_key FROM deliveries d JOIN messages m ON m.id = d.message_id
             WHERE d.endpoint_id = ? AND d.status IN (1, 3) AND d.ordering_key IS NULL`,
          ).all(endpointId)
        : // NOT INDEXED: the range of ids is read from the table's own b-tree, not every open row of the endpoint.
          this.c.q(
            `SELECT d.id, m.seq, m.payload, m.tags, m.ordering_key FROM deliveries d NOT INDEXED JOIN messages m ON m.id = d.message_id
             WHERE d.id > ? AND d.endpoint_id = ? AND d.status IN (1, 3) AND d.ordering_key IS NULL`,
          ).all(after, endpointId)
    ) as Row[];
    const set = this.c.q('UPDATE deliveries SET ordering_key = ?, ordering_seq = ? WHERE id = ?');
    for (const r of rows) set.run(keyOfRow(config, r), r.seq, r.id);
  }

  async pausedKeys(endpointId: string, limit: number): Promise<PausedKey[]> {
    // The bare columns come from the row of MIN(ordering_seq): the oldest failed delivery.
    const rows = this.c.q(
      `SELECT ordering_key, message_id, updated_at, MIN(ordering_seq) FROM deliveries
       WHERE endpoint_id = ? AND ordering_key IS NOT NULL AND status = 2 AND ordering_released = 0
       GROUP BY ordering_key ORDER BY ordering_key ${BOUND_LIMIT}`,
    ).all(endpointId, limit) as Row[];
    return rows.map((r) => ({ key: r.ordering_key as string, messageId: r.message_id as string, pausedAt: r.updated_at as number }));
  }

  async resume(endpointId: string, key: string): Promise<number> {
    return this.c.q(
      `UPDATE deliveries SET ordering_released = 1
       WHERE endpoint_id = ? AND ordering_key = ? AND ordering_key IS NOT NULL AND status = 2 AND ordering_released = 0`,
    ).run(endpointId, key).changes;
  }

  async addDeliveries(endpointId: string, appId: string, config: OrderingConfig, messageIds: string[], nowMs: number): Promise<number> {
    const get = this.c.q('SELECT id, seq, payload, tags, ordering_key FROM messages WHERE id = ? AND app_id = ?');
    const insert = this.c.q(
      `INSERT INTO deliveries (message_id, endpoint_id, app_id, status, attempts, next_attempt_at, lease_token, trigger, created_at, updated_at, ordering_key, ordering_seq)
       VALUES (?, ?, ?, ${DeliveryStatus.Pending}, 0, ?, 0, 1, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    return this.c.db.transaction(() => {
      let n = 0;
      for (const id of messageIds) {
        const m = get.get(id, appId) as Row | undefined;
        if (m) n += insert.run(id, endpointId, appId, nowMs, nowMs, nowMs, keyOfRow(config, m), m.seq).changes;
      }
      return n;
    })();
  }
}
