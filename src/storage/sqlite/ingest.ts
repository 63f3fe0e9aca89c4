/** The IngestStore on SQLite: sources, tokens, logs, run state and poll items. */
import type { Statement } from 'better-sqlite3';
import type { IngestLog, IngestStore, RunResult, RunState, SourceRecord, SourceToken } from '../contract/ingest.js';
import { unique } from '../shared/unique.js';
import { sqlitePage } from './paging.js';
import type { Page, PageQuery } from '../contract/paging.js';
import type { SqliteConnection } from './connection.js';
import { BOUND_LIMIT } from './statements.js';

import { toLog, toRun, toSource } from '../shared/rows.js';
import type { Row } from '../shared/rows.js';

const SOURCE_UID_TAKEN = 'a source with this uid already exists';

export class SqliteIngestStore implements IngestStore {
  /** The connection: its database, prepared statements, relaxed commits, and the box that seals source configs and URL tokens at rest. */
  constructor(private readonly c: SqliteConnection) {}

  private q(sql: string): Statement {
    return this.c.q(sql);
  }

  private resetRun(sourceId: string, at: number): void {
    this.q(
      `INSERT INTO source_runs (source_id, next_run_at, tick_at) VALUES (?, ?, ?)
       ON CONFLICT (source_id) DO UPDATE SET next_run_at = excluded.next_run_at, tick_at = excluded.tick_at,
         lease_token = lease_token + 1, running = 0, failures = 0, etag = NULL, last_modified = NULL, primed = 0`,
    ).run(sourceId, at, at);
    this.q('DELETE FROM poll_items WHERE source_id = ?').run(sourceId);
  }

  async createSource(s: SourceRecord, token: SourceToken, firstRunAt: number | null): Promise<void> {
    unique(SOURCE_UID_TAKEN, () =>
      this.c.db.transaction(() => {
        this.q(
          `INSERT INTO ingest_sources (id, uid, name, type, metadata, config, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(s.id, s.uid, s.name, s.type, JSON.stringify(s.metadata), this.c.box.seal(s.config), s.createdAt, s.updatedAt);
        this.q('INSERT INTO ingest_tokens (hash, source_id, sealed, created_at, expires_at) VALUES (?, ?, ?, ?, ?)').run(
          token.hash,
          s.id,
          this.c.box.seal(token.token),
          token.createdAt,
          token.expiresAt,
        );
        if (firstRunAt !== null) this.resetRun(s.id, firstRunAt);
      })(),
    );
  }

  async getSource(idOrUid: string): Promise<SourceRecord | null> {
    const r = (this.q('SELECT * FROM ingest_sources WHERE id = ?').get(idOrUid) ?? this.q('SELECT * FROM ingest_sources WHERE uid = ?').get(idOrUid)) as Row | undefined;
    return r ? toSource(r, this.c.box) : null;
  }

  async listSources(q: PageQuery): Promise<Page<SourceRecord>> {
    const map = (r: Row) => toSource(r, this.c.box);
    return sqlitePage((sql) => this.c.q(sql), { from: 'ingest_sources', key: 'id', where: '', args: [], defaultOrder: 'ascending', map }, q);
  }

  async updateSource(s: SourceRecord, schedule: number | null | 'keep'): Promise<void> {
    unique(SOURCE_UID_TAKEN, () =>
      this.c.db.transaction(() => {
        this.q('UPDATE ingest_sources SET uid = ?, name = ?, type = ?, metadata = ?, config = ?, updated_at = ? WHERE id = ?').run(
          s.uid,
          s.name,
          s.type,
          JSON.stringify(s.metadata),
          this.c.box.seal(s.config),
          s.updatedAt,
          s.id,
        );
        if (schedule === null) {
          this.q('DELETE FROM source_runs WHERE source_id = ?').run(s.id);
          this.q('DELETE FROM poll_items WHERE source_id = ?').run(s.id);
        } else if (schedule !== 'keep') this.resetRun(s.id, schedule);
      })(),
    );
  }

  async deleteSource(id: string): Promise<void> {
    this.c.db.transaction(() => {
      for (const t of ['ingest_tokens', 'ingest_logs', 'source_runs', 'poll_items']) this.q(`DELETE FROM ${t} WHERE source_id = ?`).run(id);
      this.q('DELETE FROM ingest_sources WHERE id = ?').run(id);
    })();
  }

  async sourceByToken(hash: string, nowMs: number): Promise<SourceRecord | null> {
    const r = this.q(
      `SELECT s.* FROM ingest_tokens t JOIN ingest_sources s ON s.id = t.source_id
       WHERE t.hash = ? AND (t.expires_at IS NULL OR t.expires_at > ?)`,
    ).get(hash, nowMs) as Row | undefined;
    return r ? toSource(r, this.c.box) : null;
  }

  async currentToken(sourceId: string): Promise<SourceToken | null> {
    const r = this.q('SELECT * FROM ingest_tokens WHERE source_id = ? AND expires_at IS NULL').get(sourceId) as Row | undefined;
    return r ? { hash: r.hash as string, token: this.c.box.open(r.sealed as string), createdAt: r.created_at as number, expiresAt: null } : null;
  }

  async rotateToken(sourceId: string, token: SourceToken, graceUntil: number, nowMs: number, maxInGrace: number): Promise<boolean> {
    return this.c.db.transaction((): boolean => {
      this.q('DELETE FROM ingest_tokens WHERE source_id = ? AND expires_at IS NOT NULL AND expires_at <= ?').run(sourceId, nowMs);
      const inGrace = (this.q('SELECT COUNT(*) AS n FROM ingest_tokens WHERE source_id = ? AND expires_at IS NOT NULL').get(sourceId) as Row).n as number;
      if (inGrace >= maxInGrace) return false;
      this.q('UPDATE ingest_tokens SET expires_at = ? WHERE source_id = ? AND expires_at IS NULL').run(graceUntil, sourceId);
      this.q('INSERT INTO ingest_tokens (hash, source_id, sealed, created_at, expires_at) VALUES (?, ?, ?, ?, NULL)').run(token.hash, sourceId, this.c.box.seal(token.token), token.createdAt);
      return true;
    }).immediate();
  }

  async addLogs(logs: IngestLog[], keepPerSource: number): Promise<void> {
    const insert = this.q('INSERT INTO ingest_logs (id, source_id, status_code, error_text, headers, payload, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const prune = this.q(
      `DELETE FROM ingest_logs WHERE source_id = ? AND id <= (
         SELECT id FROM ingest_logs WHERE source_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
    );
    // Relaxed (no fsync on the event loop): a log of refused requests is kept for diagnosis, and
    // anyone holding a source's URL can make one, as fast as the source's request limit lets them.
    // A power cut may lose the last of them; the next durable commit or WAL sync keeps them too.
    this.c.relaxed(() =>
      this.c.db.transaction(() => {
        const sources = new Set<string>();
        for (const l of logs) {
          insert.run(l.id, l.sourceId, l.statusCode, l.errorText, JSON.stringify(l.headers), l.payload, l.createdAt);
          sources.add(l.sourceId);
        }
        for (const s of sources) prune.run(s, s, keepPerSource);
      })(),
    );
  }

  async listLogs(sourceId: string, q: PageQuery): Promise<Page<IngestLog>> {
    return sqlitePage((sql) => this.c.q(sql), { from: 'ingest_logs', key: 'id', where: 'source_id = ?', args: [sourceId], defaultOrder: 'descending', map: toLog }, q);
  }

  async runState(sourceId: string): Promise<RunState | null> {
    const r = this.q('SELECT * FROM source_runs WHERE source_id = ?').get(sourceId) as Row | undefined;
    return r ? toRun(r) : null;
  }

  async dueRuns(nowMs: number, limit: number): Promise<{ sourceId: string; nextRunAt: number }[]> {
    const rows = this.q(`SELECT source_id, next_run_at FROM source_runs WHERE next_run_at <= ? ORDER BY next_run_at ${BOUND_LIMIT}`).all(nowMs, limit) as Row[];
    return rows.map((r) => ({ sourceId: r.source_id as string, nextRunAt: r.next_run_at as number }));
  }

  async nextRunAt(): Promise<number | null> {
    const r = this.q('SELECT MIN(next_run_at) AS t FROM source_runs').get() as Row;
    return (r.t as number | null) ?? null;
  }

  async claimRun(sourceId: string, expectedAt: number, leaseUntil: number): Promise<RunState | null> {
    const r = this.q(
      `UPDATE source_runs SET next_run_at = ?, running = 1, lease_token = lease_token + 1
       WHERE source_id = ? AND next_run_at = ? RETURNING *`,
    ).get(leaseUntil, sourceId, expectedAt) as Row | undefined;
    return r ? toRun(r) : null;
  }

  async finishRun(sourceId: string, leaseToken: number, res: RunResult): Promise<boolean> {
    return this.c.db.transaction((): boolean => {
      const changed = this.q(
        `UPDATE source_runs SET next_run_at = ?, tick_at = ?, running = 0, last_run_at = ?, last_outcome = ?, last_error = ?, failures = ?,
           etag = CASE WHEN ? THEN ? ELSE etag END,
           last_modified = CASE WHEN ? THEN ? ELSE last_modified END,
           primed = CASE WHEN ? THEN ? ELSE primed END
         WHERE source_id = ? AND lease_token = ?`,
      ).run(
        res.nextRunAt,
        res.tickAt,
        res.lastRunAt,
        res.lastOutcome,
        res.lastError,
        res.failures,
        res.etag !== undefined ? 1 : 0,
        res.etag ?? null,
        res.lastModified !== undefined ? 1 : 0,
        res.lastModified ?? null,
        res.primed !== undefined ? 1 : 0,
        res.primed ? 1 : 0,
        sourceId,
        leaseToken,
      ).changes;
      if (changed === 0) return false;
      if (res.items && res.items.length > 0) {
        const upsert = this.q(
          `INSERT INTO poll_items (source_id, item_key, hash, seen_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (source_id, item_key) DO UPDATE SET hash = excluded.hash, seen_at = excluded.seen_at`,
        );
        for (const i of res.items) upsert.run(sourceId, i.key, i.hash, res.lastRunAt);
      }
      if (res.forgetBefore !== undefined) this.q('DELETE FROM poll_items WHERE source_id = ? AND seen_at < ?').run(sourceId, res.forgetBefore);
      return true;
    })();
  }

  async releaseRunLeases(nowMs: number): Promise<number> {
    return this.q('UPDATE source_runs SET next_run_at = ?, running = 0 WHERE running = 1').run(nowMs).changes;
  }

  async pollItems(sourceId: string, keys: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const get = this.q('SELECT hash FROM poll_items WHERE source_id = ? AND item_key = ?');
    for (const k of keys) {
      const r = get.get(sourceId, k) as Row | undefined;
      if (r) out.set(k, r.hash as string);
    }
    return out;
  }
}
