/**
 * The StreamStore on SQLite: streams, event types, sinks, each stream's event log, sink
 * leases and attempts, stream tokens. One process writes the file, so a lease is taken in
 * an immediate transaction; the lease token still fences a settle that comes too late.
 */
import type { Database as Db, Statement } from 'better-sqlite3';
import type { SecretBox } from '../../security/crypto.js';
import type { Page, PageQuery } from '../contract/paging.js';
import type {
  LeasedSink,
  NewStreamEvent,
  SinkAttempt,
  SinkRecord,
  SinkSettlement,
  StreamEvent,
  StreamEventTypeRecord,
  StreamRecord,
  StreamStore,
  StreamTokenRecord,
} from '../contract/streams.js';
import type { Row } from '../shared/rows.js';
import {
  EVENT_TYPE_TAKEN,
  SINK_UID_TAKEN,
  STREAM_UID_TAKEN,
  sealedSinkColumns,
  toSink,
  toSinkAttempt,
  toStream,
  toStreamEvent,
  toStreamEventType,
  toStreamToken,
} from '../shared/stream-rows.js';
import { unique } from '../shared/unique.js';
import { sqlitePage } from './paging.js';
import type { SqliteConnection } from './connection.js';
import { BOUND_LIMIT, type StatementCache } from './statements.js';

const bit = (b: boolean): number => (b ? 1 : 0);

export class SqliteStreamStore implements StreamStore {
  private readonly db: Db;
  /** Seals sink configs, secrets, headers and poller tokens at rest. */
  private readonly box: SecretBox;
  private readonly statements: StatementCache;

  constructor(private readonly c: SqliteConnection) {
    this.db = c.db;
    this.box = c.box;
    this.statements = c.statements;
  }

  private q(sql: string): Statement {
    return this.statements.get(sql);
  }

  private page<T>(from: string, key: string, where: string, args: unknown[], map: (r: Row) => T, q: PageQuery): Page<T> {
    return sqlitePage((sql) => this.q(sql), { from, key, where, args, defaultOrder: 'ascending', map }, q);
  }

  // ---- streams

  async createStream(s: StreamRecord): Promise<void> {
    unique(STREAM_UID_TAKEN, () =>
      this.q('INSERT INTO streams (id, uid, name, description, metadata, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
        s.id,
        s.uid,
        s.name,
        s.description,
        JSON.stringify(s.metadata),
        s.createdAt,
        s.updatedAt,
      ),
    );
  }

  async getStream(idOrUid: string): Promise<StreamRecord | null> {
    const r = (this.q('SELECT * FROM streams WHERE id = ?').get(idOrUid) ?? this.q('SELECT * FROM streams WHERE uid = ?').get(idOrUid)) as Row | undefined;
    return r ? toStream(r) : null;
  }

  async listStreams(q: PageQuery): Promise<Page<StreamRecord>> {
    return this.page('streams', 'id', '', [], toStream, q);
  }

  async updateStream(s: StreamRecord): Promise<void> {
    unique(STREAM_UID_TAKEN, () =>
      this.q('UPDATE streams SET uid = ?, name = ?, description = ?, metadata = ?, updated_at = ? WHERE id = ?').run(
        s.uid,
        s.name,
        s.description,
        JSON.stringify(s.metadata),
        s.updatedAt,
        s.id,
      ),
    );
  }

  async deleteStream(id: string): Promise<void> {
    this.db.transaction(() => {
      for (const t of ['stream_sink_attempts', 'stream_events', 'stream_sinks', 'stream_tokens']) this.q(`DELETE FROM ${t} WHERE stream_id = ?`).run(id);
      this.q('DELETE FROM streams WHERE id = ?').run(id);
    })();
  }

  // ---- event types

  async createEventType(et: StreamEventTypeRecord): Promise<void> {
    unique(EVENT_TYPE_TAKEN, () =>
      this.q(
        'INSERT INTO stream_event_types (name, description, archived, deprecated, feature_flags, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ).run(et.name, et.description, bit(et.archived), bit(et.deprecated), et.featureFlags === null ? null : JSON.stringify(et.featureFlags), et.createdAt, et.updatedAt),
    );
  }

  async getEventType(name: string): Promise<StreamEventTypeRecord | null> {
    const r = this.q('SELECT * FROM stream_event_types WHERE name = ?').get(name) as Row | undefined;
    return r ? toStreamEventType(r) : null;
  }

  async listEventTypes(q: PageQuery & { includeArchived: boolean }): Promise<Page<StreamEventTypeRecord>> {
    return this.page('stream_event_types', 'name', q.includeArchived ? '' : 'archived = 0', [], toStreamEventType, q);
  }

  async updateEventType(et: StreamEventTypeRecord): Promise<void> {
    this.q('UPDATE stream_event_types SET description = ?, archived = ?, deprecated = ?, feature_flags = ?, updated_at = ? WHERE name = ?').run(
      et.description,
      bit(et.archived),
      bit(et.deprecated),
      et.featureFlags === null ? null : JSON.stringify(et.featureFlags),
      et.updatedAt,
      et.name,
    );
  }

  async deleteEventType(name: string): Promise<void> {
    this.q('DELETE FROM stream_event_types WHERE name = ?').run(name);
  }

  // ---- sinks

  async createSink(s: SinkRecord): Promise<void> {
    const sealed = sealedSinkColumns(s, this.box);
    unique(SINK_UID_TAKEN, () =>
      this.q(
        `INSERT INTO stream_sinks (id, stream_id, uid, type, config, batch_size, max_wait_secs, event_types, metadata, status, failure_reason,
           next_retry_at, failures, cursor, secret, headers, transformation_code, transformation_enabled, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        s.id,
        s.streamId,
        s.uid,
        s.type,
        sealed.config,
        s.batchSize,
        s.maxWaitSecs,
        JSON.stringify(s.eventTypes),
        JSON.stringify(s.metadata),
        s.status,
        s.failureReason,
        s.nextRetryAt,
        s.failures,
        s.cursor,
        sealed.secret,
        sealed.headers,
        s.transformationCode,
        bit(s.transformationEnabled),
        s.createdAt,
        s.updatedAt,
      ),
    );
  }

  async getSink(streamId: string, idOrUid: string): Promise<SinkRecord | null> {
    const r = (this.q('SELECT * FROM stream_sinks WHERE stream_id = ? AND id = ?').get(streamId, idOrUid) ??
      this.q('SELECT * FROM stream_sinks WHERE stream_id = ? AND uid = ?').get(streamId, idOrUid)) as Row | undefined;
    return r ? toSink(r, this.box) : null;
  }

  async listSinks(streamId: string, q: PageQuery): Promise<Page<SinkRecord>> {
    return this.page('stream_sinks', 'id', 'stream_id = ?', [streamId], (r) => toSink(r, this.box), q);
  }

  async listDeliverableSinks(): Promise<SinkRecord[]> {
    const rows = this.q(`SELECT * FROM stream_sinks WHERE type <> 'poller' AND status <> 'disabled' ORDER BY id`).all() as Row[];
    return rows.map((r) => toSink(r, this.box));
  }

  async updateSink(s: SinkRecord): Promise<void> {
    const sealed = sealedSinkColumns(s, this.box);
    unique(SINK_UID_TAKEN, () =>
      this.q(
        `UPDATE stream_sinks SET uid = ?, type = ?, config = ?, batch_size = ?, max_wait_secs = ?, event_types = ?, metadata = ?, status = ?,
           failure_reason = ?, next_retry_at = ?, failures = ?, secret = ?, headers = ?, transformation_code = ?, transformation_enabled = ?, updated_at = ?
         WHERE id = ? AND stream_id = ?`,
      ).run(
        s.uid,
        s.type,
        sealed.config,
        s.batchSize,
        s.maxWaitSecs,
        JSON.stringify(s.eventTypes),
        JSON.stringify(s.metadata),
        s.status,
        s.failureReason,
        s.nextRetryAt,
        s.failures,
        sealed.secret,
        sealed.headers,
        s.transformationCode,
        bit(s.transformationEnabled),
        s.updatedAt,
        s.id,
        s.streamId,
      ),
    );
  }

  async deleteSink(streamId: string, id: string): Promise<void> {
    this.db.transaction(() => {
      this.q('DELETE FROM stream_sink_attempts WHERE stream_id = ? AND sink_id = ?').run(streamId, id);
      this.q('DELETE FROM stream_tokens WHERE stream_id = ? AND sink_id = ?').run(streamId, id);
      this.q('DELETE FROM stream_sinks WHERE stream_id = ? AND id = ?').run(streamId, id);
    })();
  }

  async setSinkCursor(sinkId: string, cursor: number): Promise<void> {
    await this.c.durably(() => this.q('UPDATE stream_sinks SET cursor = ? WHERE id = ?').run(cursor, sinkId));
  }

  // ---- the event log

  async appendEvents(streamId: string, events: NewStreamEvent[]): Promise<StreamEvent[]> {
    // As a publish: stored once the WAL is synced, off the event loop.
    return this.c.durably(() => this.appendEventsTx(streamId, events));
  }

  private appendEventsTx(streamId: string, events: NewStreamEvent[]): StreamEvent[] {
    return this.db
      .transaction((): StreamEvent[] => {
        const stored: StreamEvent[] = [];
        const exists = this.q('SELECT 1 FROM stream_events WHERE stream_id = ? AND id = ?');
        const insert = this.q('INSERT INTO stream_events (stream_id, seq, id, event_type, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)');
        let seq = ((this.q('SELECT last_seq FROM streams WHERE id = ?').get(streamId) as Row | undefined)?.last_seq as number | undefined) ?? 0;
        const seen = new Set<string>();
        for (const e of events) {
          if (seen.has(e.id) || exists.get(streamId, e.id)) continue;
          seen.add(e.id);
          seq += 1;
          insert.run(streamId, seq, e.id, e.eventType, e.payload, e.createdAt);
          stored.push({ ...e, streamId, seq });
        }
        if (stored.length > 0) this.q('UPDATE streams SET last_seq = ? WHERE id = ?').run(seq, streamId);
        return stored;
      })
      .immediate();
  }

  async readEvents(streamId: string, afterSeq: number, limit: number, eventTypes: string[]): Promise<StreamEvent[]> {
    if (eventTypes.length === 0) {
      const rows = this.q(`SELECT * FROM stream_events WHERE stream_id = ? AND seq > ? ORDER BY seq ${BOUND_LIMIT}`).all(streamId, afterSeq, limit) as Row[];
      return rows.map(toStreamEvent);
    }
    const rows = this.q(
      `SELECT * FROM stream_events WHERE stream_id = ? AND seq > ? AND event_type IN (SELECT value FROM json_each(?)) ORDER BY seq ${BOUND_LIMIT}`,
    ).all(streamId, afterSeq, JSON.stringify(eventTypes), limit) as Row[];
    return rows.map(toStreamEvent);
  }

  async seqBefore(streamId: string, time: number): Promise<number> {
    const first = this.q('SELECT MIN(seq) AS s FROM stream_events WHERE stream_id = ? AND created_at >= ?').get(streamId, time) as Row;
    if (first.s !== null) return (first.s as number) - 1;
    return this.lastSeq(streamId);
  }

  async lastSeq(streamId: string): Promise<number> {
    const r = this.q('SELECT last_seq FROM streams WHERE id = ?').get(streamId) as Row | undefined;
    return (r?.last_seq as number | undefined) ?? 0;
  }

  // ---- leases

  /**
   * Runs every round (each second at least), so it takes the write lock only when a read finds
   * due sinks (a reader takes no lock in WAL mode), and never waits out another process's lock:
   * each wait would stop the event loop for the busy timeout. The round fails with SQLITE_BUSY
   * instead, and the next one tries again.
   */
  async leaseDueSinks(now: number, leaseMs: number, limit: number): Promise<LeasedSink[]> {
    const due = (): Row[] =>
      this.q(
        `SELECT s.* FROM stream_sinks s JOIN streams st ON st.id = s.stream_id
         WHERE s.type <> 'poller' AND s.status IN ('enabled', 'retrying') AND (s.next_retry_at IS NULL OR s.next_retry_at <= ?)
           AND (s.lease_until IS NULL OR s.lease_until <= ?) AND st.last_seq > s.cursor
         ORDER BY s.next_retry_at IS NOT NULL, s.next_retry_at, s.id ${BOUND_LIMIT}`,
      ).all(now, now, limit) as Row[];
    if (due().length === 0) return [];
    // Leases and settlements are relaxed, as claims and attempt records: losing one to a power
    // cut only means a batch delivered again.
    return this.c.withoutLockWait(() =>
      this.c.relaxed(() =>
        this.db
          .transaction((): LeasedSink[] => {
            // Read again under the lock: another process may have leased some meanwhile.
            const take = this.q('UPDATE stream_sinks SET lease_until = ?, lease_token = lease_token + 1 WHERE id = ? RETURNING lease_token');
            return due().map((r) => {
              const t = take.get(now + leaseMs, r.id) as Row;
              return { sink: toSink(r, this.box), leaseToken: t.lease_token as number };
            });
          })
          .immediate(),
      ),
    );
  }

  async settleSink(sinkId: string, leaseToken: number, st: SinkSettlement, a: SinkAttempt): Promise<boolean> {
    return this.c.relaxed(() => this.settleSinkTx(sinkId, leaseToken, st, a));
  }

  private settleSinkTx(sinkId: string, leaseToken: number, st: SinkSettlement, a: SinkAttempt): boolean {
    return this.db
      .transaction((): boolean => {
        const res = this.q(
          `UPDATE stream_sinks SET cursor = COALESCE(?, cursor), status = ?, failure_reason = ?, next_retry_at = ?, failures = ?, lease_until = NULL
           WHERE id = ? AND lease_token = ? AND lease_until IS NOT NULL`,
        ).run(st.cursor ?? null, st.status, st.failureReason, st.nextRetryAt, st.failures, sinkId, leaseToken);
        if (res.changes === 0) return false;
        this.q(
          `INSERT INTO stream_sink_attempts (id, stream_id, sink_id, first_seq, last_seq, count, outcome, response_status, error, duration_ms, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(a.id, a.streamId, a.sinkId, a.firstSeq, a.lastSeq, a.count, a.outcome, a.responseStatus, a.error, a.durationMs, a.createdAt);
        return true;
      })
      .immediate();
  }

  async releaseSink(sinkId: string, leaseToken: number): Promise<void> {
    this.c.relaxed(() => this.q('UPDATE stream_sinks SET lease_until = NULL WHERE id = ? AND lease_token = ?').run(sinkId, leaseToken));
  }

  async listSinkAttempts(sinkId: string, q: PageQuery): Promise<Page<SinkAttempt>> {
    return this.page(
      'stream_sink_attempts',
      'id',
      'stream_id = (SELECT stream_id FROM stream_sinks WHERE id = ?) AND sink_id = ?',
      [sinkId, sinkId],
      toSinkAttempt,
      { ...q, order: q.order ?? 'descending' },
    );
  }

  // ---- tokens

  async createStreamToken(t: StreamTokenRecord): Promise<void> {
    this.insertToken(t);
  }

  private insertToken(t: StreamTokenRecord): void {
    this.q(
      'INSERT INTO stream_tokens (id, hash, kind, stream_id, sink_id, session_id, sealed, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(t.id, t.hash, t.kind, t.streamId, t.sinkId, t.sessionId, t.token === null ? null : this.box.seal(t.token), t.createdAt, t.expiresAt, t.revokedAt);
  }

  async streamTokenByHash(hash: string): Promise<StreamTokenRecord | null> {
    const r = this.q('SELECT * FROM stream_tokens WHERE hash = ?').get(hash) as Row | undefined;
    return r ? toStreamToken(r, this.box) : null;
  }

  async currentPollerToken(sinkId: string): Promise<StreamTokenRecord | null> {
    const r = this.q(
      `SELECT * FROM stream_tokens WHERE sink_id = ? AND kind = 'poller' AND expires_at IS NULL AND revoked_at IS NULL ORDER BY id DESC LIMIT 1`,
    ).get(sinkId) as Row | undefined;
    return r ? toStreamToken(r, this.box) : null;
  }

  async rotatePollerToken(t: StreamTokenRecord, oldExpiresAt: number): Promise<void> {
    this.db.transaction(() => {
      this.q(
        `UPDATE stream_tokens SET expires_at = ? WHERE sink_id = ? AND kind = 'poller' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)`,
      ).run(oldExpiresAt, t.sinkId, oldExpiresAt);
      this.insertToken(t);
    })();
  }

  async expirePortalTokens(streamId: string, at: number, sessionIds: string[] | null): Promise<number> {
    const ids = sessionIds === null ? '' : ' AND session_id IN (SELECT value FROM json_each(?))';
    const args: unknown[] = [at, streamId, at];
    if (sessionIds !== null) args.push(JSON.stringify(sessionIds));
    return this.q(
      `UPDATE stream_tokens SET expires_at = ? WHERE stream_id = ? AND kind = 'portal' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)${ids}`,
    ).run(...args).changes;
  }

  async revokeStreamToken(id: string, now: number): Promise<void> {
    this.q('UPDATE stream_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now, id);
  }
}
