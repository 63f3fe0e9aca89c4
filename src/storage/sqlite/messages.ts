/** Messages on SQLite: publishing with deliveries in one transaction, and reading them back. */
import { DeliveryStatus } from '../../domain/model.js';
import type { Message } from '../../domain/model.js';
import type { MessageQuery, MessageStore, PublishItem, PublishResult } from '../contract/messages.js';
import type { Page } from '../contract/paging.js';
import { json, toMessage } from '../shared/rows.js';
import type { Row } from '../shared/rows.js';
import type { SqliteConnection } from './connection.js';
import { messageFilters } from './filters.js';
import { sqlitePage } from './paging.js';

/** Messages on SQLite. */
export class SqliteMessageStore implements MessageStore {
  constructor(private readonly c: SqliteConnection) {}

  async publish(items: PublishItem[]): Promise<PublishResult[]> {
    const insertMsg = this.c.q(
      `INSERT INTO messages (id, app_id, event_type, event_id, channels, tags, payload, created_at, seq, ordering_key)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    );
    const lastSeq = this.c.q('SELECT last FROM pull_sequence WHERE id = 1');
    const saveSeq = this.c.q('UPDATE pull_sequence SET last = ? WHERE id = 1');
    const findByEventId = this.c.q('SELECT id FROM messages WHERE app_id = ? AND event_id = ?');
    const insertDelivery = this.c.q(
      `INSERT INTO deliveries (message_id, endpoint_id, app_id, status, attempts, next_attempt_at, lease_token, trigger, created_at, updated_at)
       VALUES (?, ?, ?, ?, 0, ?, ?, 0, ?, ?)`,
    );
    // Deliveries to ordered endpoints carry their key and position (docs/ordering.md).
    const insertOrdered = this.c.q(
      `INSERT INTO deliveries (message_id, endpoint_id, app_id, status, attempts, next_attempt_at, lease_token, trigger, created_at, updated_at, ordering_key, ordering_seq)
       VALUES (?, ?, ?, ?, 0, ?, ?, 0, ?, ?, ?, ?)`,
    );
    // The request's response under its idempotency key, committed with the message: a fresh
    // entry already there (a concurrent request with the same key) is kept.
    const insertIdempotent = this.c.q(
      `INSERT INTO idempotency_keys (key, status, body, content_type, expires_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET status = excluded.status, body = excluded.body, content_type = excluded.content_type, expires_at = excluded.expires_at
       WHERE idempotency_keys.expires_at <= ?`,
    );
    // The commit itself skips the fsync; the WAL is synced off the event loop before answering.
    return this.c.durably(() => this.c.db.transaction((): PublishResult[] => {
      const results: PublishResult[] = [];
      // Positions for pull readers: gap-free, in commit order (one writer at a time).
      const first = (lastSeq.get() as Row).last as number;
      let seq = first;
      for (const { message: m, deliveries, idempotent } of items) {
        const info = insertMsg.run(m.id, m.appId, m.eventType, m.eventId, json(m.channels), json(m.tags), m.payload, m.createdAt, seq + 1, m.orderingKey ?? null);
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
          const status = leased ? DeliveryStatus.Sending : DeliveryStatus.Pending;
          const r =
            d.orderingKey === undefined
              ? insertDelivery.run(m.id, d.endpointId, m.appId, status, d.leaseUntil ?? m.createdAt, token, m.createdAt, m.createdAt)
              : insertOrdered.run(m.id, d.endpointId, m.appId, status, d.leaseUntil ?? m.createdAt, token, m.createdAt, m.createdAt, d.orderingKey, seq);
          out.push({ endpointId: d.endpointId, deliveryId: Number(r.lastInsertRowid), leaseToken: token });
        }
        if (idempotent) {
          const r = idempotent.response;
          insertIdempotent.run(idempotent.key, r.status, r.body, r.contentType, idempotent.expiresAt, m.createdAt);
        }
        results.push({ kind: 'created', deliveries: out });
      }
      if (seq !== first) saveSeq.run(seq);
      return results;
    })());
  }

  async getMessage(appId: string, idOrEventId: string): Promise<Message | null> {
    const r = (this.c.q('SELECT * FROM messages WHERE id = ? AND app_id = ?').get(idOrEventId, appId) ??
      this.c.q('SELECT * FROM messages WHERE app_id = ? AND event_id = ?').get(appId, idOrEventId)) as Row | undefined;
    return r ? toMessage(r) : null;
  }

  async listMessages(appId: string, q: MessageQuery): Promise<Page<Message>> {
    const { where, args } = messageFilters('', q);
    const listing = { from: 'messages', key: 'id', where: ['app_id = ?', ...where].join(' AND '), args: [appId, ...args], defaultOrder: 'descending' as const, map: toMessage };
    return sqlitePage((sql) => this.c.q(sql), listing, q);
  }

  async expungeMessageContent(appId: string, id: string): Promise<void> {
    this.c.q('UPDATE messages SET payload = NULL WHERE app_id = ? AND id = ?').run(appId, id);
  }
}
