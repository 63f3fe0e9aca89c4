/** The AuthStore on SQLite: credentials tables of migration 0004. */
import type { Database as Db, Statement } from 'better-sqlite3';
import { SEALED_PATTERN } from '../../security/crypto.js';
import type { SecretBox } from '../../security/crypto.js';
import type { StatementCache } from './statements.js';
import { sqlitePage } from './paging.js';
import type {
  ApiKeyRecord,
  AuthStore,
  OAuthClientRecord,
  PortalTokenRecord,
  SecretScan,
  SigningKeyRecord,
} from '../contract/auth.js';
import type { Page, PageQuery } from '../contract/paging.js';

import { num, toApiKey, toClient, toPortalToken } from '../shared/rows.js';
import type { Row } from '../shared/rows.js';

/** Columns that hold a secret as a whole value: sealed even if written before encryption was on. */
const WHOLE_SECRET_COLUMNS = new Set(['endpoints.secrets', 'endpoints.headers', 'oauth_signing_keys.private_jwk', 'integrations.sealed_key']);
/** Tables of bulk data that never hold sealed values; skipped by the re-encryption scan. */
const BULK_TABLES = new Set(['messages', 'attempts', 'deliveries', 'idempotency_keys', 'schema_migrations']);

export class SqliteAuthStore implements AuthStore {
  constructor(
    private readonly db: Db,
    private readonly box: SecretBox,
    /** The connection's prepared statements. */
    private readonly statements: StatementCache,
  ) {}

  private q(sql: string): Statement {
    return this.statements.get(sql);
  }

  /** One page of `table` by id, its statements cached (the SQL has few variants). */
  private page<T>(table: string, where: string, args: unknown[], q: PageQuery, map: (r: Row) => T): Page<T> {
    return sqlitePage((sql) => this.q(sql), { from: table, key: 'id', where, args, defaultOrder: 'ascending', map }, q);
  }

  // ---- API keys

  async createApiKey(k: ApiKeyRecord): Promise<void> {
    this.q(
      `INSERT INTO api_keys (id, name, prefix, hash, app_id, scopes, created_at, expires_at, revoked_at, last_used_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(k.id, k.name, k.prefix, k.hash, k.appId, JSON.stringify(k.scopes), k.createdAt, k.expiresAt, k.revokedAt, k.lastUsedAt);
  }

  async apiKeyByHash(hash: string): Promise<ApiKeyRecord | null> {
    const r = this.q('SELECT * FROM api_keys WHERE hash = ?').get(hash) as Row | undefined;
    return r ? toApiKey(r) : null;
  }

  async getApiKey(id: string): Promise<ApiKeyRecord | null> {
    const r = this.q('SELECT * FROM api_keys WHERE id = ?').get(id) as Row | undefined;
    return r ? toApiKey(r) : null;
  }

  async listApiKeys(q: PageQuery & { appId?: string | undefined }): Promise<Page<ApiKeyRecord>> {
    return q.appId === undefined ? this.page('api_keys', '', [], q, toApiKey) : this.page('api_keys', 'app_id = ?', [q.appId], q, toApiKey);
  }

  async revokeApiKey(id: string, nowMs: number): Promise<boolean> {
    return this.q('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(nowMs, id).changes > 0;
  }

  async touchApiKey(id: string, nowMs: number): Promise<void> {
    this.q('UPDATE api_keys SET last_used_at = ? WHERE id = ?').run(nowMs, id);
  }

  // ---- OAuth clients and signing keys

  async createOAuthClient(c: OAuthClientRecord): Promise<void> {
    this.q(
      `INSERT INTO oauth_clients (id, name, secret_hash, app_id, scopes, created_at, revoked_at, last_used_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(c.id, c.name, c.secretHash, c.appId, JSON.stringify(c.scopes), c.createdAt, c.revokedAt, c.lastUsedAt);
  }

  async getOAuthClient(id: string): Promise<OAuthClientRecord | null> {
    const r = this.q('SELECT * FROM oauth_clients WHERE id = ?').get(id) as Row | undefined;
    return r ? toClient(r) : null;
  }

  async listOAuthClients(q: PageQuery): Promise<Page<OAuthClientRecord>> {
    return this.page('oauth_clients', '', [], q, toClient);
  }

  async revokeOAuthClient(id: string, nowMs: number): Promise<boolean> {
    return this.q('UPDATE oauth_clients SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(nowMs, id).changes > 0;
  }

  async touchOAuthClient(id: string, nowMs: number): Promise<void> {
    this.q('UPDATE oauth_clients SET last_used_at = ? WHERE id = ?').run(nowMs, id);
  }

  async createSigningKey(k: SigningKeyRecord): Promise<void> {
    this.q('INSERT INTO oauth_signing_keys (kid, alg, private_jwk, public_jwk, created_at, retired_at) VALUES (?, ?, ?, ?, ?, ?)').run(
      k.kid,
      k.alg,
      this.box.seal(k.privateJwk),
      k.publicJwk,
      k.createdAt,
      k.retiredAt,
    );
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    const rows = this.q('SELECT * FROM oauth_signing_keys ORDER BY created_at DESC, kid DESC').all() as Row[];
    return rows.map((r) => ({
      kid: r.kid as string,
      alg: r.alg as string,
      privateJwk: this.box.open(r.private_jwk as string),
      publicJwk: r.public_jwk as string,
      createdAt: r.created_at as number,
      retiredAt: num(r.retired_at),
    }));
  }

  async retireSigningKeysExcept(kid: string, nowMs: number): Promise<void> {
    this.q('UPDATE oauth_signing_keys SET retired_at = ? WHERE kid <> ? AND retired_at IS NULL').run(nowMs, kid);
  }

  async pruneSigningKeys(beforeMs: number): Promise<number> {
    return this.q('DELETE FROM oauth_signing_keys WHERE retired_at IS NOT NULL AND retired_at < ?').run(beforeMs).changes;
  }

  // ---- app-portal tokens

  async createPortalToken(t: PortalTokenRecord): Promise<void> {
    this.q(
      `INSERT INTO portal_tokens (id, hash, app_id, scopes, session_id, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(t.id, t.hash, t.appId, JSON.stringify(t.scopes), t.sessionId, t.createdAt, t.expiresAt, t.revokedAt);
  }

  async portalTokenByHash(hash: string): Promise<PortalTokenRecord | null> {
    const r = this.q('SELECT * FROM portal_tokens WHERE hash = ?').get(hash) as Row | undefined;
    return r ? toPortalToken(r) : null;
  }

  async revokePortalToken(id: string, nowMs: number): Promise<void> {
    this.q('UPDATE portal_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(nowMs, id);
  }

  async expirePortalTokens(appId: string, atMs: number, sessionIds: string[] | null, nowMs: number): Promise<number> {
    const base = 'UPDATE portal_tokens SET expires_at = ? WHERE app_id = ? AND expires_at > ? AND expires_at > ? AND revoked_at IS NULL';
    if (sessionIds === null) return this.q(base).run(atMs, appId, atMs, nowMs).changes;
    if (sessionIds.length === 0) return 0;
    const sql = `${base} AND session_id IN (${sessionIds.map(() => '?').join(', ')})`;
    return this.db.prepare(sql).run(atMs, appId, atMs, nowMs, ...sessionIds).changes;
  }

  // ---- key rotation

  async rewrapSecrets(): Promise<SecretScan> {
    const scan: SecretScan = { byKey: {}, rewrapped: 0, unopened: 0 };
    const tables = (this.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).all() as Row[]).map((r) => r.name as string);
    const quote = (n: string) => '"' + n.replace(/"/g, '""') + '"';
    this.db.transaction(() => {
      for (const table of tables) {
        if (BULK_TABLES.has(table)) continue;
        const info = this.db.prepare(`PRAGMA table_info(${quote(table)})`).all() as Row[];
        for (const col of info.map((c) => c.name as string)) {
          const whole = WHOLE_SECRET_COLUMNS.has(`${table}.${col}`);
          const filter = whole ? `typeof(${quote(col)}) = 'text'` : `typeof(${quote(col)}) = 'text' AND instr(${quote(col)}, 'sbenc:v1:') > 0`;
          let rows: Row[];
          try {
            rows = this.db.prepare(`SELECT rowid AS r, ${quote(col)} AS v FROM ${quote(table)} WHERE ${filter}`).all() as Row[];
          } catch {
            continue; // a WITHOUT ROWID table: none of ours hold secrets
          }
          const update = this.db.prepare(`UPDATE ${quote(table)} SET ${quote(col)} = ? WHERE rowid = ?`);
          for (const row of rows) {
            const text = row.v as string;
            for (const m of text.matchAll(SEALED_PATTERN)) scan.byKey[m[1]!] = (scan.byKey[m[1]!] ?? 0) + 1;
            const next = this.box.rewrap(text, whole);
            scan.unopened += next.unopened;
            if (next.text !== null) {
              update.run(next.text, row.r);
              scan.rewrapped++;
            }
          }
        }
      }
    }).immediate();
    return scan;
  }
}
