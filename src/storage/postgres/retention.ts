/** Retention on PostgreSQL: the oldest finished messages deleted with their deliveries and attempts. */
import { idBoundary } from '../../domain/ids.js';
import type { RetentionStore } from '../contract/retention.js';
import type { PgConnection } from './connection.js';

/** Retention on PostgreSQL. */
export class PgRetentionStore implements RetentionStore {
  constructor(private readonly c: PgConnection) {}

  async purgeMessagesBefore(cutoffMs: number, limit: number): Promise<number> {
    // Message ids begin with their creation time: the oldest are a primary-key range scan.
    // Rows of a concurrent purge on another node are skipped, never waited for.
    const bound = idBoundary('message', cutoffMs);
    return this.c.sql.begin(async (tx) => {
      const picked = await tx`
        SELECT m.id FROM messages m
        -- A probe of the message's deliveries per message (a lateral join: NOT EXISTS would be
        -- planned as an anti-join walking every delivery).
        LEFT JOIN LATERAL (SELECT 1 AS open FROM deliveries d WHERE d.message_id = m.id AND d.status IN (1, 3) LIMIT 1) o ON TRUE
        WHERE m.id < ${bound} AND m.created_at < ${cutoffMs} AND o.open IS NULL
        ORDER BY m.id LIMIT ${limit} FOR UPDATE OF m SKIP LOCKED`;
      const ids = picked.map((r) => r.id as string);
      if (ids.length === 0) return 0;
      await tx`DELETE FROM attempts WHERE message_id = ANY(${ids}::text[])`;
      await tx`DELETE FROM deliveries WHERE message_id = ANY(${ids}::text[])`;
      await tx`DELETE FROM messages WHERE id = ANY(${ids}::text[])`;
      return ids.length;
    });
  }
}
