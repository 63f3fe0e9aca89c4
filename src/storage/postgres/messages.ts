/**
 * Messages on PostgreSQL. A publish is one transaction of two round trips (group commit): it
 * numbers the messages' pull positions under the `pull_sequence` lock, inserts messages and
 * deliveries, grants the leases asked for within each endpoint's cross-node caps, and queues
 * the notices for other nodes.
 */
import { DeliveryStatus } from '../../domain/model.js';
import type { Message } from '../../domain/model.js';
import { throttleTokensAt } from '../../domain/token-bucket.js';
import type { ClusterNotice } from '../contract/cluster.js';
import type { MessageQuery, MessageStore, PublishItem, PublishResult } from '../contract/messages.js';
import type { Page } from '../contract/paging.js';
import type { PgConnection } from './connection.js';
import { messageFilters } from './filters.js';
import { pgPage } from './paging.js';
import { toMessage } from './rows.js';
import type { Row } from './rows.js';
import { jsonParam } from './text.js';

/** Messages on PostgreSQL. */
export class PgMessageStore implements MessageStore {
  constructor(private readonly c: PgConnection) {}


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
      // Absent keys read as NULL: unordered publishes send nothing more.
      ...(m.orderingKey !== undefined ? { ordering_key: m.orderingKey } : {}),
    }));
    const { wanted, now } = leaseRequests(items);
    const leaseIds = [...wanted.keys()].sort();
    const { created, ids, granted } = await this.c.transaction(async (tx, commit) => {
      // The schema (read once) names the claim locks and the notice channel.
      await this.c.schema(tx);
      // Sent at once and run in order: the endpoints' claim locks are taken (connection.ts
      // `lockEndpoints`: every publisher and claimer takes them in one order, so they queue and
      // never deadlock), their buckets and live leases are read after the locks in a new
      // snapshot, then the position counter is locked.
      const [, live, [ctr]] = await Promise.all([
        leaseIds.length > 0 ? this.c.lockEndpoints(tx, leaseIds) : null,
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
            ...(d.orderingKey !== undefined ? { ordering_key: d.orderingKey } : {}),
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
            AS x(i int, id text, app_id text, event_type text, event_id text, channels jsonb, tags jsonb, payload text, created_at bigint, ordering_key text)),
        fresh AS (
          -- Of items sharing an eventId, in the batch or already stored, only the first is new.
          SELECT DISTINCT ON (x.app_id, COALESCE(x.event_id, x.id)) x.* FROM x
          WHERE x.event_id IS NULL OR NOT EXISTS (SELECT 1 FROM messages m WHERE m.app_id = x.app_id AND m.event_id = x.event_id)
          ORDER BY x.app_id, COALESCE(x.event_id, x.id), x.i),
        numbered AS (SELECT f.*, ${base}::bigint + row_number() OVER (ORDER BY f.i) AS seq FROM fresh f),
        ins AS (
          INSERT INTO messages (id, app_id, event_type, event_id, channels, tags, payload, created_at, seq, ordering_key)
          SELECT id, app_id, event_type, event_id, channels, tags, payload, created_at, seq, ordering_key FROM numbered ORDER BY seq
          ON CONFLICT DO NOTHING RETURNING id, seq),
        d AS (
          INSERT INTO deliveries (message_id, endpoint_id, app_id, status, attempts, next_attempt_at, lease_token, trigger, created_at, updated_at, ordering_key, ordering_seq)
          SELECT y.message_id, y.endpoint_id, y.app_id, y.status, 0, y.next_attempt_at, y.lease_token, 0, y.created_at, y.created_at,
                 y.ordering_key, CASE WHEN y.ordering_key IS NOT NULL THEN ins.seq END
          FROM json_to_recordset(${jsonParam(delRows)}::text::json)
            AS y(message_id text, endpoint_id text, app_id text, status smallint, next_attempt_at bigint, lease_token bigint, created_at bigint, ordering_key text)
          JOIN ins ON ins.id = y.message_id
          RETURNING id, message_id, endpoint_id),
        c AS (UPDATE pull_sequence SET last = GREATEST(last, (SELECT MAX(seq) FROM ins)) WHERE id = 1 AND EXISTS (SELECT 1 FROM ins))
        SELECT 'm' AS k, id AS message_id, NULL::bigint AS delivery_id, NULL::text AS endpoint_id FROM ins
        UNION ALL SELECT 'd', message_id, id, endpoint_id FROM d`,
        this.c.notify(tx, notices),
        buckets.length > 0
          ? tx`UPDATE endpoint_limits l SET tokens = b.tokens, updated_at = GREATEST(l.updated_at, b.at)
               FROM json_to_recordset(${jsonParam(buckets)}::text::json) AS b(endpoint_id text, tokens float8, at bigint)
               WHERE l.endpoint_id = b.endpoint_id`
          : null,
        commit(),
      ]);
      const created = new Set<string>();
      const ids = new Map<string, number>();
      for (const r of rows) {
        if (r.k === 'm') created.add(r.message_id as string);
        else ids.set(`${r.message_id as string} ${r.endpoint_id as string}`, r.delivery_id as number);
      }
      return { created, ids, granted };
    });
    const results: PublishResult[] = [];
    for (const [i, { message: m, deliveries }] of items.entries()) {
      if (!created.has(m.id)) {
        // The message first published with this event id committed before this publish read it.
        const [existing] = await this.c.sql`SELECT id FROM messages WHERE app_id = ${m.appId} AND event_id = ${m.eventId}`;
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
      let n = Math.min(wanted.get(id) ?? 0, this.c.endpointConcurrency - (r.live as number));
      const rate = (r.throttle_rate as number | null) ?? 0;
      if (rate > 0) {
        const tokens = throttleTokensAt(r.tokens as number, r.updated_at as number, now, rate);
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
    const [r] = await this.c.sql`SELECT * FROM messages WHERE id = ${idOrEventId} AND app_id = ${appId}
      UNION ALL SELECT * FROM messages WHERE app_id = ${appId} AND event_id = ${idOrEventId} LIMIT 1`;
    return r ? toMessage(r) : null;
  }

  /** Messages by id, in id order (for notices from other nodes). */
  async getMessages(ids: string[]): Promise<Message[]> {
    if (ids.length === 0) return [];
    return (await this.c.sql`SELECT * FROM messages WHERE id = ANY(${ids}::text[]) ORDER BY id`).map(toMessage);
  }

  async listMessages(appId: string, q: MessageQuery): Promise<Page<Message>> {
    return pgPage(this.c.sql, { from: 'messages', key: 'id', where: (p) => [`app_id = ${p.add(appId)}`, ...messageFilters(p, q)], defaultOrder: 'descending', map: toMessage }, q);
  }

  async expungeMessageContent(appId: string, id: string): Promise<void> {
    await this.c.sql`UPDATE messages SET payload = NULL WHERE app_id = ${appId} AND id = ${id}`;
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
