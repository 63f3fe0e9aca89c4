/**
 * The StreamStore on PostgreSQL, shared by several nodes. Appends take the stream's row lock
 * (its `last_seq` counter) in their transaction, so sequences are consecutive per stream
 * whichever node appends; sinks are leased with `FOR UPDATE SKIP LOCKED` and a lease token
 * that fences a node whose lease ran out.
 */
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
import { uniqueAsync } from '../shared/unique.js';
import type { PgConnection } from './connection.js';
import { pgPage } from './paging.js';
import { jsonParam } from './text.js';


export class PgStreamStore implements StreamStore {
  /** Its pool, and the box that seals sink configs, secrets, headers and poller tokens at rest. */
  constructor(private readonly c: PgConnection) {}

  // ---- streams

  async createStream(s: StreamRecord): Promise<void> {
    await uniqueAsync(
      STREAM_UID_TAKEN,
      () => this.c.sql`
        INSERT INTO streams (id, uid, name, description, metadata, created_at, updated_at)
        VALUES (${s.id}, ${s.uid}, ${s.name}, ${s.description}, ${JSON.stringify(s.metadata)}, ${s.createdAt}, ${s.updatedAt})`,
    );
  }

  async getStream(idOrUid: string): Promise<StreamRecord | null> {
    const [r] = await this.c.sql<Row[]>`SELECT * FROM streams WHERE id = ${idOrUid} OR uid = ${idOrUid} ORDER BY (id = ${idOrUid}) DESC LIMIT 1`;
    return r ? toStream(r) : null;
  }

  async listStreams(q: PageQuery): Promise<Page<StreamRecord>> {
    return pgPage(this.c.sql, { from: 'streams', key: 'id', where: () => [], defaultOrder: 'ascending', map: toStream }, q);
  }

  async updateStream(s: StreamRecord): Promise<void> {
    await uniqueAsync(
      STREAM_UID_TAKEN,
      () => this.c.sql`
        UPDATE streams SET uid = ${s.uid}, name = ${s.name}, description = ${s.description}, metadata = ${JSON.stringify(s.metadata)},
          updated_at = ${s.updatedAt} WHERE id = ${s.id}`,
    );
  }

  async deleteStream(id: string): Promise<void> {
    await this.c.sql.begin(async (tx) => {
      await tx`DELETE FROM stream_sink_attempts WHERE stream_id = ${id}`;
      await tx`DELETE FROM stream_events WHERE stream_id = ${id}`;
      await tx`DELETE FROM stream_sinks WHERE stream_id = ${id}`;
      await tx`DELETE FROM stream_tokens WHERE stream_id = ${id}`;
      await tx`DELETE FROM streams WHERE id = ${id}`;
    });
  }

  // ---- event types

  async createEventType(et: StreamEventTypeRecord): Promise<void> {
    await uniqueAsync(
      EVENT_TYPE_TAKEN,
      () => this.c.sql`
        INSERT INTO stream_event_types (name, description, archived, deprecated, feature_flags, created_at, updated_at)
        VALUES (${et.name}, ${et.description}, ${et.archived}, ${et.deprecated}, ${et.featureFlags === null ? null : JSON.stringify(et.featureFlags)},
          ${et.createdAt}, ${et.updatedAt})`,
    );
  }

  async getEventType(name: string): Promise<StreamEventTypeRecord | null> {
    const [r] = await this.c.sql<Row[]>`SELECT * FROM stream_event_types WHERE name = ${name}`;
    return r ? toStreamEventType(r) : null;
  }

  async listEventTypes(q: PageQuery & { includeArchived: boolean }): Promise<Page<StreamEventTypeRecord>> {
    const where = () => (q.includeArchived ? [] : ['NOT t.archived']);
    return pgPage(this.c.sql, { from: 'stream_event_types', key: 'name', where, defaultOrder: 'ascending', map: toStreamEventType }, q);
  }

  async updateEventType(et: StreamEventTypeRecord): Promise<void> {
    await this.c.sql`
      UPDATE stream_event_types SET description = ${et.description}, archived = ${et.archived}, deprecated = ${et.deprecated},
        feature_flags = ${et.featureFlags === null ? null : JSON.stringify(et.featureFlags)}, updated_at = ${et.updatedAt}
      WHERE name = ${et.name}`;
  }

  async deleteEventType(name: string): Promise<void> {
    await this.c.sql`DELETE FROM stream_event_types WHERE name = ${name}`;
  }

  // ---- sinks

  async createSink(s: SinkRecord): Promise<void> {
    const sealed = sealedSinkColumns(s, this.c.box);
    await uniqueAsync(
      SINK_UID_TAKEN,
      () => this.c.sql`
        INSERT INTO stream_sinks (id, stream_id, uid, type, config, batch_size, max_wait_secs, event_types, metadata, status, failure_reason,
          next_retry_at, failures, cursor, secret, headers, transformation_code, transformation_enabled, created_at, updated_at)
        VALUES (${s.id}, ${s.streamId}, ${s.uid}, ${s.type}, ${sealed.config}, ${s.batchSize}, ${s.maxWaitSecs}, ${JSON.stringify(s.eventTypes)},
          ${JSON.stringify(s.metadata)}, ${s.status}, ${s.failureReason}, ${s.nextRetryAt}, ${s.failures}, ${s.cursor}, ${sealed.secret},
          ${sealed.headers}, ${s.transformationCode}, ${s.transformationEnabled}, ${s.createdAt}, ${s.updatedAt})`,
    );
  }

  async getSink(streamId: string, idOrUid: string): Promise<SinkRecord | null> {
    const [r] = await this.c.sql<Row[]>`
      SELECT * FROM stream_sinks WHERE stream_id = ${streamId} AND (id = ${idOrUid} OR uid = ${idOrUid}) ORDER BY (id = ${idOrUid}) DESC LIMIT 1`;
    return r ? toSink(r, this.c.box) : null;
  }

  async listSinks(streamId: string, q: PageQuery): Promise<Page<SinkRecord>> {
    const map = (r: Row) => toSink(r, this.c.box);
    return pgPage(this.c.sql, { from: 'stream_sinks', key: 'id', where: (p) => [`t.stream_id = ${p.add(streamId)}`], defaultOrder: 'ascending', map }, q);
  }

  async listDeliverableSinks(): Promise<SinkRecord[]> {
    const rows = await this.c.sql<Row[]>`SELECT * FROM stream_sinks WHERE type <> 'poller' AND status <> 'disabled' ORDER BY stream_id, id`;
    return rows.map((r) => toSink(r, this.c.box));
  }

  async updateSink(s: SinkRecord): Promise<void> {
    const sealed = sealedSinkColumns(s, this.c.box);
    await uniqueAsync(
      SINK_UID_TAKEN,
      () => this.c.sql`
        UPDATE stream_sinks SET uid = ${s.uid}, type = ${s.type}, config = ${sealed.config}, batch_size = ${s.batchSize},
          max_wait_secs = ${s.maxWaitSecs}, event_types = ${JSON.stringify(s.eventTypes)}, metadata = ${JSON.stringify(s.metadata)},
          status = ${s.status}, failure_reason = ${s.failureReason}, next_retry_at = ${s.nextRetryAt}, failures = ${s.failures},
          secret = ${sealed.secret}, headers = ${sealed.headers}, transformation_code = ${s.transformationCode},
          transformation_enabled = ${s.transformationEnabled}, updated_at = ${s.updatedAt}
        WHERE stream_id = ${s.streamId} AND id = ${s.id}`,
    );
  }

  async deleteSink(streamId: string, id: string): Promise<void> {
    await this.c.sql.begin(async (tx) => {
      await tx`DELETE FROM stream_sink_attempts WHERE stream_id = ${streamId} AND sink_id = ${id}`;
      await tx`DELETE FROM stream_tokens WHERE stream_id = ${streamId} AND sink_id = ${id}`;
      await tx`DELETE FROM stream_sinks WHERE stream_id = ${streamId} AND id = ${id}`;
    });
  }

  async setSinkCursor(sinkId: string, cursor: number): Promise<void> {
    await this.c.sql`UPDATE stream_sinks SET cursor = ${cursor} WHERE id = ${sinkId}`;
  }

  // ---- the event log

  async appendEvents(streamId: string, events: NewStreamEvent[]): Promise<StreamEvent[]> {
    if (events.length === 0) return [];
    const rows = events.map((e, i) => ({ i, id: e.id, event_type: e.eventType, payload: e.payload, created_at: e.createdAt }));
    const added = await this.c.transaction(async (tx, commit) => {
      // One round trip, run in order: the stream's row lock (it orders the appenders of one
      // stream across nodes; others are not held up), then, in a snapshot taken after it, the
      // events not stored yet (an id already in the stream, or earlier in the batch, is skipped)
      // numbered on from the stream's last position, and the COMMIT.
      const [, numbered] = await Promise.all([
        tx`SELECT 1 FROM streams WHERE id = ${streamId} FOR UPDATE`,
        tx<{ i: number; seq: number }[]>`
          WITH e AS (
            SELECT * FROM json_to_recordset(${jsonParam(rows)}::text::json) AS e(i int, id text, event_type text, payload text, created_at bigint)),
          -- One probe of the (stream_id, id) index per event: a LIMIT keeps the planner from
          -- hashing the whole stream instead, as its estimate of a batch (100 rows) would have it.
          fresh AS (
            SELECT DISTINCT ON (e.id) e.* FROM e
            LEFT JOIN LATERAL (SELECT true AS stored FROM stream_events s WHERE s.stream_id = ${streamId} AND s.id = e.id LIMIT 1) p ON true
            WHERE p.stored IS NULL
            ORDER BY e.id, e.i),
          numbered AS (
            SELECT f.*, COALESCE((SELECT last_seq FROM streams WHERE id = ${streamId}), 0) + row_number() OVER (ORDER BY f.i) AS seq FROM fresh f),
          ins AS (
            INSERT INTO stream_events (stream_id, seq, id, event_type, payload, created_at)
            SELECT ${streamId}, seq, id, event_type, payload, created_at FROM numbered),
          head AS (UPDATE streams SET last_seq = (SELECT max(seq) FROM numbered) WHERE id = ${streamId} AND EXISTS (SELECT 1 FROM numbered))
          SELECT i, seq FROM numbered ORDER BY seq`,
        commit(),
      ]);
      return numbered;
    });
    return added.map(({ i, seq }) => ({ ...events[i]!, streamId, seq }));
  }

  async readEvents(streamId: string, afterSeq: number, limit: number, eventTypes: string[]): Promise<StreamEvent[]> {
    const rows =
      eventTypes.length === 0
        ? await this.c.sql<Row[]>`SELECT * FROM stream_events WHERE stream_id = ${streamId} AND seq > ${afterSeq} ORDER BY seq LIMIT ${limit}`
        : await this.c.sql<Row[]>`
            SELECT * FROM stream_events WHERE stream_id = ${streamId} AND seq > ${afterSeq} AND event_type = ANY(${eventTypes})
            ORDER BY seq LIMIT ${limit}`;
    return rows.map(toStreamEvent);
  }

  async seqBefore(streamId: string, time: number): Promise<number> {
    const [r] = await this.c.sql<Row[]>`SELECT MIN(seq) AS s FROM stream_events WHERE stream_id = ${streamId} AND created_at >= ${time}`;
    if (r && r.s !== null) return Number(r.s) - 1;
    return this.lastSeq(streamId);
  }

  async lastSeq(streamId: string): Promise<number> {
    const [r] = await this.c.sql<Row[]>`SELECT last_seq FROM streams WHERE id = ${streamId}`;
    return r ? Number(r.last_seq) : 0;
  }

  // ---- leases

  async leaseDueSinks(now: number, leaseMs: number, limit: number): Promise<LeasedSink[]> {
    const rows = await this.c.sql<Row[]>`
      WITH due AS (
        SELECT s.id FROM stream_sinks s JOIN streams st ON st.id = s.stream_id
        WHERE s.type <> 'poller' AND s.status IN ('enabled', 'retrying') AND (s.next_retry_at IS NULL OR s.next_retry_at <= ${now})
          AND (s.lease_until IS NULL OR s.lease_until <= ${now}) AND st.last_seq > s.cursor
        ORDER BY s.next_retry_at NULLS FIRST, s.id
        LIMIT ${limit}
        FOR UPDATE OF s SKIP LOCKED
      )
      UPDATE stream_sinks s SET lease_until = ${now + leaseMs}, lease_token = s.lease_token + 1
      FROM due WHERE s.id = due.id
      RETURNING s.*`;
    return rows.map((r) => ({ sink: toSink(r, this.c.box), leaseToken: Number(r.lease_token) }));
  }

  async settleSink(sinkId: string, leaseToken: number, st: SinkSettlement, a: SinkAttempt): Promise<boolean> {
    return this.c.sql.begin(async (tx) => {
      const res = await tx`
        UPDATE stream_sinks SET cursor = COALESCE(${st.cursor ?? null}::bigint, cursor), status = ${st.status}, failure_reason = ${st.failureReason},
          next_retry_at = ${st.nextRetryAt}, failures = ${st.failures}, lease_until = NULL
        WHERE id = ${sinkId} AND lease_token = ${leaseToken} AND lease_until IS NOT NULL`;
      if (res.count === 0) return false;
      await tx`
        INSERT INTO stream_sink_attempts (id, stream_id, sink_id, first_seq, last_seq, count, outcome, response_status, error, duration_ms, created_at)
        VALUES (${a.id}, ${a.streamId}, ${a.sinkId}, ${a.firstSeq}, ${a.lastSeq}, ${a.count}, ${a.outcome}, ${a.responseStatus}, ${a.error},
          ${a.durationMs}, ${a.createdAt})`;
      return true;
    });
  }

  async releaseSink(sinkId: string, leaseToken: number): Promise<void> {
    await this.c.sql`UPDATE stream_sinks SET lease_until = NULL WHERE id = ${sinkId} AND lease_token = ${leaseToken}`;
  }

  async listSinkAttempts(sinkId: string, q: PageQuery): Promise<Page<SinkAttempt>> {
    const where = (p: { add(v: unknown): string }) => {
      const id = p.add(sinkId);
      return [`t.stream_id = (SELECT stream_id FROM stream_sinks WHERE id = ${id})`, `t.sink_id = ${id}`];
    };
    return pgPage(this.c.sql, { from: 'stream_sink_attempts', key: 'id', where, defaultOrder: 'descending', map: toSinkAttempt }, q);
  }

  // ---- tokens

  async createStreamToken(t: StreamTokenRecord): Promise<void> {
    await this.c.sql`
      INSERT INTO stream_tokens (id, hash, kind, stream_id, sink_id, session_id, sealed, created_at, expires_at, revoked_at)
      VALUES (${t.id}, ${t.hash}, ${t.kind}, ${t.streamId}, ${t.sinkId}, ${t.sessionId}, ${t.token === null ? null : this.c.box.seal(t.token)},
        ${t.createdAt}, ${t.expiresAt}, ${t.revokedAt})`;
  }

  async streamTokenByHash(hash: string): Promise<StreamTokenRecord | null> {
    const [r] = await this.c.sql<Row[]>`SELECT * FROM stream_tokens WHERE hash = ${hash}`;
    return r ? toStreamToken(r, this.c.box) : null;
  }

  async currentPollerToken(sinkId: string): Promise<StreamTokenRecord | null> {
    const [r] = await this.c.sql<Row[]>`
      SELECT * FROM stream_tokens WHERE sink_id = ${sinkId} AND kind = 'poller' AND expires_at IS NULL AND revoked_at IS NULL ORDER BY id DESC LIMIT 1`;
    return r ? toStreamToken(r, this.c.box) : null;
  }

  async rotatePollerToken(t: StreamTokenRecord, oldExpiresAt: number): Promise<void> {
    await this.c.sql.begin(async (tx) => {
      await tx`
        UPDATE stream_tokens SET expires_at = ${oldExpiresAt}
        WHERE stream_id = ${t.streamId} AND sink_id = ${t.sinkId} AND kind = 'poller' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ${oldExpiresAt})`;
      await tx`
        INSERT INTO stream_tokens (id, hash, kind, stream_id, sink_id, session_id, sealed, created_at, expires_at, revoked_at)
        VALUES (${t.id}, ${t.hash}, ${t.kind}, ${t.streamId}, ${t.sinkId}, ${t.sessionId}, ${t.token === null ? null : this.c.box.seal(t.token)},
          ${t.createdAt}, ${t.expiresAt}, ${t.revokedAt})`;
    });
  }

  async expirePortalTokens(streamId: string, at: number, sessionIds: string[] | null): Promise<number> {
    const res =
      sessionIds === null
        ? await this.c.sql`
            UPDATE stream_tokens SET expires_at = ${at}
            WHERE stream_id = ${streamId} AND kind = 'portal' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ${at})`
        : await this.c.sql`
            UPDATE stream_tokens SET expires_at = ${at}
            WHERE stream_id = ${streamId} AND kind = 'portal' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ${at})
              AND session_id = ANY(${sessionIds})`;
    return res.count;
  }

  async revokeStreamToken(id: string, now: number): Promise<void> {
    await this.c.sql`UPDATE stream_tokens SET revoked_at = ${now} WHERE id = ${id} AND revoked_at IS NULL`;
  }
}
