/**
 * The IngestStore on PostgreSQL: sources, tokens, logs, run state and poll items. A
 * scheduled run is claimed by compare-and-set on its due time, so of several nodes ticking
 * the same source exactly one runs it; its result is saved only under its lease token.
 */
import type { TransactionSql } from 'postgres';
import type { PgConnection } from './connection.js';
import type { IngestLog, IngestStore, RunResult, RunState, SourceRecord, SourceToken } from '../contract/ingest.js';
import { uniqueAsync } from '../shared/unique.js';
import { pgPage } from './paging.js';
import type { Params } from './paging.js';
import type { Page, PageQuery } from '../contract/paging.js';
import { toLog, toRun, toSource } from '../shared/rows.js';

type Tx = TransactionSql;

const SOURCE_UID_TAKEN = 'a source with this uid already exists';

export class PgIngestStore implements IngestStore {
  /** The connection: its pool, transactions, and the box that seals source configs and URL tokens at rest. */
  constructor(private readonly c: PgConnection) {}

  private async resetRun(tx: Tx, sourceId: string, at: number): Promise<void> {
    await tx`
      INSERT INTO source_runs (source_id, next_run_at, tick_at) VALUES (${sourceId}, ${at}, ${at})
      ON CONFLICT (source_id) DO UPDATE SET next_run_at = EXCLUDED.next_run_at, tick_at = EXCLUDED.tick_at,
        lease_token = source_runs.lease_token + 1, running = 0, failures = 0, etag = NULL, last_modified = NULL, primed = 0`;
    await tx`DELETE FROM poll_items WHERE source_id = ${sourceId}`;
  }

  async createSource(s: SourceRecord, token: SourceToken, firstRunAt: number | null): Promise<void> {
    await uniqueAsync(SOURCE_UID_TAKEN, () =>
      this.c.sql.begin(async (tx) => {
        await tx`
          INSERT INTO ingest_sources (id, uid, name, type, metadata, config, created_at, updated_at)
          VALUES (${s.id}, ${s.uid}, ${s.name}, ${s.type}, ${JSON.stringify(s.metadata)}, ${this.c.box.seal(s.config)}, ${s.createdAt}, ${s.updatedAt})`;
        await tx`
          INSERT INTO ingest_tokens (hash, source_id, sealed, created_at, expires_at)
          VALUES (${token.hash}, ${s.id}, ${this.c.box.seal(token.token)}, ${token.createdAt}, ${token.expiresAt})`;
        if (firstRunAt !== null) await this.resetRun(tx, s.id, firstRunAt);
      }),
    );
  }

  async getSource(idOrUid: string): Promise<SourceRecord | null> {
    const [r] = await this.c.sql`SELECT * FROM ingest_sources WHERE id = ${idOrUid} UNION ALL SELECT * FROM ingest_sources WHERE uid = ${idOrUid} LIMIT 1`;
    return r ? toSource(r, this.c.box) : null;
  }

  async listSources(q: PageQuery): Promise<Page<SourceRecord>> {
    return pgPage(this.c.sql, { from: 'ingest_sources', key: 'id', where: () => [], defaultOrder: 'ascending', map: (r) => toSource(r, this.c.box) }, q);
  }

  async updateSource(s: SourceRecord, schedule: number | null | 'keep'): Promise<void> {
    await uniqueAsync(SOURCE_UID_TAKEN, () =>
      this.c.sql.begin(async (tx) => {
        await tx`
          UPDATE ingest_sources SET uid = ${s.uid}, name = ${s.name}, type = ${s.type}, metadata = ${JSON.stringify(s.metadata)},
            config = ${this.c.box.seal(s.config)}, updated_at = ${s.updatedAt} WHERE id = ${s.id}`;
        if (schedule === null) {
          await tx`DELETE FROM source_runs WHERE source_id = ${s.id}`;
          await tx`DELETE FROM poll_items WHERE source_id = ${s.id}`;
        } else if (schedule !== 'keep') await this.resetRun(tx, s.id, schedule);
      }),
    );
  }

  async deleteSource(id: string): Promise<void> {
    await this.c.sql.begin(async (tx) => {
      for (const t of ['ingest_tokens', 'ingest_logs', 'source_runs', 'poll_items']) await tx`DELETE FROM ${tx(t)} WHERE source_id = ${id}`;
      await tx`DELETE FROM ingest_sources WHERE id = ${id}`;
    });
  }

  async sourceByToken(hash: string, nowMs: number): Promise<SourceRecord | null> {
    const [r] = await this.c.sql`
      SELECT s.* FROM ingest_tokens t JOIN ingest_sources s ON s.id = t.source_id
      WHERE t.hash = ${hash} AND (t.expires_at IS NULL OR t.expires_at > ${nowMs})`;
    return r ? toSource(r, this.c.box) : null;
  }

  async currentToken(sourceId: string): Promise<SourceToken | null> {
    const [r] = await this.c.sql`SELECT * FROM ingest_tokens WHERE source_id = ${sourceId} AND expires_at IS NULL`;
    return r ? { hash: r.hash as string, token: this.c.box.open(r.sealed as string), createdAt: r.created_at as number, expiresAt: null } : null;
  }

  async rotateToken(sourceId: string, token: SourceToken, graceUntil: number, nowMs: number, maxInGrace: number): Promise<boolean> {
    return this.c.sql.begin(async (tx) => {
      // Rotations of one source queue on its row, so the grace count cannot be raced past.
      await tx`SELECT id FROM ingest_sources WHERE id = ${sourceId} FOR UPDATE`;
      await tx`DELETE FROM ingest_tokens WHERE source_id = ${sourceId} AND expires_at IS NOT NULL AND expires_at <= ${nowMs}`;
      const [c] = await tx`SELECT COUNT(*) AS n FROM ingest_tokens WHERE source_id = ${sourceId} AND expires_at IS NOT NULL`;
      if (((c?.n as number | undefined) ?? 0) >= maxInGrace) return false;
      await tx`UPDATE ingest_tokens SET expires_at = ${graceUntil} WHERE source_id = ${sourceId} AND expires_at IS NULL`;
      await tx`INSERT INTO ingest_tokens (hash, source_id, sealed, created_at, expires_at) VALUES (${token.hash}, ${sourceId}, ${this.c.box.seal(token.token)}, ${token.createdAt}, NULL)`;
      return true;
    });
  }

  async addLogs(logs: IngestLog[], keepPerSource: number): Promise<void> {
    if (logs.length === 0) return;
    const rows = logs.map((l) => ({
      id: l.id,
      source_id: l.sourceId,
      status_code: l.statusCode,
      error_text: l.errorText,
      headers: JSON.stringify(l.headers),
      payload: l.payload,
      created_at: l.createdAt,
    }));
    // Not durable at commit (the WAL writer flushes it within a few hundred ms): a log of refused
    // requests is kept for diagnosis, and anyone holding a source's URL can make one, as fast as
    // the source's request limit lets them.
    await this.c.transaction(
      (tx, commit) =>
        Promise.all([
          tx`INSERT INTO ingest_logs ${tx(rows)}`,
          ...[...new Set(logs.map((l) => l.sourceId))].map(
            (s) => tx`DELETE FROM ingest_logs WHERE source_id = ${s} AND id <= (
                        SELECT id FROM ingest_logs WHERE source_id = ${s} ORDER BY id DESC LIMIT 1 OFFSET ${keepPerSource})`,
          ),
          commit(),
        ]),
      { durable: false },
    );
  }

  async listLogs(sourceId: string, q: PageQuery): Promise<Page<IngestLog>> {
    const where = (p: Params) => [`source_id = ${p.add(sourceId)}`];
    return pgPage(this.c.sql, { from: 'ingest_logs', key: 'id', where, defaultOrder: 'descending', map: toLog }, q);
  }

  async runState(sourceId: string): Promise<RunState | null> {
    const [r] = await this.c.sql`SELECT * FROM source_runs WHERE source_id = ${sourceId}`;
    return r ? toRun(r) : null;
  }

  async dueRuns(nowMs: number, limit: number): Promise<{ sourceId: string; nextRunAt: number }[]> {
    const rows = await this.c.sql`SELECT source_id, next_run_at FROM source_runs WHERE next_run_at <= ${nowMs} ORDER BY next_run_at LIMIT ${limit}`;
    return rows.map((r) => ({ sourceId: r.source_id as string, nextRunAt: r.next_run_at as number }));
  }

  async nextRunAt(): Promise<number | null> {
    const [r] = await this.c.sql`SELECT MIN(next_run_at) AS t FROM source_runs`;
    return (r?.t as number | null | undefined) ?? null;
  }

  async claimRun(sourceId: string, expectedAt: number, leaseUntil: number): Promise<RunState | null> {
    const [r] = await this.c.sql`
      UPDATE source_runs SET next_run_at = ${leaseUntil}, running = 1, lease_token = lease_token + 1
      WHERE source_id = ${sourceId} AND next_run_at = ${expectedAt} RETURNING *`;
    return r ? toRun(r) : null;
  }

  async finishRun(sourceId: string, leaseToken: number, res: RunResult): Promise<boolean> {
    return this.c.sql.begin(async (tx) => {
      const changed = await tx`
        UPDATE source_runs SET next_run_at = ${res.nextRunAt}, tick_at = ${res.tickAt}, running = 0, last_run_at = ${res.lastRunAt},
          last_outcome = ${res.lastOutcome}, last_error = ${res.lastError}, failures = ${res.failures},
          etag = CASE WHEN ${res.etag !== undefined}::boolean THEN ${res.etag ?? null}::text ELSE etag END,
          last_modified = CASE WHEN ${res.lastModified !== undefined}::boolean THEN ${res.lastModified ?? null}::text ELSE last_modified END,
          primed = CASE WHEN ${res.primed !== undefined}::boolean THEN ${res.primed ? 1 : 0}::int ELSE primed END
        WHERE source_id = ${sourceId} AND lease_token = ${leaseToken}`;
      if (changed.count === 0) return false;
      if (res.items && res.items.length > 0) {
        const items = res.items.map((i) => ({ source_id: sourceId, item_key: i.key, hash: i.hash, seen_at: res.lastRunAt }));
        await tx`
          INSERT INTO poll_items ${tx(items)}
          ON CONFLICT (source_id, item_key) DO UPDATE SET hash = EXCLUDED.hash, seen_at = EXCLUDED.seen_at`;
      }
      if (res.forgetBefore !== undefined) await tx`DELETE FROM poll_items WHERE source_id = ${sourceId} AND seen_at < ${res.forgetBefore}`;
      return true;
    });
  }

  async releaseRunLeases(nowMs: number): Promise<number> {
    return (await this.c.sql`UPDATE source_runs SET next_run_at = ${nowMs}, running = 0 WHERE running = 1`).count;
  }

  async pollItems(sourceId: string, keys: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (keys.length === 0) return out;
    const rows = await this.c.sql`SELECT item_key, hash FROM poll_items WHERE source_id = ${sourceId} AND item_key = ANY(${keys}::text[])`;
    for (const r of rows) out.set(r.item_key as string, r.hash as string);
    return out;
  }
}
