/**
 * Messages on PostgreSQL. A publish is one transaction, sent in one round trip with its BEGIN
 * and COMMIT (group commit): it numbers the messages' pull positions under the
 * `pull_sequence` lock, inserts messages and deliveries, leases the deliveries the
 * publishing node asked to send at once, within each endpoint's concurrency cap counted
 * across nodes, stores the requests' responses under their idempotency keys, and queues the
 * notices for other nodes (sent at commit).
 */
import { DeliveryStatus } from '../../domain/model.js';
import type { Message } from '../../domain/model.js';
import type { MessageRef } from '../contract/cluster.js';
import type { MessageQuery, MessageStore, PublishItem, PublishResult } from '../contract/messages.js';
import type { Page } from '../contract/paging.js';
import { liveLeases } from './claims.js';
import type { PgConnection } from './connection.js';
import { messageFilters } from './filters.js';
import { MAX_LISTED_ENDPOINTS, payloadHead, SQL_GROUP_BYTES } from './notices.js';
import { pgPage } from './paging.js';
import { toMessage } from './rows.js';
import type { Row } from './rows.js';
import { jsonParam } from './text.js';

/** Messages on PostgreSQL. */
export class PgMessageStore implements MessageStore {
  constructor(private readonly c: PgConnection) {}


  async publish(items: PublishItem[]): Promise<PublishResult[]> {
    if (items.length === 0) return [];
    const msgRows = items.map(({ message: m, idempotent: k }, i) => ({
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
      ...(k ? { idem_key: k.key, idem_status: k.response.status, idem_body: k.response.body, idem_type: k.response.contentType, idem_expires: k.expiresAt } : {}),
    }));
    const now = items.reduce((t, { message: m }) => Math.max(t, m.createdAt), 0);
    const delRows: Row[] = [];
    for (const { message: m, deliveries } of items) {
      for (const d of deliveries) {
        delRows.push({
          n: delRows.length,
          message_id: m.id,
          endpoint_id: d.endpointId,
          app_id: m.appId,
          lease_until: d.leaseUntil,
          created_at: m.createdAt,
          ...(d.claimedHere ? { claimed_here: true } : {}),
          ...(d.orderingKey !== undefined ? { ordering_key: d.orderingKey } : {}),
        });
      }
    }
    const leaseIds = [...new Set(delRows.filter((d) => d.lease_until !== null).map((d) => d.endpoint_id as string))].sort();
    const rows = await this.c.transaction(async (tx, commit) => {
      // The schema (read once) names the claim locks and the notice channel.
      const channel = await this.c.channel(tx);
      // One round trip, run in order: the claim locks of the endpoints asked to lease
      // (connection.ts `lockEndpoints`: every publisher and claimer takes them in one order, so
      // they queue and never deadlock), the position counter's lock, the insert (in a snapshot
      // taken after both locks, which also queues the notices) and the COMMIT. No lock is held
      // across a round trip.
      const [, , inserted] = await Promise.all([
        leaseIds.length > 0 ? this.c.lockEndpoints(tx, leaseIds) : null,
        // Positions are numbered under this lock, held until commit: they become visible in
        // commit order on every node.
        tx`SELECT 1 FROM pull_sequence WHERE id = 1 FOR UPDATE`,
        tx`
        WITH x AS (
          SELECT * FROM json_to_recordset(${jsonParam(msgRows)}::text::json)
            AS x(i int, id text, app_id text, event_type text, event_id text, channels jsonb, tags jsonb, payload text, created_at bigint, ordering_key text,
                 idem_key text, idem_status int, idem_body text, idem_type text, idem_expires bigint)),
        fresh AS (
          -- Of items sharing an eventId, in the batch or already stored, only the first is new.
          SELECT DISTINCT ON (x.app_id, COALESCE(x.event_id, x.id)) x.* FROM x
          WHERE x.event_id IS NULL OR NOT EXISTS (SELECT 1 FROM message_event_ids e WHERE e.app_id = x.app_id AND e.event_id = x.event_id)
          ORDER BY x.app_id, COALESCE(x.event_id, x.id), x.i),
        numbered AS (SELECT f.*, (SELECT last FROM pull_sequence WHERE id = 1) + row_number() OVER (ORDER BY f.i) AS seq FROM fresh f),
        ins AS (
          INSERT INTO messages (id, app_id, event_type, event_id, channels, tags, payload, created_at, seq, ordering_key)
          SELECT id, app_id, event_type, event_id, channels, tags, payload, created_at, seq, ordering_key FROM numbered ORDER BY seq
          ON CONFLICT DO NOTHING RETURNING id, seq, app_id, event_id),
        -- The event ids taken (messages is partitioned by id, so their unique index is here).
        ev AS (INSERT INTO message_event_ids (app_id, event_id, message_id) SELECT app_id, event_id, id FROM ins WHERE event_id IS NOT NULL ON CONFLICT DO NOTHING),
        -- The requests' responses under their idempotency keys, committed with their messages:
        -- a fresh entry already under a key (a concurrent request with it) is kept.
        idem AS (
          INSERT INTO idempotency_keys (key, status, body, content_type, expires_at)
          SELECT DISTINCT ON (x.idem_key) x.idem_key, x.idem_status, x.idem_body, x.idem_type, x.idem_expires
          FROM x JOIN ins ON ins.id = x.id WHERE x.idem_key IS NOT NULL ORDER BY x.idem_key, x.i
          ON CONFLICT (key) DO UPDATE SET status = EXCLUDED.status, body = EXCLUDED.body, content_type = EXCLUDED.content_type, expires_at = EXCLUDED.expires_at
          WHERE idempotency_keys.expires_at <= ${now}),
        -- The leases each endpoint asked to lease may still take, within its concurrency cap
        -- counted over every node's live leases after its claim lock. None for a disabled
        -- endpoint, nor for one with a rate limit: its deliveries are claimed, which pays its bucket.
        room AS (
          SELECT e.id, ${this.c.endpointConcurrency}::int - ${liveLeases(tx, tx`e.app_id`, tx`e.id`, now, this.c.endedRequests())} AS n
          FROM endpoints e WHERE e.id = ANY(${leaseIds}::text[]) AND NOT e.disabled AND COALESCE(e.throttle_rate, 0) <= 0),
        y AS (
          SELECT y.*, ins.seq, y.lease_until IS NOT NULL
                 AND row_number() OVER (PARTITION BY y.endpoint_id, y.lease_until IS NOT NULL ORDER BY y.n) <= COALESCE(room.n, 0) AS leased
          FROM json_to_recordset(${jsonParam(delRows)}::text::json)
            AS y(n int, message_id text, endpoint_id text, app_id text, lease_until bigint, created_at bigint, ordering_key text, claimed_here boolean)
          JOIN ins ON ins.id = y.message_id LEFT JOIN room ON room.id = y.endpoint_id),
        d AS (
          INSERT INTO deliveries (message_id, endpoint_id, app_id, status, attempts, next_attempt_at, lease_token, trigger, created_at, updated_at, ordering_key, ordering_seq)
          SELECT message_id, endpoint_id, app_id,
                 CASE WHEN leased THEN ${DeliveryStatus.Sending}::smallint ELSE ${DeliveryStatus.Pending}::smallint END, 0,
                 CASE WHEN leased THEN lease_until ELSE created_at END, CASE WHEN leased THEN 1 ELSE 0 END, 0, created_at, created_at,
                 ordering_key, CASE WHEN ordering_key IS NOT NULL THEN seq END
          FROM y ORDER BY n
          RETURNING id, message_id, endpoint_id, lease_token),
        c AS (UPDATE pull_sequence SET last = GREATEST(last, (SELECT MAX(seq) FROM ins)) WHERE id = 1 AND EXISTS (SELECT 1 FROM ins)),
        -- Items refused as duplicates, with the message that holds their eventId: stored before
        -- (this statement's snapshot, taken under the counter lock, sees every earlier publish)
        -- or first in this batch.
        dup AS (
          SELECT x.id, COALESCE((SELECT e.message_id FROM message_event_ids e WHERE e.app_id = x.app_id AND e.event_id = x.event_id),
                                (SELECT f.id FROM fresh f WHERE f.app_id = x.app_id AND f.event_id = x.event_id)) AS existing_id
          FROM x WHERE x.event_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ins WHERE ins.id = x.id)),
        -- The notices (notices.ts wire format): each new message, in position order, with the
        -- endpoints whose deliveries were left due for any node to claim, not those the
        -- publishing node claims itself (none listed past
        -- MAX_LISTED_ENDPOINTS: receivers sweep). Queued here, they go out at commit, in the
        -- commit's order: publishes already wait for each other on the position counter, so the
        -- notification queue's lock at commit adds no wait between them.
        left_due AS (SELECT message_id, count(*) AS listed, json_agg(endpoint_id ORDER BY n) AS ids FROM y WHERE NOT leased AND claimed_here IS NOT TRUE GROUP BY message_id),
        entries AS (
          SELECT ins.seq, json_build_array('p', x.app_id, ins.id, CASE WHEN l.listed > ${MAX_LISTED_ENDPOINTS}::int THEN NULL ELSE COALESCE(l.ids, '[]'::json) END)::text AS w
          FROM ins JOIN x ON x.id = ins.id LEFT JOIN left_due l ON l.message_id = ins.id),
        sent AS (
          SELECT pg_notify(${channel}, ${payloadHead(this.c.nodeId)} || string_agg(w, ',' ORDER BY seq) || ']}')
          FROM (SELECT w, seq, (sum(octet_length(w) + 1) OVER (ORDER BY seq) - 1) / ${SQL_GROUP_BYTES}::int AS g FROM entries) e
          GROUP BY g)
        SELECT 'm' AS k, id AS message_id, NULL::bigint AS delivery_id, NULL::text AS endpoint_id, NULL::bigint AS lease_token, NULL::text AS existing_id FROM ins
        UNION ALL SELECT 'd', message_id, id, endpoint_id, lease_token, NULL FROM d
        UNION ALL SELECT 'x', id, NULL, NULL, NULL, existing_id FROM dup
        -- Counting the notices sends them (a CTE that only selects runs as far as it is read).
        UNION ALL SELECT 'n', NULL, NULL, NULL, count(*), NULL FROM sent`,
        commit(),
      ]);
      return inserted;
    });
    const created = new Set<string>();
    const existing = new Map<string, string>();
    const made = new Map<string, { deliveryId: number; leaseToken: number }>();
    for (const r of rows) {
      if (r.k === 'm') created.add(r.message_id as string);
      else if (r.k === 'n') continue;
      else if (r.k === 'x') existing.set(r.message_id as string, (r.existing_id as string | null) ?? '');
      else made.set(`${r.message_id as string} ${r.endpoint_id as string}`, { deliveryId: r.delivery_id as number, leaseToken: r.lease_token as number });
    }
    const results: PublishResult[] = [];
    for (const { message: m, deliveries } of items) {
      if (!created.has(m.id)) {
        results.push({ kind: 'duplicate-event-id', existingId: existing.get(m.id) ?? '' });
        continue;
      }
      const out = deliveries.map((d) => ({ endpointId: d.endpointId, ...(made.get(`${m.id} ${d.endpointId}`) ?? { deliveryId: 0, leaseToken: 0 }) }));
      results.push({ kind: 'created', deliveries: out });
    }
    return results;
  }

  async getMessage(appId: string, idOrEventId: string): Promise<Message | null> {
    const [r] = await this.c.sql`SELECT * FROM messages WHERE app_id = ${appId} AND id = ${idOrEventId}
      UNION ALL SELECT m.* FROM message_event_ids e JOIN messages m ON m.app_id = e.app_id AND m.id = e.message_id
      WHERE e.app_id = ${appId} AND e.event_id = ${idOrEventId} LIMIT 1`;
    return r ? toMessage(r) : null;
  }

  /** Messages by application and id, in id order (for notices from other nodes). */
  async getMessages(refs: MessageRef[]): Promise<Message[]> {
    if (refs.length === 0) return [];
    return (
      await this.c.sql`SELECT m.* FROM unnest(${refs.map((r) => r.appId)}::text[], ${refs.map((r) => r.id)}::text[]) AS x(app_id, id)
        JOIN messages m ON m.app_id = x.app_id AND m.id = x.id ORDER BY m.id`
    ).map(toMessage);
  }

  async listMessages(appId: string, q: MessageQuery): Promise<Page<Message>> {
    return pgPage(this.c.sql, { from: 'messages', key: 'id', where: (p) => [`app_id = ${p.add(appId)}`, ...messageFilters(p, q)], defaultOrder: 'descending', map: toMessage }, q);
  }

  async expungeMessageContent(appId: string, id: string): Promise<void> {
    await this.c.sql`UPDATE messages SET payload = NULL WHERE app_id = ${appId} AND id = ${id}`;
  }
}
