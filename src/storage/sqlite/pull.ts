/**
 * The pull store on SQLite. Positions come from `messages.seq`, assigned from `pull_sequence`
 * by the publishing transaction (`SqliteStore.publish`); SQLite's single writer makes them visible in
 * commit order, so a reader never passes a position that a later commit could fill.
 */
import type { Database as Db, Statement } from 'better-sqlite3';
import type { SecretBox } from '../../security/crypto.js';
import type { SqliteConnection } from './connection.js';
import { idBoundary } from '../../domain/ids.js';
import { unique } from '../shared/unique.js';
import { sqlitePage } from './paging.js';
import type { Page, PageQuery } from '../contract/paging.js';
import { POSITION_WINDOW_MS } from '../contract/pull.js';
import type { LogFilter, LogRead, PollerToken, PollingEndpoint, PullStore, SequencedMessage } from '../contract/pull.js';
import { json, toMessage, toPollerToken, toPollingEndpoint } from '../shared/rows.js';
import type { Row } from '../shared/rows.js';
import { BOUND_LIMIT } from './statements.js';

function toSequenced(r: Row): SequencedMessage {
  return { seq: r.seq as number, message: toMessage(r) };
}

export class SqlitePullStore implements PullStore {
  private readonly db: Db;
  /** Seals tokens at rest (they are shown again on request). */
  private readonly box: SecretBox;

  constructor(private readonly c: SqliteConnection) {
    this.db = c.db;
    this.box = c.box;
  }

  /** A cached prepared statement (prepared on first use: the tables exist only after migrating). */
  private q(sql: string): Statement {
    return this.c.q(sql);
  }

  async createPollingEndpoint(p: PollingEndpoint, token: PollerToken): Promise<void> {
    unique('a polling endpoint with this uid already exists', () =>
      this.db.transaction(() => {
        this.q(
          `INSERT INTO polling_endpoints (id, app_id, uid, description, event_types, channels, metadata, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(p.id, p.appId, p.uid, p.description, json(p.eventTypes), json(p.channels), JSON.stringify(p.metadata), p.createdAt, p.updatedAt);
        this.insertToken(token);
      })(),
    );
  }

  async getPollingEndpoint(appId: string, idOrUid: string): Promise<PollingEndpoint | null> {
    const r = (this.q('SELECT * FROM polling_endpoints WHERE id = ? AND app_id = ?').get(idOrUid, appId) ??
      this.q('SELECT * FROM polling_endpoints WHERE app_id = ? AND uid = ?').get(appId, idOrUid)) as Row | undefined;
    return r ? toPollingEndpoint(r) : null;
  }

  async listPollingEndpoints(appId: string, q: PageQuery): Promise<Page<PollingEndpoint>> {
    return sqlitePage((sql) => this.q(sql), { from: 'polling_endpoints', key: 'id', where: 'app_id = ?', args: [appId], defaultOrder: 'ascending', map: toPollingEndpoint }, q);
  }

  async updatePollingEndpoint(p: PollingEndpoint): Promise<void> {
    unique('a polling endpoint with this uid already exists', () =>
      this.q(
        `UPDATE polling_endpoints SET uid = ?, description = ?, event_types = ?, channels = ?, metadata = ?, updated_at = ?
         WHERE id = ? AND app_id = ?`,
      ).run(p.uid, p.description, json(p.eventTypes), json(p.channels), JSON.stringify(p.metadata), p.updatedAt, p.id, p.appId),
    );
  }

  async deletePollingEndpoint(appId: string, id: string): Promise<void> {
    this.db.transaction(() => {
      this.q('DELETE FROM polling_consumers WHERE polling_endpoint_id = ?').run(id);
      this.q('DELETE FROM poller_tokens WHERE polling_endpoint_id = ?').run(id);
      this.q('DELETE FROM polling_endpoints WHERE id = ? AND app_id = ?').run(id, appId);
    })();
  }

  async readLog(appId: string, after: number, limit: number, filter: LogFilter): Promise<LogRead> {
    const where = ['app_id = ?', 'seq > ?'];
    const args: unknown[] = [appId, after];
    let impossible = false;
    // Lists travel as one JSON parameter, so each combination of filters is one statement.
    const inList = (column: string, values: readonly string[] | null | undefined, viaJson: boolean): void => {
      if (values === null || values === undefined) return;
      if (values.length === 0) {
        impossible = true;
        return;
      }
      const set = 'SELECT value FROM json_each(?)';
      where.push(viaJson ? `EXISTS (SELECT 1 FROM json_each(${column}) WHERE value IN (${set}))` : `${column} IN (${set})`);
      args.push(JSON.stringify(values));
    };
    inList('event_type', filter.eventTypes, false);
    inList('channels', filter.channels, true);
    inList('tags', filter.tags, true);
    const sql = `SELECT seq, id, app_id, event_type, event_id, channels, tags, payload, created_at FROM messages
                 WHERE ${where.join(' AND ')} ORDER BY seq ${BOUND_LIMIT}`;
    // One snapshot: the horizon read after the rows tells whether a deletion raced the read.
    return this.db.transaction((): LogRead => {
      const rows = impossible ? [] : (this.q(sql).all(...args, limit + 1) as Row[]);
      const more = rows.length > limit;
      const messages = (more ? rows.slice(0, limit) : rows).map(toSequenced);
      return { messages, more, horizon: this.horizonOf(appId) };
    })();
  }

  async head(): Promise<number> {
    const r = this.q('SELECT last FROM pull_sequence WHERE id = 1').get() as Row | undefined;
    return (r?.last as number | undefined) ?? 0;
  }

  async horizon(appId: string): Promise<number> {
    return this.horizonOf(appId);
  }

  private horizonOf(appId: string): number {
    const r = this.q('SELECT purged_seq FROM pull_horizon WHERE app_id = ?').get(appId) as Row | undefined;
    return (r?.purged_seq as number | undefined) ?? 0;
  }

  async positionAt(appId: string, timeMs: number): Promise<number> {
    return this.db.transaction((): number => {
      const lo = idBoundary('message', timeMs + 1);
      const hi = idBoundary('message', timeMs + 1 + POSITION_WINDOW_MS);
      const inWindow = this.q('SELECT MIN(seq) AS s FROM messages WHERE app_id = ? AND id >= ? AND id < ?').get(appId, lo, hi) as Row;
      const later = this.q('SELECT seq AS s FROM messages WHERE app_id = ? AND id >= ? ORDER BY id LIMIT 1').get(appId, hi) as Row | undefined;
      const candidates = [inWindow.s, later?.s].filter((s): s is number => typeof s === 'number');
      if (candidates.length === 0) {
        const r = this.q('SELECT last FROM pull_sequence WHERE id = 1').get() as Row | undefined;
        return (r?.last as number | undefined) ?? 0;
      }
      return Math.min(...candidates) - 1;
    })();
  }

  async getCursor(pollingEndpointId: string, consumerId: string): Promise<number | null> {
    const r = this.q('SELECT cursor FROM polling_consumers WHERE polling_endpoint_id = ? AND consumer_id = ?').get(pollingEndpointId, consumerId) as Row | undefined;
    return r ? (r.cursor as number) : null;
  }

  async setCursor(pollingEndpointId: string, consumerId: string, cursor: number, nowMs: number): Promise<void> {
    // Durable before the consumer is answered, its fsync off the event loop.
    await this.c.durably(() =>
      this.q(
        `INSERT INTO polling_consumers (polling_endpoint_id, consumer_id, cursor, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (polling_endpoint_id, consumer_id) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at`,
      ).run(pollingEndpointId, consumerId, cursor, nowMs, nowMs),
    );
  }

  async currentToken(pollingEndpointId: string): Promise<PollerToken | null> {
    const r = this.q('SELECT * FROM poller_tokens WHERE polling_endpoint_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 1').get(pollingEndpointId) as Row | undefined;
    return r ? toPollerToken(r, this.box) : null;
  }

  async findToken(tokenHash: string): Promise<PollerToken | null> {
    const r = this.q('SELECT * FROM poller_tokens WHERE token_hash = ?').get(tokenHash) as Row | undefined;
    return r ? toPollerToken(r, this.box) : null;
  }

  async rotateToken(token: PollerToken, oldExpiresAt: number, nowMs: number): Promise<void> {
    this.db.transaction(() => {
      this.q('UPDATE poller_tokens SET expires_at = MIN(COALESCE(expires_at, ?), ?) WHERE polling_endpoint_id = ?').run(oldExpiresAt, oldExpiresAt, token.pollingEndpointId);
      this.q('DELETE FROM poller_tokens WHERE polling_endpoint_id = ? AND expires_at <= ?').run(token.pollingEndpointId, nowMs);
      this.insertToken(token);
    })();
  }

  private insertToken(t: PollerToken): void {
    this.q(
      `INSERT INTO poller_tokens (id, polling_endpoint_id, app_id, token_hash, sealed, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(t.id, t.pollingEndpointId, t.appId, t.tokenHash, this.box.seal(t.token), t.createdAt, t.expiresAt);
  }
}
