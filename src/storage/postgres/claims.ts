/**
 * Claiming due deliveries on PostgreSQL. Due rows are leased with `FOR UPDATE SKIP LOCKED`,
 * so claimers never wait on each other's rows; each claim bumps the row's `lease_token`,
 * which fences late attempts of an expired lease. A capped claim first takes the endpoint's
 * claim lock (an advisory lock, connection.ts `lockEndpoints`), so that for one endpoint the
 * count of live leases (every node's) and its token bucket are read and changed by one
 * claimer at a time.
 */
import type { PendingQuery, TransactionSql } from 'postgres';
import { DeliveryStatus } from '../../domain/model.js';
import { msUntilToken, throttleTokensAt } from '../../domain/token-bucket.js';
import type { HeaderStyle } from '../../domain/model.js';
import type { CappedClaim } from '../contract/cluster.js';
import type { ClaimedDelivery } from '../contract/queue.js';
import { appOfEndpoint } from './app-keys.js';
import type { PgConnection } from './connection.js';
import { claimedDelivery, toEndpoint } from './rows.js';
import type { Row } from './rows.js';

/** How soon a claim held back by the concurrency cap alone tries again (completions elsewhere also retry). */
export const CONCURRENCY_RETRY_MS = 500;

/** What a claim asks for: up to `limit` due deliveries of one endpoint at `nowMs`, leased until `leaseUntil`. */
export interface ClaimAsk {
  endpointId: string;
  limit: number;
  nowMs: number;
  leaseUntil: number;
}

export interface ClaimCaps {
  /** Most leases of the endpoint live at once, across nodes. */
  concurrency: number;
}

/**
 * The lease itself: up to `limit` (a count, or a statement fragment that computes it) due
 * deliveries of the endpoint, oldest first, each with its message; `bucket`, when given, is the
 * endpoint's tokens before the claim, which pays one per delivery claimed.
 */
function leaseDue(tx: TransactionSql, app: string | PendingQuery<Row[]>, endpointId: string, nowMs: number, leaseUntil: number, limit: number | PendingQuery<Row[]>, bucket: number | null): PendingQuery<Row[]> {
  return tx`
    WITH c AS (
      UPDATE deliveries SET status = ${DeliveryStatus.Sending}, next_attempt_at = ${leaseUntil}, lease_token = lease_token + 1, updated_at = ${nowMs}
      -- Ordered as deliveries_due_by_endpoint is, so that index (this endpoint's due rows only)
      -- serves it whatever the planner thinks of the other endpoints' backlog.
      WHERE (app_id, id) IN (
        SELECT app_id, id FROM deliveries WHERE app_id = ${app} AND endpoint_id = ${endpointId} AND status IN (1, 3) AND next_attempt_at <= ${nowMs}
        ORDER BY endpoint_id, next_attempt_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
      RETURNING id AS d_id, lease_token AS d_lease_token, attempts AS d_attempts, trigger AS d_trigger, message_id AS d_message_id, app_id AS d_app_id),
    -- The bucket pays for what was claimed, in the same statement.
    b AS (UPDATE endpoint_limits SET tokens = ${bucket ?? 0}::float8 - (SELECT count(*) FROM c), updated_at = GREATEST(updated_at, ${nowMs})
          WHERE app_id = ${app} AND endpoint_id = ${endpointId} AND ${bucket !== null}::boolean)
    SELECT c.*, m.* FROM c JOIN messages m ON m.app_id = c.d_app_id AND m.id = c.d_message_id ORDER BY c.d_id`;
}

/**
 * The number of live leases of an endpoint (its application and id, or fragments naming
 * columns of the statement around it), every node's: the range after now of the leases'
 * index (a lease's next_attempt_at is its end), less `ended`, this node's leases whose request
 * has ended and whose attempt is not recorded yet (a delivery id alone names them: another
 * node can only hold the same delivery once this node's lease has expired, and then it is not
 * counted here anyway). A fragment, for statements that count them.
 */
export function liveLeases(
  tx: TransactionSql,
  app: string | PendingQuery<Row[]>,
  endpoint: string | PendingQuery<Row[]>,
  nowMs: number,
  ended: readonly number[],
): PendingQuery<Row[]> {
  return tx`(SELECT count(*) FROM deliveries WHERE app_id = ${app} AND endpoint_id = ${endpoint} AND status = 3 AND next_attempt_at > ${nowMs}
             AND id <> ALL(${ended as number[]}::bigint[]))`;
}

/** The endpoint's row, with its application's header style, its bucket and its live leases (`live_n`). */
function endpointWithLimits(tx: TransactionSql, endpointId: string, nowMs: number, ended: readonly number[]): PendingQuery<Row[]> {
  return tx`SELECT e.*, a.header_style AS a_header_style, l.tokens AS l_tokens, l.updated_at AS l_updated_at,
                   ${liveLeases(tx, tx`e.app_id`, endpointId, nowMs, ended)} AS live_n
            FROM endpoints e JOIN endpoint_limits l ON l.app_id = e.app_id AND l.endpoint_id = e.id LEFT JOIN applications a ON a.id = e.app_id
            WHERE e.id = ${endpointId}`;
}

/**
 * A capped claim in one round trip, for an endpoint that is enabled and has no rate limit (the
 * usual case): the claim lock, the endpoint, its live leases and the lease, whose count is
 * worked out by the statement itself, all travel with the BEGIN and the COMMIT, so the lock is
 * held for as long as the statements run, never across a round trip to this node. Returns
 * null, having claimed nothing, for any other endpoint: `claimIn` serves those.
 */
export async function quickClaimIn(
  tx: TransactionSql,
  commit: () => PromiseLike<void>,
  ask: ClaimAsk,
  concurrency: number,
  connection: PgConnection,
): Promise<CappedClaim | null> {
  const { endpointId, limit, nowMs, leaseUntil } = ask;
  await connection.schema(tx);
  const ended = connection.endedRequests();
  // Each statement runs in a snapshot taken after the one before it: after the lock.
  const allowedHere = tx`COALESCE((
    SELECT GREATEST(0, LEAST(${limit}::int, ${concurrency}::int - ${liveLeases(tx, tx`e.app_id`, endpointId, nowMs, ended)}))
    FROM endpoints e JOIN endpoint_limits l ON l.app_id = e.app_id AND l.endpoint_id = e.id
    WHERE e.id = ${endpointId} AND NOT e.disabled AND COALESCE(e.throttle_rate, 0) <= 0), 0)`;
  const [, [epRow], rows] = await Promise.all([
    connection.lockEndpoints(tx, [endpointId]),
    endpointWithLimits(tx, endpointId, nowMs, ended),
    leaseDue(tx, appOfEndpoint(tx, endpointId), endpointId, nowMs, leaseUntil, allowedHere, null),
    commit(),
  ]);
  if (!epRow || epRow.disabled === true || ((epRow.throttle_rate as number | null) ?? 0) > 0) return null;
  const endpoint = toEndpoint(epRow, connection.box);
  const headerStyle = (epRow.a_header_style as HeaderStyle | null) ?? 'standard';
  // The live leases were counted by the statement before the lease's, after the same lock.
  const allowed = Math.max(0, Math.min(limit, concurrency - Number(epRow.live_n)));
  return {
    claims: rows.map((r) => claimedDelivery(r, endpoint, headerStyle)),
    // Held back by the cap, not by an empty queue: more may be due.
    retryInMs: rows.length === allowed && allowed < limit ? CONCURRENCY_RETRY_MS : null,
  };
}

/**
 * Leases what `ask` asks for (within `caps`, if given) in transaction `tx`, sending its COMMIT
 * (`commit`) with the writes.
 */
export async function claimIn(tx: TransactionSql, commit: () => PromiseLike<void>, ask: ClaimAsk, caps: ClaimCaps | null, connection: PgConnection): Promise<CappedClaim> {
  const { endpointId, limit, nowMs, leaseUntil } = ask;
  const box = connection.box;
  const none: CappedClaim = { claims: [], retryInMs: null };
  const select = () =>
    caps
      ? endpointWithLimits(tx, endpointId, nowMs, connection.endedRequests())
      : tx`SELECT e.*, a.header_style AS a_header_style FROM endpoints e LEFT JOIN applications a ON a.id = e.app_id WHERE e.id = ${endpointId}`;
  // Sent at once and run in order, each statement in a snapshot taken after the one before, so
  // the bucket and the live leases are read after the lock: every claim or publish of this
  // endpoint that committed before is seen.
  if (caps) await connection.schema(tx);
  let [, [epRow]] = await Promise.all([caps ? connection.lockEndpoints(tx, [endpointId]) : null, select()]);
  if (!epRow && caps) {
    // Every endpoint gets its limits row when created; this only covers one that lacks it.
    // -1 is FULL_BUCKET (domain/token-bucket.ts), written as a literal to keep the column's type.
    await tx`INSERT INTO endpoint_limits (app_id, endpoint_id, tokens, updated_at) SELECT app_id, id, -1, 0 FROM endpoints WHERE id = ${endpointId} ON CONFLICT DO NOTHING`;
    [epRow] = await select();
  }
  if (!epRow) return none;
  const endpoint = toEndpoint(epRow, box);
  if (endpoint.disabled) {
    await Promise.all([
      tx`UPDATE deliveries SET status = ${DeliveryStatus.Fail}, next_attempt_at = NULL, updated_at = ${nowMs}
         WHERE app_id = ${endpoint.appId} AND endpoint_id = ${endpointId} AND status IN (1, 3) AND next_attempt_at <= ${nowMs}`,
      commit(),
    ]);
    return none;
  }

  let allowed = limit;
  let byConcurrency = Infinity;
  let tokens = Infinity;
  const rate = endpoint.throttleRate !== null && endpoint.throttleRate > 0 ? endpoint.throttleRate : null;
  if (caps) {
    byConcurrency = caps.concurrency - Number(epRow.live_n);
    if (rate !== null) tokens = throttleTokensAt(epRow.l_tokens as number, epRow.l_updated_at as number, nowMs, rate);
    allowed = Math.max(0, Math.min(limit, byConcurrency, Math.floor(tokens)));
  }

  let rows: Row[] = [];
  if (allowed > 0) {
    [rows] = await Promise.all([leaseDue(tx, endpoint.appId, endpointId, nowMs, leaseUntil, allowed, caps !== null && rate !== null ? tokens : null), commit()]);
  } else if (caps && rate !== null) {
    const left = tokens - rows.length;
    await Promise.all([tx`UPDATE endpoint_limits SET tokens = ${left}, updated_at = GREATEST(updated_at, ${nowMs}) WHERE app_id = ${endpoint.appId} AND endpoint_id = ${endpointId}`, commit()]);
  }

  const headerStyle = ((epRow.a_header_style as HeaderStyle | null) ?? 'standard');
  const claims: ClaimedDelivery[] = rows.map((r) => claimedDelivery(r, endpoint, headerStyle));

  let retryInMs: number | null = null;
  if (caps && rows.length === allowed && allowed < limit) {
    // Held back by a cap, not by an empty queue: more may be due.
    const left = tokens - rows.length;
    retryInMs = rate !== null && Math.floor(tokens) <= byConcurrency ? Math.max(1, msUntilToken(left, rate)) : CONCURRENCY_RETRY_MS;
  }
  return { claims, retryInMs };
}
