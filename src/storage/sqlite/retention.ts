/** Retention on SQLite: the oldest finished messages deleted with their deliveries and attempts. */
import { idBoundary } from '../../domain/ids.js';
import type { PartitionUpkeep, RetentionStore } from '../contract/retention.js';
import type { Row } from '../shared/rows.js';
import type { SqliteConnection } from './connection.js';
import { BOUND_LIMIT } from './statements.js';

/** Retention on SQLite. */
export class SqliteRetentionStore implements RetentionStore {
  constructor(private readonly c: SqliteConnection) {}

  async purgeMessagesBefore(cutoffMs: number, limit: number): Promise<number> {
    // Message ids begin with their creation time: the oldest are a primary-key range scan.
    const bound = idBoundary('message', cutoffMs);
    const pick = this.c.q(
      `SELECT m.id FROM messages m WHERE m.id < ? AND m.created_at < ?
         AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.message_id = m.id AND d.status IN (1, 3))
       ORDER BY m.id ${BOUND_LIMIT}`,
    );
    const delAttempts = this.c.q('DELETE FROM attempts WHERE message_id = ?');
    const delDeliveries = this.c.q('DELETE FROM deliveries WHERE message_id = ?');
    const delMessage = this.c.q('DELETE FROM messages WHERE id = ?');
    return this.c.db.transaction((): number => {
      const ids = (pick.all(bound, cutoffMs, limit) as Row[]).map((r) => r.id as string);
      for (const id of ids) {
        delAttempts.run(id);
        delDeliveries.run(id);
        delMessage.run(id);
      }
      return ids.length;
    })();
  }

  /** SQLite has no partitions: attempts and deliveries past retention go with their messages. */
  async maintainPartitions(): Promise<PartitionUpkeep> {
    return { created: [], dropped: [], droppedMessages: 0, kept: [], skipped: [] };
  }
}
