/** The AuthStore on PostgreSQL: credentials tables of migration 0004. */
import type { Sql } from 'postgres';
import { SEALED_PATTERN } from '../../security/crypto.js';
import type { SecretBox } from '../../security/crypto.js';
import type {
  ApiKeyRecord,
  AuthStore,
  OAuthClientRecord,
  PortalTokenRecord,
  SecretScan,
  SigningKeyRecord,
} from '../contract/auth.js';
import { pgPage } from './paging.js';
import type { Params } from './paging.js';
import type { Page, PageQuery } from '../contract/paging.js';
import { num, toApiKey, toClient, toPortalToken } from '../shared/rows.js';
import type { Row } from '../shared/rows.js';

/** Columns that hold a secret as a whole value: sealed even if written before encryption was on. */
const WHOLE_SECRET_COLUMNS = new Set(['endpoints.secrets', 'endpoints.headers', 'oauth_signing_keys.private_jwk', 'integrations.sealed_key']);
/** Tables of bulk data that never hold sealed values; skipped by the re-encryption scan. */
const BULK_TABLES = new Set(['messages', 'attempts', 'deliveries', 'idempotency_keys', 'schema_migrations']);

export class PgAuthStore implements AuthStore {
  constructor(
    private readonly sql: Sql,
    private readonly box: SecretBox,
  ) {}

  /** One page of `table` by id, of one application's rows if `appId` is given. */
  private async page<T>(table: string, appId: string | undefined, q: PageQuery, map: (r: Row) => T): Promise<Page<T>> {
    const where = (p: Params) => (appId !== undefined ? [`app_id = ${p.add(appId)}`] : []);
    return pgPage(this.sql, { from: table, key: 'id', where, defaultOrder: 'ascending', map }, q);
  }

  // ---- API keys

  async createApiKey(k: ApiKeyRecord): Promise<void> {
    await this.sql`
      INSERT INTO api_keys (id, name, prefix, hash, app_id, scopes, created_at, expires_at, revoked_at, last_used_at)
      VALUES (${k.id}, ${k.name}, ${k.prefix}, ${k.hash}, ${k.appId}, ${JSON.stringify(k.scopes)}, ${k.createdAt}, ${k.expiresAt}, ${k.revokedAt}, ${k.lastUsedAt})`;
  }

  async apiKeyByHash(hash: string): Promise<ApiKeyRecord | null> {
    const [r] = await this.sql`SELECT * FROM api_keys WHERE hash = ${hash}`;
    return r ? toApiKey(r) : null;
  }

  async getApiKey(id: string): Promise<ApiKeyRecord | null> {
    const [r] = await this.sql`SELECT * FROM api_keys WHERE id = ${id}`;
    return r ? toApiKey(r) : null;
  }

  async listApiKeys(q: PageQuery & { appId?: string | undefined }): Promise<Page<ApiKeyRecord>> {
    return this.page('api_keys', q.appId, q, toApiKey);
  }

  async revokeApiKey(id: string, nowMs: number): Promise<boolean> {
    return (await this.sql`UPDATE api_keys SET revoked_at = ${nowMs} WHERE id = ${id} AND revoked_at IS NULL`).count > 0;
  }

  async touchApiKey(id: string, nowMs: number): Promise<void> {
    await this.sql`UPDATE api_keys SET last_used_at = ${nowMs} WHERE id = ${id}`;
  }

  // ---- OAuth clients and signing keys

  async createOAuthClient(c: OAuthClientRecord): Promise<void> {
    await this.sql`
      INSERT INTO oauth_clients (id, name, secret_hash, app_id, scopes, created_at, revoked_at, last_used_at)
      VALUES (${c.id}, ${c.name}, ${c.secretHash}, ${c.appId}, ${JSON.stringify(c.scopes)}, ${c.createdAt}, ${c.revokedAt}, ${c.lastUsedAt})`;
  }

  async getOAuthClient(id: string): Promise<OAuthClientRecord | null> {
    const [r] = await this.sql`SELECT * FROM oauth_clients WHERE id = ${id}`;
    return r ? toClient(r) : null;
  }

  async listOAuthClients(q: PageQuery): Promise<Page<OAuthClientRecord>> {
    return this.page('oauth_clients', undefined, q, toClient);
  }

  async revokeOAuthClient(id: string, nowMs: number): Promise<boolean> {
    return (await this.sql`UPDATE oauth_clients SET revoked_at = ${nowMs} WHERE id = ${id} AND revoked_at IS NULL`).count > 0;
  }

  async touchOAuthClient(id: string, nowMs: number): Promise<void> {
    await this.sql`UPDATE oauth_clients SET last_used_at = ${nowMs} WHERE id = ${id}`;
  }

  async createSigningKey(k: SigningKeyRecord): Promise<void> {
    await this.sql`
      INSERT INTO oauth_signing_keys (kid, alg, private_jwk, public_jwk, created_at, retired_at)
      VALUES (${k.kid}, ${k.alg}, ${this.box.seal(k.privateJwk)}, ${k.publicJwk}, ${k.createdAt}, ${k.retiredAt})`;
  }

  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    const rows = await this.sql`SELECT * FROM oauth_signing_keys ORDER BY created_at DESC, kid DESC`;
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
    await this.sql`UPDATE oauth_signing_keys SET retired_at = ${nowMs} WHERE kid <> ${kid} AND retired_at IS NULL`;
  }

  async pruneSigningKeys(beforeMs: number): Promise<number> {
    return (await this.sql`DELETE FROM oauth_signing_keys WHERE retired_at IS NOT NULL AND retired_at < ${beforeMs}`).count;
  }

  // ---- app-portal tokens

  async createPortalToken(t: PortalTokenRecord): Promise<void> {
    await this.sql`
      INSERT INTO portal_tokens (id, hash, app_id, scopes, session_id, created_at, expires_at, revoked_at)
      VALUES (${t.id}, ${t.hash}, ${t.appId}, ${JSON.stringify(t.scopes)}, ${t.sessionId}, ${t.createdAt}, ${t.expiresAt}, ${t.revokedAt})`;
  }

  async portalTokenByHash(hash: string): Promise<PortalTokenRecord | null> {
    const [r] = await this.sql`SELECT * FROM portal_tokens WHERE hash = ${hash}`;
    return r ? toPortalToken(r) : null;
  }

  async revokePortalToken(id: string, nowMs: number): Promise<void> {
    await this.sql`UPDATE portal_tokens SET revoked_at = ${nowMs} WHERE id = ${id} AND revoked_at IS NULL`;
  }

  async expirePortalTokens(appId: string, atMs: number, sessionIds: string[] | null, nowMs: number): Promise<number> {
    if (sessionIds !== null && sessionIds.length === 0) return 0;
    const r =
      sessionIds === null
        ? await this.sql`UPDATE portal_tokens SET expires_at = ${atMs}
            WHERE app_id = ${appId} AND expires_at > ${atMs} AND expires_at > ${nowMs} AND revoked_at IS NULL`
        : await this.sql`UPDATE portal_tokens SET expires_at = ${atMs}
            WHERE app_id = ${appId} AND expires_at > ${atMs} AND expires_at > ${nowMs} AND revoked_at IS NULL AND session_id = ANY(${sessionIds}::text[])`;
    return r.count;
  }

  // ---- key rotation

  async rewrapSecrets(): Promise<SecretScan> {
    const scan: SecretScan = { byKey: {}, rewrapped: 0, unopened: 0 };
    await this.sql.begin(async (tx) => {
      const cols = await tx`
        SELECT table_name AS t, column_name AS c FROM information_schema.columns
        WHERE table_schema = current_schema() AND data_type = 'text'
          -- A partition's rows are read through its table (the partitions of attempts are bulk data).
          AND table_name NOT IN (SELECT c.relname FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relispartition)
        ORDER BY table_name, ordinal_position`;
      for (const { t, c } of cols as Row[]) {
        const table = t as string;
        const col = c as string;
        if (BULK_TABLES.has(table)) continue;
        const whole = WHOLE_SECRET_COLUMNS.has(`${table}.${col}`);
        const rows = whole
          ? await tx`SELECT ctid::text AS r, ${tx(col)} AS v FROM ${tx(table)} WHERE ${tx(col)} IS NOT NULL`
          : await tx`SELECT ctid::text AS r, ${tx(col)} AS v FROM ${tx(table)} WHERE strpos(${tx(col)}, 'sbenc:v1:') > 0`;
        for (const row of rows) {
          const text = row.v as string;
          for (const m of text.matchAll(SEALED_PATTERN)) scan.byKey[m[1]!] = (scan.byKey[m[1]!] ?? 0) + 1;
          const next = this.box.rewrap(text, whole);
          scan.unopened += next.unopened;
          if (next.text !== null) {
            await tx`UPDATE ${tx(table)} SET ${tx(col)} = ${next.text} WHERE ctid = ${row.r as string}::tid`;
            scan.rewrapped++;
          }
        }
      }
    });
    return scan;
  }
}
