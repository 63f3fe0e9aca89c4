/**
 * The pull store on PostgreSQL. Positions come from `messages.seq`, numbered by the
 * publishing transaction under the lock of the `pull_sequence` row, held until commit
 * (PostgresStore.publish): every node sees positions appear in commit order, so a reader
 * never passes a position that a later commit could fill. Changes of polling endpoints and
 * tokens queue a `pollers-changed` notice, so other nodes forget what they kept of them.
 */
import type { TransactionSql } from 'postgres';
import { idBoundary } from '../../domain/ids.js';
import { uniqueAsync } from '../shared/unique.js';
import { pgPage } from './paging.js';
import type { Params } from './paging.js';
import type { Page, PageQuery } from '../contract/paging.js';
import { POSITION_WINDOW_MS } from '../contract/pull.js';
import type { LogFilter, LogRead, PollerToken, PollingEndpoint, PullStore, SequencedMessage } from '../contract/pull.js';
import { json, toMessage, toPollerToken, toPollingEndpoint } from '../shared/rows.js';
import type { Row } from '../shared/rows.js';
import type { PgConnection } from './connection.js';

const UID_TAKEN = 'a polling endpoint with this uid already exists';

export class PgPullStore implements PullStore {
  constructor(private readonly c: PgConnection) {}

  /** Tells the other nodes, when `tx` commits, that the application's polling endpoints or tokens changed. */
  private changed(tx: TransactionSql, appId: string): Promise<void> {
    return this.c.notify(tx, [{ kind: 'pollers-changed', appId }]);
  }

  async createPollingEndpoint(p: PollingEndpoint, token: PollerToken): Promise<void> {
    await uniqueAsync(UID_TAKEN, () =>
      this.c.sql.begin(async (tx) => {
        await tx`
          INSERT INTO polling_endpoints (id, app_id, uid, description, event_types, channels, metadata, created_at, updated_at)
          VALUES (${p.id}, ${p.appId}, ${p.uid}, ${p.description}, ${json(p.eventTypes)}, ${json(p.channels)}, ${JSON.stringify(p.metadata)}, ${p.createdAt}, ${p.updatedAt})`;
        await tx`
          INSERT INTO poller_tokens (id, polling_endpoint_id, app_id, token_hash, sealed, created_at, expires_at)
          VALUES (${token.id}, ${token.pollingEndpointId}, ${token.appId}, ${token.tokenHash}, ${this.c.box.seal(token.token)}, ${token.createdAt}, ${token.expiresAt})`;
      }),
    );
  }

  async getPollingEndpoint(appId: string, idOrUid: string): Promise<PollingEndpoint | null> {
    const [r] = await this.c.sql`SELECT * FROM polling_endpoints WHERE id = ${idOrUid} AND app_id = ${appId}
      UNION ALL SELECT * FROM polling_endpoints WHERE app_id = ${appId} AND uid = ${idOrUid} LIMIT 1`;
    return r ? toPollingEndpoint(r) : null;
  }

  async listPollingEndpoints(appId: string, q: PageQuery): Promise<Page<PollingEndpoint>> {
    const where = (p: Params) => [`app_id = ${p.add(appId)}`];
    return pgPage(this.c.sql, { from: 'polling_endpoints', key: 'id', where, defaultOrder: 'ascending', map: toPollingEndpoint }, q);
  }

  async updatePollingEndpoint(p: PollingEndpoint): Promise<void> {
    await uniqueAsync(UID_TAKEN, () =>
      this.c.sql.begin(async (tx) => {
        await tx`
          UPDATE polling_endpoints SET uid = ${p.uid}, description = ${p.description}, event_types = ${json(p.eventTypes)},
            channels = ${json(p.channels)}, metadata = ${JSON.stringify(p.metadata)}, updated_at = ${p.updatedAt}
          WHERE id = ${p.id} AND app_id = ${p.appId}`;
        await this.changed(tx, p.appId);
      }),
    );
  }

  async deletePollingEndpoint(appId: string, id: string): Promise<void> {
    await this.c.sql.begin(async (tx) => {
      await tx`DELETE FROM polling_consumers WHERE polling_endpoint_id = ${id}`;
      await tx`DELETE FROM poller_tokens WHERE polling_endpoint_id = ${id}`;
      await tx`DELETE FROM polling_endpoints WHERE id = ${id} AND app_id = ${appId}`;
      await this.changed(tx, appId);
    });
  }

  async readLog(appId: string, after: number, limit: number, filter: LogFilter): Promise<LogRead> {
    const args: unknown[] = [appId, after];
    const where = ['app_id = $1', 'seq > $2'];
    let impossible = false;
    const inList = (column: string, values: readonly string[] | null | undefined, isJson: boolean): void => {
      if (values === null || values === undefined) return;
      if (values.length === 0) {
        impossible = true;
        return;
      }
      args.push([...values]);
      where.push(isJson ? `${column} ?| $${args.length}::text[]` : `${column} = ANY($${args.length}::text[])`);
    };
    inList('event_type', filter.eventTypes, false);
    inList('channels', filter.channels, true);
    inList('tags', filter.tags, true);
    args.push(limit + 1);
    const text = `SELECT seq, id, app_id, event_type, event_id, channels, tags, payload, created_at FROM messages
                  WHERE ${where.join(' AND ')} ORDER BY seq LIMIT $${args.length}`;
    const rows = impossible ? [] : ((await this.c.sql.unsafe(text, args as never[], { prepare: true })) as Row[]);
    // Read after the rows: a deletion that raced the read shows as a horizon above `after`.
    const horizon = await this.horizon(appId);
    const more = rows.length > limit;
    const messages: SequencedMessage[] = (more ? rows.slice(0, limit) : rows).map((r) => ({ seq: r.seq as number, message: toMessage(r) }));
    return { messages, more, horizon };
  }

  async head(): Promise<number> {
    const [r] = await this.c.sql`SELECT last FROM pull_sequence WHERE id = 1`;
    return (r?.last as number | undefined) ?? 0;
  }

  async horizon(appId: string): Promise<number> {
    const [r] = await this.c.sql`SELECT purged_seq FROM pull_horizon WHERE app_id = ${appId}`;
    return (r?.purged_seq as number | undefined) ?? 0;
  }

  async positionAt(appId: string, timeMs: number): Promise<number> {
    const lo = idBoundary('message', timeMs + 1);
    const hi = idBoundary('message', timeMs + 1 + POSITION_WINDOW_MS);
    const [r] = await this.c.sql`
      SELECT (SELECT MIN(seq) FROM messages WHERE app_id = ${appId} AND id >= ${lo} AND id < ${hi}) AS in_window,
             (SELECT seq FROM messages WHERE app_id = ${appId} AND id >= ${hi} ORDER BY id LIMIT 1) AS later,
             (SELECT last FROM pull_sequence WHERE id = 1) AS last`;
    const candidates = [r?.in_window, r?.later].filter((s): s is number => typeof s === 'number');
    if (candidates.length === 0) return (r?.last as number | null | undefined) ?? 0;
    return Math.min(...candidates) - 1;
  }

  async getCursor(pollingEndpointId: string, consumerId: string): Promise<number | null> {
    const [r] = await this.c.sql`SELECT cursor FROM polling_consumers WHERE polling_endpoint_id = ${pollingEndpointId} AND consumer_id = ${consumerId}`;
    return r ? (r.cursor as number) : null;
  }

  async setCursor(pollingEndpointId: string, consumerId: string, cursor: number, nowMs: number): Promise<void> {
    await this.c.sql`
      INSERT INTO polling_consumers (polling_endpoint_id, consumer_id, cursor, created_at, updated_at)
      VALUES (${pollingEndpointId}, ${consumerId}, ${cursor}, ${nowMs}, ${nowMs})
      ON CONFLICT (polling_endpoint_id, consumer_id) DO UPDATE SET cursor = EXCLUDED.cursor, updated_at = EXCLUDED.updated_at`;
  }

  async currentToken(pollingEndpointId: string): Promise<PollerToken | null> {
    const [r] = await this.c.sql`SELECT * FROM poller_tokens WHERE polling_endpoint_id = ${pollingEndpointId} ORDER BY created_at DESC, n DESC LIMIT 1`;
    return r ? toPollerToken(r, this.c.box) : null;
  }

  async findToken(tokenHash: string): Promise<PollerToken | null> {
    const [r] = await this.c.sql`SELECT * FROM poller_tokens WHERE token_hash = ${tokenHash}`;
    return r ? toPollerToken(r, this.c.box) : null;
  }

  async rotateToken(token: PollerToken, oldExpiresAt: number, nowMs: number): Promise<void> {
    await this.c.sql.begin(async (tx) => {
      await tx`UPDATE poller_tokens SET expires_at = LEAST(COALESCE(expires_at, ${oldExpiresAt}::bigint), ${oldExpiresAt}::bigint)
               WHERE polling_endpoint_id = ${token.pollingEndpointId}`;
      await tx`DELETE FROM poller_tokens WHERE polling_endpoint_id = ${token.pollingEndpointId} AND expires_at <= ${nowMs}`;
      await tx`
        INSERT INTO poller_tokens (id, polling_endpoint_id, app_id, token_hash, sealed, created_at, expires_at)
        VALUES (${token.id}, ${token.pollingEndpointId}, ${token.appId}, ${token.tokenHash}, ${this.c.box.seal(token.token)}, ${token.createdAt}, ${token.expiresAt})`;
      await this.changed(tx, token.appId);
    });
  }
}
