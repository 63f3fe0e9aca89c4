/** Attempt history on PostgreSQL: attempts, and deliveries with their state per message or endpoint. */
import type { PendingQuery, Row } from 'postgres';
import { idTime } from '../../domain/ids.js';
import { DeliveryStatus } from '../../domain/model.js';
import type { Attempt, Endpoint, Message } from '../../domain/model.js';
import type { AttemptHistoryStore, AttemptQuery } from '../contract/attempts.js';
import type { MessageQuery } from '../contract/messages.js';
import type { Page, PageQuery } from '../contract/paging.js';
import { ATTEMPT_TIME_SLACK_MS } from './attempt-partitions.js';
import type { PgConnection } from './connection.js';
import { attemptFilters, messageFilters } from './filters.js';
import { pgPage } from './paging.js';
import type { Params } from './paging.js';
import { toAttempt, toEndpoint, toMessage } from './rows.js';

/** Attempt history on PostgreSQL. */
export class PgAttemptHistoryStore implements AttemptHistoryStore {
  constructor(private readonly c: PgConnection) {}

  async listAttemptsByMessage(appId: string, messageId: string, q: AttemptQuery): Promise<Page<Attempt>> {
    // A message's attempts come after it: the partitions of earlier days are not read.
    const createdAt = idTime('message', messageId);
    const where = (p: Params) => [
      `app_id = ${p.add(appId)}`,
      `message_id = ${p.add(messageId)}`,
      ...(createdAt === null ? [] : [`created_at >= ${p.add(createdAt - ATTEMPT_TIME_SLACK_MS)}`]),
      ...attemptFilters(p, q),
    ];
    return pgPage(this.c.sql, { from: 'attempts', key: 'id', where, defaultOrder: 'descending', map: toAttempt }, q);
  }

  async listAttemptsByEndpoint(appId: string, endpointId: string, q: AttemptQuery): Promise<Page<Attempt>> {
    const where = (p: Params) => [`app_id = ${p.add(appId)}`, `endpoint_id = ${p.add(endpointId)}`, ...attemptFilters(p, q)];
    return pgPage(this.c.sql, { from: 'attempts', key: 'id', where, defaultOrder: 'descending', map: toAttempt }, q);
  }

  async getAttempt(appId: string, messageId: string, attemptId: string): Promise<Attempt | null> {
    const [r] = await this.c.sql`SELECT * FROM attempts WHERE app_id = ${appId} AND message_id = ${messageId} AND id = ${attemptId} ${this.createdAtOf(attemptId)}`;
    return r ? toAttempt(r) : null;
  }

  async expungeAttemptContent(appId: string, messageId: string, attemptId: string): Promise<void> {
    await this.c.sql`UPDATE attempts SET response = '' WHERE app_id = ${appId} AND message_id = ${messageId} AND id = ${attemptId} ${this.createdAtOf(attemptId)}`;
  }

  /**
   * The creation time an attempt id carries, as a condition: attempts are recorded with the
   * time their id was made from (engine/attempt-runner.ts), so PostgreSQL reads the one
   * partition of that time instead of probing every partition's primary key. Nothing for a
   * value that is not an attempt id (it matches no attempt either way).
   */
  private createdAtOf(attemptId: string): PendingQuery<Row[]> {
    const at = idTime('attempt', attemptId);
    return at === null ? this.c.sql`` : this.c.sql`AND created_at = ${at}`;
  }

  async listMessageDestinations(
    appId: string,
    messageId: string,
    q: PageQuery,
  ): Promise<Page<{ endpoint: Endpoint; status: DeliveryStatus; nextAttemptAt: number | null }>> {
    return pgPage(
      this.c.sql,
      {
        from: (p) => `(SELECT e.*, d.status AS d_status, d.next_attempt_at AS d_next FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id
                       WHERE d.app_id = ${p.add(appId)} AND d.message_id = ${p.add(messageId)})`,
        key: 'id',
        where: () => [],
        defaultOrder: 'ascending',
        map: (r) => ({
          endpoint: toEndpoint(r, this.c.box),
          status: r.d_status as DeliveryStatus,
          nextAttemptAt: r.d_status === DeliveryStatus.Pending ? ((r.d_next as number | null) ?? null) : null,
        }),
      },
      q,
    );
  }

  async listEndpointMessages(
    appId: string,
    endpointId: string,
    q: MessageQuery & { status?: DeliveryStatus | undefined },
  ): Promise<Page<{ message: Message; status: DeliveryStatus; nextAttemptAt: number | null }>> {
    return pgPage(
      this.c.sql,
      {
        from: (p) => `(SELECT m.*, d.status AS d_status, d.next_attempt_at AS d_next FROM deliveries d JOIN messages m ON m.app_id = d.app_id AND m.id = d.message_id
                       WHERE d.app_id = ${p.add(appId)} AND d.endpoint_id = ${p.add(endpointId)})`,
        key: 'id',
        where: (p) => [...messageFilters(p, q), ...(q.status !== undefined ? [`d_status = ${p.add(q.status)}`] : [])],
        defaultOrder: 'descending',
        map: (r) => ({
          message: toMessage(r),
          status: r.d_status as DeliveryStatus,
          nextAttemptAt: r.d_status === DeliveryStatus.Pending ? ((r.d_next as number | null) ?? null) : null,
        }),
      },
      q,
    );
  }
}
