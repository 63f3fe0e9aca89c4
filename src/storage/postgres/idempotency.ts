/** Idempotent responses on PostgreSQL. */
import type { IdempotencyStorePart, IdempotentEntry, IdempotentResponse } from '../contract/idempotency.js';
import type { PgConnection } from './connection.js';
import { toIdempotentResponse } from '../shared/rows.js';

/** Idempotent responses on PostgreSQL. */
export class PgIdempotencyStore implements IdempotencyStorePart {
  constructor(private readonly c: PgConnection) {}

  async getIdempotentBatch(keys: readonly string[], nowMs: number): Promise<(IdempotentResponse | null)[]> {
    if (keys.length === 0) return [];
    const rows = await this.c.sql`SELECT key, status, body, content_type FROM idempotency_keys WHERE key = ANY(${[...keys]}::text[]) AND expires_at > ${nowMs}`;
    const found = new Map(rows.map((r) => [r.key as string, toIdempotentResponse(r)]));
    return keys.map((key) => found.get(key) ?? null);
  }

  async putIdempotent(key: string, res: IdempotentResponse, expiresAt: number, nowMs: number): Promise<void> {
    await this.c.sql`
      INSERT INTO idempotency_keys (key, status, body, content_type, expires_at) VALUES (${key}, ${res.status}, ${res.body}, ${res.contentType}, ${expiresAt})
      ON CONFLICT (key) DO UPDATE SET status = EXCLUDED.status, body = EXCLUDED.body, content_type = EXCLUDED.content_type, expires_at = EXCLUDED.expires_at`;
    await this.c.sql`DELETE FROM idempotency_keys WHERE expires_at <= ${nowMs}`;
  }

  async putIdempotentBatch(entries: IdempotentEntry[]): Promise<void> {
    if (entries.length === 0) return;
    // The last entry of a key wins (one statement cannot change a row twice).
    const last = [...new Map(entries.map((e) => [e.key, e])).values()];
    await this.c.sql`
      INSERT INTO idempotency_keys (key, status, body, content_type, expires_at)
      SELECT * FROM unnest(${last.map((e) => e.key)}::text[], ${last.map((e) => e.response.status)}::int[], ${last.map((e) => e.response.body)}::text[],
                           ${last.map((e) => e.response.contentType)}::text[], ${last.map((e) => e.expiresAt)}::bigint[])
      ON CONFLICT (key) DO UPDATE SET status = EXCLUDED.status, body = EXCLUDED.body, content_type = EXCLUDED.content_type, expires_at = EXCLUDED.expires_at`;
  }

  async dropExpiredIdempotent(nowMs: number, limit: number): Promise<number> {
    const r = await this.c.sql`DELETE FROM idempotency_keys WHERE key IN (SELECT key FROM idempotency_keys WHERE expires_at <= ${nowMs} ORDER BY expires_at LIMIT ${limit})`;
    return r.count;
  }
}
