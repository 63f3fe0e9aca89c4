/**
 * The delivery queue on PostgreSQL: claims lease due deliveries with `FOR UPDATE SKIP LOCKED`
 * (claims.ts), attempts settle them in one batch per transaction, fenced by the lease token,
 * leases are given back, and deliveries are scheduled again. Writes that make deliveries due
 * tell the other nodes at commit.
 */
import type { PendingQuery, TransactionSql } from 'postgres';
import { DeliveryStatus, TriggerType } from '../../domain/model.js';
import type { Application, Message } from '../../domain/model.js';
import type { CappedClaim } from '../contract/cluster.js';
import type { AttemptRecord, ClaimedDelivery, LeaseRef, QueueStore, RecordedAttempts } from '../contract/queue.js';
import { appOfEndpoint } from './app-keys.js';
import { claimIn, quickClaimIn } from './claims.js';
import type { PgConnection } from './connection.js';
import { claimedDelivery, toEndpoint, toMessage } from './rows.js';
import type { Row } from './rows.js';
import { jsonParam } from './text.js';

/** Latest time a range left open at its end stands for. */
const MAX_TIME = Number.MAX_SAFE_INTEGER;

/** Fails the endpoint's deliveries that are waiting (not in flight): it is disabled. */
export async function failWaiting(tx: TransactionSql, appId: string, endpointId: string, nowMs: number): Promise<void> {
  await tx`UPDATE deliveries SET status = ${DeliveryStatus.Fail}, next_attempt_at = NULL, updated_at = ${nowMs}
           WHERE app_id = ${appId} AND endpoint_id = ${endpointId} AND status = ${DeliveryStatus.Pending}`;
}

/** How long an endpoint whose claim needed the full path keeps taking it. */
const FULL_CLAIMS_FOR_MS = 10_000;
/** Most endpoints remembered so (the memory is dropped past that). */
const FULL_CLAIMS_REMEMBERED = 10_000;

/** The delivery queue on PostgreSQL. */
export class PgQueueStore implements QueueStore {
  constructor(private readonly c: PgConnection) {}

  async claimDue(endpointId: string, limit: number, nowMs: number, leaseUntil: number): Promise<ClaimedDelivery[]> {
    const r = await this.c.transaction((tx, commit) => claimIn(tx, commit, { endpointId, limit, nowMs, leaseUntil }, null, this.c));
    return r.claims;
  }

  /**
   * Endpoints whose last claim could not take the quick path (rate-limited, disabled, without
   * a limits row), until when their claims go straight to the full one. Only a shortcut: both
   * paths claim the same; a wrong guess costs a round trip.
   */
  private readonly fullClaimsUntil = new Map<string, number>();

  /** A claim within the endpoint's concurrency cap and rate limit, both counted across nodes. */
  async claimDueCapped(endpointId: string, limit: number, nowMs: number, leaseUntil: number, concurrency: number): Promise<CappedClaim> {
    const ask = { endpointId, limit, nowMs, leaseUntil };
    if ((this.fullClaimsUntil.get(endpointId) ?? 0) <= nowMs) {
      const quick = await this.c.transaction((tx, commit) => quickClaimIn(tx, commit, ask, concurrency, this.c));
      if (quick !== null) return quick;
      if (this.fullClaimsUntil.size >= FULL_CLAIMS_REMEMBERED) this.fullClaimsUntil.clear();
      this.fullClaimsUntil.set(endpointId, nowMs + FULL_CLAIMS_FOR_MS);
    }
    return this.c.transaction((tx, commit) => claimIn(tx, commit, ask, { concurrency }, this.c));
  }

  async loadClaimed(refs: LeaseRef[]): Promise<ClaimedDelivery[]> {
    if (refs.length === 0) return [];
    const rows = await this.c.sql`
      SELECT d.id AS d_id, d.lease_token AS d_lease_token, d.attempts AS d_attempts, d.trigger AS d_trigger, d.endpoint_id AS d_endpoint_id, m.*
      FROM json_to_recordset(${jsonParam(refs)}::text::json) AS r("appId" text, "deliveryId" bigint, "leaseToken" bigint)
      JOIN deliveries d ON d.app_id = r."appId" AND d.id = r."deliveryId" AND d.lease_token = r."leaseToken"
      JOIN messages m ON m.app_id = d.app_id AND m.id = d.message_id
      ORDER BY d.id`;
    if (rows.length === 0) return [];
    const epIds = [...new Set(rows.map((r) => r.d_endpoint_id as string))];
    const eps = await this.c.sql`SELECT e.*, a.header_style AS a_header_style FROM endpoints e LEFT JOIN applications a ON a.id = e.app_id WHERE e.id = ANY(${epIds}::text[])`;
    const byId = new Map(eps.map((r) => [r.id as string, r]));
    const out: ClaimedDelivery[] = [];
    for (const r of rows) {
      const ep = byId.get(r.d_endpoint_id as string);
      if (!ep) continue;
      const endpoint = toEndpoint(ep, this.c.box);
      out.push(claimedDelivery(r, endpoint, (ep.a_header_style as Application['headerStyle'] | null) ?? 'standard'));
    }
    return out;
  }

  async dueEndpoints(nowMs: number, limit: number, afterEndpointId = ''): Promise<string[]> {
    // A skip scan over the endpoints that have open deliveries (one index probe each, in
    // ascending id order), then one probe per endpoint for its earliest (a lateral join: an
    // EXISTS would be planned as a join over every due row): never a walk over a long backlog.
    const rows = await this.c.sql`
      WITH RECURSIVE open(endpoint_id) AS (
        (SELECT endpoint_id FROM deliveries WHERE status IN (1, 3) AND endpoint_id > ${afterEndpointId} ORDER BY endpoint_id LIMIT 1)
        UNION ALL
        SELECT (SELECT d.endpoint_id FROM deliveries d WHERE d.status IN (1, 3) AND d.endpoint_id > open.endpoint_id ORDER BY d.endpoint_id LIMIT 1)
        FROM open WHERE open.endpoint_id IS NOT NULL)
      SELECT open.endpoint_id FROM open
      CROSS JOIN LATERAL (SELECT d.next_attempt_at FROM deliveries d WHERE d.endpoint_id = open.endpoint_id AND d.status IN (1, 3)
                          ORDER BY d.endpoint_id, d.next_attempt_at LIMIT 1) AS first
      WHERE open.endpoint_id IS NOT NULL AND first.next_attempt_at <= ${nowMs}
      LIMIT ${limit}`;
    return rows.map((r) => r.endpoint_id as string);
  }

  async nextDueAt(afterMs: number): Promise<number | null> {
    // The earliest of each endpoint's earliest after `afterMs`, found with the skip scan of
    // dueEndpoints and one range probe per endpoint.
    const [r] = await this.c.sql`
      WITH RECURSIVE open(endpoint_id) AS (
        (SELECT endpoint_id FROM deliveries WHERE status IN (1, 3) ORDER BY endpoint_id LIMIT 1)
        UNION ALL
        SELECT (SELECT d.endpoint_id FROM deliveries d WHERE d.status IN (1, 3) AND d.endpoint_id > open.endpoint_id ORDER BY d.endpoint_id LIMIT 1)
        FROM open WHERE open.endpoint_id IS NOT NULL)
      SELECT MIN(first.next_attempt_at) AS t FROM open
      CROSS JOIN LATERAL (SELECT d.next_attempt_at FROM deliveries d WHERE d.endpoint_id = open.endpoint_id AND d.status IN (1, 3)
                          AND d.next_attempt_at > ${afterMs} ORDER BY d.endpoint_id, d.next_attempt_at LIMIT 1) AS first
      WHERE open.endpoint_id IS NOT NULL`;
    return (r?.t as number | null | undefined) ?? null;
  }

  async recordAttempts(records: AttemptRecord[]): Promise<RecordedAttempts> {
    if (records.length === 0) return { resent: [] };
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
      app: r.attempt.appId,
      id: r.deliveryId,
      token: r.leaseToken,
      status: r.next.status,
      next: r.next.status === DeliveryStatus.Pending ? r.next.at : null,
      at: r.attempt.createdAt,
      ok: r.attempt.status === DeliveryStatus.Success,
    }));
    // Records asking to disable their endpoint: only those whose lease is current count, which
    // the settle statement tells.
    const disabling = [...records.entries()].filter(([, r]) => r.disableEndpoint);
    return this.c.transaction(async (tx, commit): Promise<RecordedAttempts> => {
      // Sent with the BEGIN, and with the COMMIT unless an endpoint is to be disabled (rare: a
      // second round trip). The commit does not wait for its WAL to reach the disk: a batch lost
      // when the database server crashes leaves its deliveries leased, and they are sent again
      // when the leases expire (at least once), as when a node dies before writing its batch.
      // Accepted messages still commit durably.
      const [, settled] = await Promise.all([
        tx`
        INSERT INTO attempts (id, message_id, endpoint_id, app_id, url, status, response_status_code, response, duration_ms, trigger, created_at)
        SELECT * FROM json_to_recordset(${jsonParam(attempts)}::text::json)
          AS x(id text, message_id text, endpoint_id text, app_id text, url text, status smallint, response_status_code int, response text,
               duration_ms int, trigger smallint, created_at bigint)`,
        settleWithOutcomes(tx, updates),
        ...(disabling.length === 0 ? [commit()] : []),
      ]);
      if (disabling.length > 0) {
        const fresh = new Set(settled.map((r) => r.i as number));
        // Each endpoint once, at the time of its first current record asking.
        const disable = new Map<string, { appId: string; at: number }>();
        for (const [i, r] of disabling) if (fresh.has(i) && !disable.has(r.attempt.endpointId)) disable.set(r.attempt.endpointId, { appId: r.attempt.appId, at: r.attempt.createdAt });
        const writes: Promise<unknown>[] = [];
        for (const [id, { appId, at }] of disable) {
          writes.push(tx`UPDATE endpoints SET disabled = TRUE, updated_at = ${at} WHERE id = ${id}`);
          writes.push(failWaiting(tx, appId, id, at));
        }
        await Promise.all([...writes, commit()]);
      }
      // A resend served where the retry asked for was due at the attempt's time anyway is not
      // told apart (the row is the same either way); the engine wakes for that retry as for any.
      return { resent: settled.filter((r) => r.resent === true).map((r) => r.i as number).sort((a, b) => a - b) };
    }, { durable: false });
  }

  async releaseAllLeases(nowMs: number): Promise<number> {
    const r = await this.c.sql`UPDATE deliveries SET status = ${DeliveryStatus.Pending}, next_attempt_at = ${nowMs} WHERE status = ${DeliveryStatus.Sending}`;
    return r.count;
  }

  async releaseLeases(refs: LeaseRef[], nowMs: number): Promise<void> {
    if (refs.length === 0) return;
    await this.c.sql.begin(async (tx) => {
      const released = await tx`
        UPDATE deliveries d SET status = ${DeliveryStatus.Pending}, next_attempt_at = ${nowMs}
        FROM json_to_recordset(${jsonParam(refs)}::text::json) AS r("appId" text, "deliveryId" bigint, "leaseToken" bigint)
        WHERE d.app_id = r."appId" AND d.id = r."deliveryId" AND d.lease_token = r."leaseToken" AND d.status = ${DeliveryStatus.Sending}
        RETURNING d.endpoint_id`;
      await this.c.notifyDue(tx, released.map((r) => r.endpoint_id as string));
    });
  }

  // ---- scheduling again (manual triggers, recovery, replay)

  async resend(messageId: string, endpointId: string, appId: string, nowMs: number): Promise<void> {
    await this.c.sql.begin(async (tx) => {
      // One statement, which locks the row: the attempt in flight cannot be recorded between a
      // check and a write. A delivery being sent keeps its lease and gets the request flagged;
      // any other is due now.
      await tx`
        INSERT INTO deliveries (message_id, endpoint_id, app_id, status, attempts, next_attempt_at, lease_token, trigger, created_at, updated_at)
        VALUES (${messageId}, ${endpointId}, ${appId}, ${DeliveryStatus.Pending}, 0, ${nowMs}, 0, ${TriggerType.Manual}, ${nowMs}, ${nowMs})
        ON CONFLICT (app_id, message_id, endpoint_id) DO UPDATE SET
          status = CASE WHEN deliveries.status = ${DeliveryStatus.Sending} THEN deliveries.status ELSE ${DeliveryStatus.Pending} END,
          next_attempt_at = CASE WHEN deliveries.status = ${DeliveryStatus.Sending} THEN deliveries.next_attempt_at ELSE EXCLUDED.next_attempt_at END,
          trigger = CASE WHEN deliveries.status = ${DeliveryStatus.Sending} THEN deliveries.trigger ELSE ${TriggerType.Manual} END,
          resend_requested = deliveries.status = ${DeliveryStatus.Sending},
          updated_at = EXCLUDED.updated_at`;
      await this.c.notifyDue(tx, [endpointId]);
    });
  }

  async recoverFailed(endpointId: string, since: number, until: number | null, nowMs: number): Promise<number> {
    return this.c.sql.begin(async (tx) => {
      const r = await tx`
        UPDATE deliveries SET status = ${DeliveryStatus.Pending}, next_attempt_at = ${nowMs}, trigger = ${TriggerType.Manual}, resend_requested = FALSE, updated_at = ${nowMs}
        WHERE app_id = ${appOfEndpoint(tx, endpointId)} AND endpoint_id = ${endpointId} AND status = ${DeliveryStatus.Fail}
          AND created_at >= ${since} AND created_at < ${until ?? MAX_TIME}`;
      if (r.count > 0) await this.c.notifyDue(tx, [endpointId]);
      return r.count;
    });
  }

  async messagesWithoutDelivery(appId: string, endpointId: string, since: number, until: number | null): Promise<Message[]> {
    const rows = await this.c.sql`
      SELECT m.* FROM messages m WHERE m.app_id = ${appId} AND m.created_at >= ${since} AND m.created_at < ${until ?? MAX_TIME}
        AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.app_id = m.app_id AND d.message_id = m.id AND d.endpoint_id = ${endpointId})
      ORDER BY m.id`;
    return rows.map(toMessage);
  }

  async addDeliveries(endpointId: string, appId: string, messageIds: string[], nowMs: number): Promise<number> {
    if (messageIds.length === 0) return 0;
    return this.c.sql.begin(async (tx) => {
      const r = await tx`
        INSERT INTO deliveries (message_id, endpoint_id, app_id, status, attempts, next_attempt_at, lease_token, trigger, created_at, updated_at)
        SELECT id, ${endpointId}, ${appId}, ${DeliveryStatus.Pending}, 0, ${nowMs}, 0, 1, ${nowMs}, ${nowMs} FROM unnest(${messageIds}::text[]) AS id
        ON CONFLICT DO NOTHING`;
      if (r.count > 0) await this.c.notifyDue(tx, [endpointId]);
      return r.count;
    });
  }
}

/**
 * Settles the attempted deliveries (`updates`: one row per record, `i` its index) and writes
 * their endpoints' `failing_since`, as recording them one by one would; returns `i` and whether
 * a resend requested during the attempt left the delivery pending, for each record whose lease
 * was current. Fencing: only the current lease changes the delivery; a stale one's attempt
 * stays on record and changes no endpoint. A resend requested during the attempt wins over the
 * state asked for: pending, due now, manual.
 */
function settleWithOutcomes(tx: TransactionSql, updates: Row[]): PendingQuery<Row[]> {
  return tx`
    WITH settled AS (
      UPDATE deliveries d SET status = CASE WHEN d.resend_requested THEN ${DeliveryStatus.Pending} ELSE u.status END,
        next_attempt_at = CASE WHEN d.resend_requested THEN u.at ELSE u.next END,
        trigger = CASE WHEN d.resend_requested THEN ${TriggerType.Manual} ELSE d.trigger END,
        resend_requested = FALSE, attempts = d.attempts + 1, updated_at = u.at
      FROM json_to_recordset(${jsonParam(updates)}::text::json) AS u(i int, app text, id bigint, token bigint, status smallint, next bigint, at bigint, ok boolean)
      -- The key lists let the planner find the rows by key, whatever it guesses of the JSON's size.
      WHERE (d.app_id, d.id) IN (SELECT * FROM unnest(${updates.map((u) => u.app as string)}::text[], ${updates.map((u) => u.id as number)}::bigint[]))
        AND d.app_id = u.app AND d.id = u.id AND d.lease_token = u.token
      RETURNING u.i, d.endpoint_id, u.at, u.ok,
                d.status = ${DeliveryStatus.Pending} AND (u.status <> ${DeliveryStatus.Pending} OR d.next_attempt_at <> u.next) AS resent),
    last_ok AS (SELECT endpoint_id, max(i) FILTER (WHERE ok) AS i FROM settled GROUP BY endpoint_id),
    -- Per endpoint, in record order: a success leaves the first failure after the last success
    -- (or none); failures alone set the first failure if none is set.
    outcomes AS (
      SELECT l.endpoint_id AS id, l.i IS NOT NULL AS ok,
             (SELECT s.at FROM settled s WHERE s.endpoint_id = l.endpoint_id AND NOT s.ok AND s.i > COALESCE(l.i, -1) ORDER BY s.i LIMIT 1) AS at
      FROM last_ok l),
    e AS (
      UPDATE endpoints e SET failing_since = o.at FROM outcomes o
      WHERE e.id = o.id AND CASE WHEN o.ok THEN e.failing_since IS DISTINCT FROM o.at ELSE e.failing_since IS NULL END)
    SELECT i, resent FROM settled`;
}
