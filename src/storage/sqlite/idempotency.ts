/** Idempotent responses on SQLite. */
import type { IdempotencyStorePart, IdempotentEntry, IdempotentResponse, LockWaitOptions } from '../contract/idempotency.js';
import { toIdempotentResponse } from '../shared/rows.js';
import type { Row } from '../shared/rows.js';
import type { SqliteConnection } from './connection.js';
import { BOUND_LIMIT } from './statements.js';

/** Idempotent responses on SQLite. */
export class SqliteIdempotencyStore implements IdempotencyStorePart {
  constructor(private readonly c: SqliteConnection) {}

  async getIdempotentBatch(keys: readonly string[], nowMs: number): Promise<(IdempotentResponse | null)[]> {
    const get = this.c.q('SELECT status, body, content_type FROM idempotency_keys WHERE key = ? AND expires_at > ?');
    return keys.map((key) => {
      const r = get.get(key, nowMs) as Row | undefined;
      return r ? toIdempotentResponse(r) : null;
    });
  }

  async putIdempotent(key: string, res: IdempotentResponse, expiresAt: number, nowMs: number, options: LockWaitOptions = {}): Promise<void> {
    const write = (): void => {
      this.c.q('INSERT OR REPLACE INTO idempotency_keys (key, status, body, content_type, expires_at) VALUES (?, ?, ?, ?, ?)').run(
        key,
        res.status,
        res.body,
        res.contentType,
        expiresAt,
      );
      this.c.q('DELETE FROM idempotency_keys WHERE expires_at <= ?').run(nowMs);
    };
    if (options.lockWait === false) this.c.withoutLockWait(write);
    else write();
  }

  async putIdempotentBatch(entries: IdempotentEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const put = this.c.q('INSERT OR REPLACE INTO idempotency_keys (key, status, body, content_type, expires_at) VALUES (?, ?, ?, ?, ?)');
    // One commit for the batch, its fsync off the event loop, as a publish's.
    await this.c.durably(() =>
      this.c.db.transaction(() => {
        for (const e of entries) put.run(e.key, e.response.status, e.response.body, e.response.contentType, e.expiresAt);
      })(),
    );
  }

  async dropExpiredIdempotent(nowMs: number, limit: number): Promise<number> {
    return this.c.q(`DELETE FROM idempotency_keys WHERE key IN (SELECT key FROM idempotency_keys WHERE expires_at <= ? ORDER BY expires_at ${BOUND_LIMIT})`).run(nowMs, limit).changes;
  }
}
