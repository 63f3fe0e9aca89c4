/** Attempt history on SQLite: attempts, and deliveries with their state per message or endpoint. */
import { DeliveryStatus } from '../../domain/model.js';
import type { Attempt, Endpoint, Message } from '../../domain/model.js';
import type { AttemptHistoryStore, AttemptQuery } from '../contract/attempts.js';
import type { MessageQuery } from '../contract/messages.js';
import type { Page, PageQuery } from '../contract/paging.js';
import { toAttempt, toEndpoint, toMessage } from '../shared/rows.js';
import type { Row } from '../shared/rows.js';
import type { SqliteConnection } from './connection.js';
import { attemptFilters, messageFilters } from './filters.js';
import { sqlitePage } from './paging.js';
import type { SqliteListing } from './paging.js';

/** Attempt history on SQLite. */
export class SqliteAttemptHistoryStore implements AttemptHistoryStore {
  constructor(private readonly c: SqliteConnection) {}

  async listAttemptsByMessage(appId: string, messageId: string, q: AttemptQuery): Promise<Page<Attempt>> {
    const { where, args } = attemptFilters(q);
    return this.page({ from: 'attempts', key: 'id', where: ['app_id = ?', 'message_id = ?', ...where].join(' AND '), args: [appId, messageId, ...args], defaultOrder: 'descending', map: toAttempt }, q);
  }

  async listAttemptsByEndpoint(appId: string, endpointId: string, q: AttemptQuery): Promise<Page<Attempt>> {
    const { where, args } = attemptFilters(q);
    return this.page({ from: 'attempts', key: 'id', where: ['app_id = ?', 'endpoint_id = ?', ...where].join(' AND '), args: [appId, endpointId, ...args], defaultOrder: 'descending', map: toAttempt }, q);
  }

  async getAttempt(appId: string, messageId: string, attemptId: string): Promise<Attempt | null> {
    const r = this.c.q('SELECT * FROM attempts WHERE app_id = ? AND message_id = ? AND id = ?').get(appId, messageId, attemptId) as Row | undefined;
    return r ? toAttempt(r) : null;
  }

  async expungeAttemptContent(appId: string, messageId: string, attemptId: string): Promise<void> {
    this.c.q(`UPDATE attempts SET response = '' WHERE app_id = ? AND message_id = ? AND id = ?`).run(appId, messageId, attemptId);
  }

  async listMessageDestinations(
    appId: string,
    messageId: string,
    q: PageQuery,
  ): Promise<Page<{ endpoint: Endpoint; status: DeliveryStatus; nextAttemptAt: number | null }>> {
    const sql = `(SELECT e.*, d.status AS d_status, d.next_attempt_at AS d_next FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id
                  WHERE d.app_id = ? AND d.message_id = ?)`;
    const map = (r: Row) => ({
      endpoint: toEndpoint(r, this.c.box),
      status: r.d_status as DeliveryStatus,
      nextAttemptAt: r.d_status === DeliveryStatus.Pending ? ((r.d_next as number | null) ?? null) : null,
    });
    return this.page({ from: sql, key: 'id', where: '', args: [appId, messageId], defaultOrder: 'ascending', map }, q);
  }

  async listEndpointMessages(
    appId: string,
    endpointId: string,
    q: MessageQuery & { status?: DeliveryStatus | undefined },
  ): Promise<Page<{ message: Message; status: DeliveryStatus; nextAttemptAt: number | null }>> {
    const { where, args } = messageFilters('', q);
    if (q.status !== undefined) {
      where.push('d_status = ?');
      args.push(q.status);
    }
    const sql = `(SELECT m.*, d.status AS d_status, d.next_attempt_at AS d_next FROM deliveries d JOIN messages m ON m.id = d.message_id
                  WHERE d.app_id = ? AND d.endpoint_id = ?)`;
    const map = (r: Row) => ({
      message: toMessage(r),
      status: r.d_status as DeliveryStatus,
      nextAttemptAt: r.d_status === DeliveryStatus.Pending ? ((r.d_next as number | null) ?? null) : null,
    });
    return this.page({ from: sql, key: 'id', where: where.join(' AND '), args: [appId, endpointId, ...args], defaultOrder: 'descending', map }, q);
  }

  /** One page of a listing, its statements cached (one per combination of filters). */
  private page<T>(listing: SqliteListing<T>, q: PageQuery): Page<T> {
    return sqlitePage((sql) => this.c.q(sql), listing, q);
  }
}
