/**
 * The delivery queue on SQLite: claims lease due deliveries (bumping a lease token that fences
 * late attempts), attempts settle them, leases are given back, and deliveries are scheduled
 * again. One writer at a time, so a claim never races another on this database.
 */
import type { Statement } from 'better-sqlite3';
import { DeliveryStatus, TriggerType } from '../../domain/model.js';
import type { Message } from '../../domain/model.js';
import type { AttemptRecord, ClaimedDelivery, LeaseRef, QueueStore, RecordedAttempts } from '../contract/queue.js';
import { toEndpoint, toMessage } from '../shared/rows.js';
import type { Row } from '../shared/rows.js';
import { claimedDeliveries } from './claimed-deliveries.js';
import type { SqliteConnection } from './connection.js';
import { BOUND_LIMIT } from './statements.js';

/** Fails the endpoint's deliveries that are waiting (not in flight): it is disabled. */
export function failWaiting(c: SqliteConnection, endpointId: string, nowMs: number): void {
  c.q(`UPDATE deliveries SET status = ${DeliveryStatus.Fail}, next_attempt_at = NULL, updated_at = ? WHERE endpoint_id = ? AND status = ${DeliveryStatus.Pending}`).run(
    nowMs,
    endpointId,
  );
}

/** The delivery queue on SQLite. */
export class SqliteQueueStore implements QueueStore {
  constructor(private readonly c: SqliteConnection) {}

  async claimDue(endpointId: string, limit: number, nowMs: number, leaseUntil: number): Promise<ClaimedDelivery[]> {
    return this.c.relaxed(() => this.claimDueTx(endpointId, limit, nowMs, leaseUntil));
  }

  private claimDueTx(endpointId: string, limit: number, nowMs: number, leaseUntil: number): ClaimedDelivery[] {
    return this.c.db.transaction((): ClaimedDelivery[] => {
      const epRow = this.c.q('SELECT * FROM endpoints WHERE id = ?').get(endpointId) as Row | undefined;
      if (!epRow) return [];
      const endpoint = toEndpoint(epRow, this.c.box);
      if (endpoint.disabled) {
        this.c.q(
          `UPDATE deliveries SET status = ${DeliveryStatus.Fail}, next_attempt_at = NULL, updated_at = ?
           WHERE endpoint_id = ? AND status IN (1, 3) AND next_attempt_at <= ?`,
        ).run(nowMs, endpointId, nowMs);
        return [];
      }
      const rows = this.c.q(
        `UPDATE deliveries SET status = ${DeliveryStatus.Sending}, next_attempt_at = ?, lease_token = lease_token + 1, updated_at = ?
         WHERE id IN (SELECT id FROM deliveries WHERE endpoint_id = ? AND status IN (1, 3) AND next_attempt_at <= ?
                      ORDER BY next_attempt_at ${BOUND_LIMIT})
         RETURNING id, lease_token, attempts, trigger, message_id`,
      ).all(leaseUntil, nowMs, endpointId, nowMs, limit) as Row[];
      return claimedDeliveries(this.c, rows, endpoint);
    })();
  }

  async loadClaimed(refs: LeaseRef[]): Promise<ClaimedDelivery[]> {
    const out: ClaimedDelivery[] = [];
    const byEndpoint = new Map<string, Row[]>();
    const get = this.c.q('SELECT id, lease_token, attempts, trigger, message_id, endpoint_id FROM deliveries WHERE id = ? AND lease_token = ?');
    for (const ref of refs) {
      const r = get.get(ref.deliveryId, ref.leaseToken) as Row | undefined;
      if (!r) continue;
      const list = byEndpoint.get(r.endpoint_id as string) ?? [];
      list.push(r);
      byEndpoint.set(r.endpoint_id as string, list);
    }
    for (const [endpointId, rows] of byEndpoint) {
      const epRow = this.c.q('SELECT * FROM endpoints WHERE id = ?').get(endpointId) as Row | undefined;
      if (epRow) out.push(...claimedDeliveries(this.c, rows, toEndpoint(epRow, this.c.box)));
    }
    return out;
  }

  async dueEndpoints(nowMs: number, limit: number, afterEndpointId = ''): Promise<string[]> {
    const rows = this.c.q(
      `SELECT e.id FROM endpoints e WHERE e.id > ? AND EXISTS (
         SELECT 1 FROM deliveries d WHERE d.endpoint_id = e.id AND d.status IN (1, 3) AND d.next_attempt_at <= ?)
       ORDER BY e.id ${BOUND_LIMIT}`,
    ).all(afterEndpointId, nowMs, limit) as Row[];
    return rows.map((r) => r.id as string);
  }

  async nextDueAt(afterMs: number): Promise<number | null> {
    const r = this.c.q('SELECT MIN(next_attempt_at) AS t FROM deliveries WHERE status IN (1, 3) AND next_attempt_at > ?').get(afterMs) as Row;
    return (r.t as number | null) ?? null;
  }

  async recordAttempts(records: AttemptRecord[]): Promise<RecordedAttempts> {
    const insert = this.c.q(
      `INSERT INTO attempts (id, message_id, endpoint_id, app_id, url, status, response_status_code, response, duration_ms, trigger, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // The hot path is this one UPDATE, as if resends did not exist. It changes nothing when the
    // lease is stale or a resend was requested during the attempt; only then does `resent` run,
    // which serves the request instead of the state asked for: pending, due now, manual.
    // (A RETURNING clause would say which case applies, but costs about a microsecond per row.)
    const update = this.c.q('UPDATE deliveries SET status = ?, next_attempt_at = ?, attempts = attempts + 1, updated_at = ? WHERE id = ? AND lease_token = ? AND resend_requested = 0');
    const resent = this.c.q(
      `UPDATE deliveries SET status = ${DeliveryStatus.Pending}, next_attempt_at = ?, trigger = ${TriggerType.Manual}, resend_requested = 0, attempts = attempts + 1, updated_at = ?
       WHERE id = ? AND lease_token = ? AND resend_requested <> 0`,
    );
    const ok = this.c.q('UPDATE endpoints SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL');
    const failing = this.c.q('UPDATE endpoints SET failing_since = ? WHERE id = ? AND failing_since IS NULL');
    const disable = this.c.q('UPDATE endpoints SET disabled = 1, updated_at = ? WHERE id = ?');
    return this.c.relaxed(() => this.recordAttemptsTx(records, { insert, update, resent, ok, failing, disable }));
  }

  private recordAttemptsTx(records: AttemptRecord[], st: Record<'insert' | 'update' | 'resent' | 'ok' | 'failing' | 'disable', Statement>): RecordedAttempts {
    return this.c.db.transaction((): RecordedAttempts => {
      const resent: number[] = [];
      for (const [i, rec] of records.entries()) {
        const a = rec.attempt;
        st.insert.run(a.id, a.messageId, a.endpointId, a.appId, a.url, a.status, a.responseStatusCode, a.response, a.responseDurationMs, a.triggerType, a.createdAt);
        const next = rec.next.status === DeliveryStatus.Pending ? rec.next.at : null;
        if (st.update.run(rec.next.status, next, a.createdAt, rec.deliveryId, rec.leaseToken).changes === 0) {
          if (st.resent.run(a.createdAt, a.createdAt, rec.deliveryId, rec.leaseToken).changes === 0) continue; // a newer lease owns this delivery now
          resent.push(i);
        }
        if (a.status === DeliveryStatus.Success) st.ok.run(a.endpointId);
        else st.failing.run(a.createdAt, a.endpointId);
        if (rec.disableEndpoint) {
          st.disable.run(a.createdAt, a.endpointId);
          failWaiting(this.c, a.endpointId, a.createdAt);
        }
      }
      return { resent };
    })();
  }

  async releaseAllLeases(nowMs: number): Promise<number> {
    return this.c.q(`UPDATE deliveries SET status = ${DeliveryStatus.Pending}, next_attempt_at = ? WHERE status = ${DeliveryStatus.Sending}`).run(nowMs).changes;
  }

  async releaseLeases(refs: LeaseRef[], nowMs: number): Promise<void> {
    const stmt = this.c.q(`UPDATE deliveries SET status = ${DeliveryStatus.Pending}, next_attempt_at = ? WHERE id = ? AND lease_token = ? AND status = ${DeliveryStatus.Sending}`);
    this.c.db.transaction(() => {
      for (const r of refs) stmt.run(nowMs, r.deliveryId, r.leaseToken);
    })();
  }

  // ---- scheduling again (manual triggers, recovery, replay)

  async resend(messageId: string, endpointId: string, appId: string, nowMs: number): Promise<void> {
    // One statement, so the attempt in flight cannot be recorded between a check and a write:
    // a delivery being sent keeps its lease and gets the request flagged; any other is due now.
    this.c.q(
      `INSERT INTO deliveries (message_id, endpoint_id, app_id, status, attempts, next_attempt_at, lease_token, trigger, created_at, updated_at)
       VALUES (?, ?, ?, ${DeliveryStatus.Pending}, 0, ?, 0, ${TriggerType.Manual}, ?, ?)
       ON CONFLICT (message_id, endpoint_id) DO UPDATE SET
         status = CASE WHEN deliveries.status = ${DeliveryStatus.Sending} THEN deliveries.status ELSE ${DeliveryStatus.Pending} END,
         next_attempt_at = CASE WHEN deliveries.status = ${DeliveryStatus.Sending} THEN deliveries.next_attempt_at ELSE excluded.next_attempt_at END,
         trigger = CASE WHEN deliveries.status = ${DeliveryStatus.Sending} THEN deliveries.trigger ELSE ${TriggerType.Manual} END,
         resend_requested = deliveries.status = ${DeliveryStatus.Sending},
         updated_at = excluded.updated_at`,
    ).run(messageId, endpointId, appId, nowMs, nowMs, nowMs);
  }

  async recoverFailed(endpointId: string, since: number, until: number | null, nowMs: number): Promise<number> {
    return this.c.q(
      `UPDATE deliveries SET status = ${DeliveryStatus.Pending}, next_attempt_at = ?, trigger = ${TriggerType.Manual}, resend_requested = 0, updated_at = ?
       WHERE endpoint_id = ? AND status = ${DeliveryStatus.Fail} AND created_at >= ? AND created_at < ?`,
    ).run(nowMs, nowMs, endpointId, since, until ?? Number.MAX_SAFE_INTEGER).changes;
  }

  async messagesWithoutDelivery(appId: string, endpointId: string, since: number, until: number | null): Promise<Message[]> {
    const rows = this.c.q(
      `SELECT m.* FROM messages m WHERE m.app_id = ? AND m.created_at >= ? AND m.created_at < ?
         AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND d.endpoint_id = ?)
       ORDER BY m.id`,
    ).all(appId, since, until ?? Number.MAX_SAFE_INTEGER, endpointId) as Row[];
    return rows.map(toMessage);
  }

  async addDeliveries(endpointId: string, appId: string, messageIds: string[], nowMs: number): Promise<number> {
    const stmt = this.c.q(
      `INSERT INTO deliveries (message_id, endpoint_id, app_id, status, attempts, next_attempt_at, lease_token, trigger, created_at, updated_at)
       VALUES (?, ?, ?, ${DeliveryStatus.Pending}, 0, ?, 0, 1, ?, ?) ON CONFLICT DO NOTHING`,
    );
    return this.c.db.transaction(() => {
      let n = 0;
      for (const id of messageIds) n += stmt.run(id, endpointId, appId, nowMs, nowMs, nowMs).changes;
      return n;
    })();
  }
}
